// certdesk.toml as a workload sees it: the file the image's CERTDESK_CONFIG names among the container's mounted
// files, parsed, and the files it names in turn (every `*_file` secret, `ca_bundle`, `root_ca`).
import { parse } from 'smol-toml';

const FILE_KEY = /(_file|^ca_bundle|^root_ca)$/;

/** Dotted key → path for every file the configuration names. */
export function namedFiles(config) {
  const found = [];
  const walk = (value, key) => {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${key}[${i}]`));
    else if (value !== null && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) walk(inner, key ? `${key}.${name}` : name);
    } else if (typeof value === 'string' && FILE_KEY.test(key.split('.').pop())) found.push({ key, path: value });
  };
  walk(config, '');
  return found;
}

/** The port of an `address:port` (`0.0.0.0:3000`, `[::]:3000`). */
export function portOf(listen) {
  return Number(String(listen).split(':').pop());
}

/**
 * The configuration a workload's container reads: { path, text, config } from its mounted files, or a problem
 * string.
 */
export function workloadConfig(files, image, where) {
  const path = image.env.CERTDESK_CONFIG;
  if (!path) return { problem: 'deploy/Containerfile sets no CERTDESK_CONFIG' };
  const file = files.get(path);
  if (!file) return { problem: `${where}: no volume provides ${path}, the configuration the image reads` };
  try {
    return { path, text: file.content, config: parse(file.content), from: file.from };
  } catch (error) {
    return { problem: `${where}: ${path} (${file.from}) is not valid TOML: ${error.message}` };
  }
}
