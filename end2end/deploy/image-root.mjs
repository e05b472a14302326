// The gate's check of the container image's files, after the release build: the folder deploy/assemble-image-root.sh
// laid out (what deploy/Containerfile copies into the image) holds the entry point and the site where the
// Containerfile says, nothing else, and the binary in it
//   - prints its version,
//   - passes `config check` on each overlay's certdesk.toml with exactly the files the Deployment and the migration
//     Job mount (placed under a scratch root, the paths in the configuration moved there alike),
//   - serves with the Deployment's configuration: /healthz, the site's wasm, the HTTP-01 listener, and stops on
//     SIGTERM within the Deployment's grace period with exit status 0.
// No network beyond loopback: the database URL is a closed loopback port, and nothing here calls an issuer.
//
//   node end2end/deploy/image-root.mjs IMAGE_ROOT
import { execFileSync, spawn } from 'node:child_process';
import {
  accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, stringify } from 'smol-toml';
import { runtimeImage } from './containerfile.mjs';
import { namedFiles, portOf, workloadConfig } from './config.mjs';
import { overlayNames, renderOverlay } from './render.mjs';
import { mountedFiles } from './volumes.mjs';

const SITE_FILES = ['pkg/certdesk.js', 'pkg/certdesk.wasm', 'pkg/certdesk.css', 'pkg/__wasm_split_manifest.json'];
const CARGO_TOML = new URL('../../Cargo.toml', import.meta.url);

const root = resolve(process.argv[2] ?? '');
if (!process.argv[2]) {
  console.error('usage: node end2end/deploy/image-root.mjs IMAGE_ROOT');
  process.exit(2);
}

function allFiles(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? allFiles(path) : [path];
  });
}

/** The layout: the entry point and the site where the Containerfile says, and nothing else. */
function layoutProblems(image) {
  const problems = [];
  const binary = join(root, image.entrypoint[0] ?? '');
  const site = image.env.CERTDESK_SERVER__SITE_ROOT;
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    problems.push(`the entry point ${image.entrypoint[0]} is not an executable file in ${root}`);
  }
  if (!site) problems.push('deploy/Containerfile sets no CERTDESK_SERVER__SITE_ROOT');
  for (const file of site ? SITE_FILES : []) {
    if (!statSync(join(root, site, file), { throwIfNoEntry: false })?.size) problems.push(`the site has no ${file}`);
  }
  const siteFolder = `${join(root, site ?? '/-')}/`;
  const strays = allFiles(root).filter((path) => path !== binary && !path.startsWith(siteFolder));
  if (strays.length) problems.push(`files the image should not have: ${strays.map((p) => relative(root, p))}`);
  return problems;
}

/** The mounted files under `scratch`, and the configuration with every path it names moved there too. */
function placeMounts(files, config, scratch) {
  for (const [path, file] of files) {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), file.content, { mode: 0o600 });
  }
  const moved = structuredClone(config);
  for (const { key, path } of namedFiles(config)) {
    const steps = key.match(/[^.[\]]+/g);
    const holder = steps.slice(0, -1).reduce((value, step) => value[step], moved);
    holder[steps.at(-1)] = join(scratch, path);
  }
  return moved;
}

function run(binary, args, env) {
  try {
    const stdout = execFileSync(binary, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout };
  } catch (error) {
    return { status: error.status, stdout: String(error.stdout ?? ''), stderr: String(error.stderr ?? '') };
  }
}

const freePort = () =>
  new Promise((resolvePort, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });

async function fetchStatus(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, type: response.headers.get('content-type'), body };
  } catch (error) {
    return { status: 0, error: error.message };
  }
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** `serve` from the layout with the Deployment's files; what it answered and how it stopped. */
async function serveProblems(binary, env, deployment, config) {
  const problems = [];
  const [http, http01] = [await freePort(), await freePort()];
  const child = spawn(binary, ['serve'], {
    env: { ...env, CERTDESK_SERVER__LISTEN: `127.0.0.1:${http}`, CERTDESK_ACME__HTTP01_LISTEN: `127.0.0.1:${http01}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => (log = (log + chunk).slice(-4000)));
  const exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const base = `http://127.0.0.1:${http}`;
  let health = { status: 0 };
  for (let tries = 0; tries < 100 && health.status !== 200 && child.exitCode === null; tries++) {
    await sleep(100);
    health = await fetchStatus(`${base}/healthz`);
  }
  let rss = 'unknown';
  try {
    rss = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)?.[1];
  } catch {
    // gone already: reported below
  }
  if (health.status !== 200) problems.push(`serve did not answer /healthz with 200 (${health.status}): ${log.trim()}`);
  else {
    const wasm = await fetchStatus(`${base}/pkg/certdesk.wasm`);
    if (wasm.status !== 200 || wasm.type !== 'application/wasm' || wasm.body.length === 0) {
      problems.push(`serve did not serve the site's /pkg/certdesk.wasm (${wasm.status} ${wasm.type})`);
    }
    // A token too short to be one is refused by the responder itself, without a database round trip.
    const answer = await fetchStatus(`http://127.0.0.1:${http01}/.well-known/acme-challenge/x`);
    if (config.acme?.http01_listen && (answer.status !== 404 || String(answer.body) !== 'no such challenge')) {
      problems.push(`the HTTP-01 listener did not answer as the responder (${answer.status || answer.error})`);
    }
  }
  const grace = deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30;
  const started = Date.now();
  child.kill('SIGTERM');
  let deadline;
  const outcome = await Promise.race([exited, new Promise((done) => (deadline = setTimeout(done, grace * 1000)))]);
  clearTimeout(deadline);
  if (!outcome) {
    child.kill('SIGKILL');
    problems.push(`serve did not stop within ${grace} s of SIGTERM`);
  } else if (outcome.code !== 0) {
    problems.push(`serve stopped on SIGTERM with ${outcome.code ?? outcome.signal}, not 0: ${log.trim()}`);
  }
  return { problems, rss, stopMs: Date.now() - started };
}

async function overlayProblems(name, image, binary) {
  const problems = [];
  const notes = [];
  const { objects } = renderOverlay(name);
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
  for (const workload of workloads) {
    const where = `overlays/${name} ${workload.kind} ${workload.metadata.name}`;
    const pod = workload.spec.template.spec;
    const { files, problems: mountProblems } = mountedFiles(pod, pod.containers[0], objects, where);
    const loaded = workloadConfig(files, image, where);
    if (mountProblems.length || loaded.problem) {
      problems.push(...mountProblems, ...(loaded.problem ? [loaded.problem] : []));
      continue;
    }
    const scratch = mkdtempSync(join(tmpdir(), 'certdesk-image-root-'));
    try {
      const configPath = join(scratch, loaded.path);
      const moved = placeMounts(files, loaded.config, scratch);
      writeFileSync(configPath, stringify(moved));
      // The image's environment, its paths moved under the layout and the scratch root; nothing of the caller's.
      const env = {
        PATH: '/usr/bin:/bin',
        ...image.env,
        CERTDESK_CONFIG: configPath,
        CERTDESK_SERVER__SITE_ROOT: join(root, image.env.CERTDESK_SERVER__SITE_ROOT),
      };
      for (const { name: variable, value } of pod.containers[0].env ?? []) env[variable] = value;
      const check = run(binary, ['config', 'check'], env);
      if (check.status !== 0 || !check.stdout.startsWith('configuration OK')) {
        problems.push(`${where}: config check exited ${check.status}: ${(check.stderr || check.stdout).trim()}`);
        continue;
      }
      notes.push(`${workload.kind} ${workload.metadata.name}: config check OK`);
      if (workload.kind === 'Deployment') {
        const served = await serveProblems(binary, env, workload, parse(loaded.text));
        problems.push(...served.problems.map((problem) => `${where}: ${problem}`));
        notes.push(`serve answered and stopped in ${served.stopMs} ms (resident ${Math.round(served.rss / 1024)} MiB)`);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return { problems, notes };
}

const problems = [];
const notes = [];
try {
  const image = runtimeImage();
  problems.push(...layoutProblems(image));
  const binary = join(root, image.entrypoint[0] ?? '');
  if (problems.length === 0) {
    const version = run(binary, ['--version'], { PATH: '/usr/bin:/bin' });
    const expected = readFileSync(CARGO_TOML, 'utf8').match(/\[workspace\.package\][^[]*?version = "([^"]+)"/)?.[1];
    if (version.stdout.trim() !== `certdesk ${expected}`) {
      problems.push(`certdesk --version printed "${version.stdout.trim()}", not "certdesk ${expected}"`);
    }
    for (const name of overlayNames()) {
      const result = await overlayProblems(name, image, binary);
      problems.push(...result.problems);
      notes.push(...result.notes.map((note) => `overlays/${name} ${note}`));
    }
  }
} catch (error) {
  problems.push(error.message);
}

if (problems.length) {
  console.error(`the container image's files in ${root} are not right:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`image files in ${root} valid: ${notes.join('; ')}`);
