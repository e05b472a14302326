// deploy/kubernetes rendered as `kubectl apply -k` would send it: each overlay through kustomize (kubectl's built-in
// kustomize, offline), in a copy of the tree whose missing installation files (secrets/, trust/: never in git) are
// filled with placeholders of the right form, so the configuration they feed passes `certdesk config check`.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const KUBERNETES_DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
export const PLATFORM_DIR = join(KUBERNETES_DIR, 'platform-example');
/** Where certdesk's pods find their secrets; the placeholder database URL points at a closed loopback port. */
export const PLACEHOLDER_DATABASE_URL = 'postgres://certdesk:placeholder@127.0.0.1:1/certdesk';

// Placeholders for the installation's secret files, by name, each of the form certdesk's configuration demands.
// A file the kustomization names that is not here fails the check: add its placeholder.
const SECRET_PLACEHOLDERS = {
  'database-url': () => PLACEHOLDER_DATABASE_URL,
  'database-url-migrate': () => PLACEHOLDER_DATABASE_URL,
  'audit-chain-key': () => randomBytes(32).toString('hex'), // at least 32 bytes
  'oidc-client-secret': () => randomBytes(24).toString('hex'),
  'openbao-role-id': () => randomUUID(),
  'openbao-secret-id': () => randomUUID(),
  'metrics-token': () => randomBytes(24).toString('hex'), // at least 16 characters
};
const KEK = /^kek-[A-Za-z0-9._-]+$/; // one per [[encryption.keys]]: 32 bytes, base64

/** The overlays of deploy/kubernetes/overlays, by name. */
export function overlayNames() {
  return readdirSync(join(KUBERNETES_DIR, 'overlays'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** The files a kustomization's generators read (`key=path` or `path`), relative to its folder. */
function generatorFiles(kustomization) {
  return [...(kustomization.configMapGenerator ?? []), ...(kustomization.secretGenerator ?? [])].flatMap((generator) =>
    (generator.files ?? []).map((entry) => entry.slice(entry.indexOf('=') + 1)),
  );
}

function placeholder(file, folder) {
  const name = file.split('/').pop();
  if (file.startsWith('secrets/') && SECRET_PLACEHOLDERS[name]) return `${SECRET_PLACEHOLDERS[name]()}\n`;
  if (file.startsWith('secrets/') && KEK.test(name)) return `${randomBytes(32).toString('base64')}\n`;
  if (file.startsWith('trust/') && name.endsWith('.pem')) {
    // A real certificate, as root_ca and ca_bundle demand; it signs nothing.
    const pem = join(folder, `${name}.placeholder`);
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null',
      '-subj', `/CN=placeholder ${name}`, '-days', '1', '-out', pem,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(pem, 'utf8');
  }
  return undefined;
}

/** YAML documents of a file or a string as plain objects; a document with a syntax error throws. */
export function parseObjects(text, where) {
  return parseAllDocuments(text)
    .filter((document) => document.contents !== null)
    .map((document) => {
      if (document.errors.length) throw new Error(`${where}: ${document.errors.map((e) => e.message).join('; ')}`);
      return document.toJS();
    });
}

/** The platform's objects certdesk's manifests refer to (the Gateway, the ClusterIssuer). */
export function platformObjects() {
  return readdirSync(PLATFORM_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .flatMap((name) => parseObjects(readFileSync(join(PLATFORM_DIR, name), 'utf8'), join('platform-example', name)));
}

// kustomize writes long base64 Secret values as a block wrapped at 70 columns; the API server's base64 decoding skips
// the line breaks, the schema's "byte" format does not.
function unwrapSecretData(object) {
  if (object?.kind !== 'Secret' || !object.data) return object;
  const data = Object.fromEntries(Object.entries(object.data).map(([key, value]) => [key, value.replace(/\s+/g, '')]));
  return { ...object, data };
}

/**
 * Renders one overlay. Returns its objects and the names of the files that were filled with placeholders.
 * Throws with kustomize's own message when it cannot render.
 */
export function renderOverlay(name) {
  const work = mkdtempSync(join(tmpdir(), 'certdesk-kustomize-'));
  try {
    cpSync(KUBERNETES_DIR, work, { recursive: true });
    const folder = join(work, 'overlays', name);
    const [kustomization] = parseObjects(readFileSync(join(folder, 'kustomization.yaml'), 'utf8'), name);
    const filled = [];
    for (const file of generatorFiles(kustomization)) {
      const path = join(folder, file);
      if (existsSync(path)) continue;
      const content = placeholder(file, work);
      if (content === undefined) {
        throw new Error(`${name}: kustomization.yaml reads ${file}, which is not in git and for which this check has ` +
          'no placeholder (add one to end2end/deploy/render.mjs)');
      }
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content, { mode: 0o600 });
      filled.push(file);
    }
    let output;
    try {
      output = execFileSync('kubectl', ['kustomize', folder], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      if (error.code === 'ENOENT') {
        throw new Error('kubectl is not installed: it renders the kustomizations (kubectl >= 1.27, kustomize v5)');
      }
      throw new Error(`kubectl kustomize overlays/${name} failed: ${String(error.stderr).trim()}`);
    }
    return { objects: parseObjects(output, `kustomize output of ${name}`).map(unwrapSecretData), filled };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
