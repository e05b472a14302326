// What deploy/Containerfile says about the runtime image (its last stage): environment, user, ports, health check,
// entry point and command, for the checks that hold the manifests and the image's files to it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CONTAINERFILE = fileURLToPath(new URL('../../deploy/Containerfile', import.meta.url));

/** `ENV A=1 B=2` (no quoting in our Containerfile: values are paths). */
function envPairs(text) {
  return Object.fromEntries(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`deploy/Containerfile: ENV ${pair} is not NAME=value`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}

function execForm(instruction, text) {
  try {
    const form = JSON.parse(text);
    if (Array.isArray(form) && form.every((part) => typeof part === 'string')) return form;
  } catch {
    // reported below
  }
  throw new Error(`deploy/Containerfile: ${instruction} must be in exec form (a JSON array of strings): ${text}`);
}

/** The runtime stage's instructions, continuation lines joined. */
export function runtimeImage(path = CONTAINERFILE) {
  const instructions = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, instruction, rest] = line.match(/^(\S+)\s*(.*)$/);
      return { instruction: instruction.toUpperCase(), rest: rest.trim() };
    });
  const lastFrom = instructions.findLastIndex(({ instruction }) => instruction === 'FROM');
  const image = { env: {}, user: undefined, expose: [], healthcheck: undefined, entrypoint: [], cmd: [] };
  for (const { instruction, rest } of instructions.slice(lastFrom + 1)) {
    if (instruction === 'ENV') Object.assign(image.env, envPairs(rest));
    else if (instruction === 'USER') image.user = rest;
    else if (instruction === 'EXPOSE') image.expose.push(...rest.split(/\s+/).map((port) => Number.parseInt(port, 10)));
    else if (instruction === 'ENTRYPOINT') image.entrypoint = execForm('ENTRYPOINT', rest);
    else if (instruction === 'CMD') image.cmd = execForm('CMD', rest);
    else if (instruction === 'HEALTHCHECK') {
      const command = rest.match(/\bCMD\s+(\[.*\])$/);
      if (!command) throw new Error(`deploy/Containerfile: HEALTHCHECK needs CMD in exec form: ${rest}`);
      image.healthcheck = execForm('HEALTHCHECK CMD', command[1]);
    }
  }
  return image;
}
