// What the drill asserts afterwards, each from the system's own records: certificates per idempotency key in
// PostgreSQL, the CRL the balancer serves, webhook deliveries as the receiver got them, the audit chain.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { baseUrl } from './session.mjs';

const run = promisify(execFile);
const stackDir = process.env.CERTDESK_E2E_STACK_DIR;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Rows of a query as arrays of strings (psql unaligned, tab-separated).
export async function sql(query) {
  const url = readFileSync(join(stackDir, 'postgres', 'url'), 'utf8').trim();
  const { stdout } = await run('psql', ['-X', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', url, '-c', query]);
  return stdout.split('\n').filter(Boolean).map((line) => line.split('\t'));
}

// polls `check` (returns true when satisfied) every second for at most `seconds`.
export async function eventually(seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(1000);
  }
  return true;
}

// Every logical request ended with exactly one certificate: among the rows of all its keys one is issued (or
// revoked since) and it is the one the client was given; the others failed. Returns problems.
export async function exactlyOnePerRequest(entries) {
  const rows = await sql("SELECT idempotency_key, id, status FROM certificates WHERE idempotency_key IS NOT NULL");
  const byKey = new Map();
  for (const [key, id, status] of rows) byKey.set(key, [...(byKey.get(key) ?? []), { id, status }]);
  const problems = [];
  for (const entry of entries) {
    const found = entry.keys.flatMap((key) => byKey.get(key) ?? []);
    const live = found.filter((row) => row.status === 'issued' || row.status === 'revoked');
    if (live.length !== 1 || live[0].id !== entry.id) problems.push(`${entry.name}: ${JSON.stringify(found)}`);
    for (const key of entry.keys) if ((byKey.get(key) ?? []).length > 1) problems.push(`key ${key}: several rows`);
  }
  return problems;
}

export async function pendingCount() {
  const [[count]] = await sql("SELECT count(*) FROM certificates WHERE status = 'pending'");
  return Number(count);
}

// Serials (lower-case hex, no colons) in the private issuer's CRL as the balancer serves it.
export async function servedCrlSerials() {
  const response = await fetch(`${baseUrl}/crl/private.crl`);
  if (response.status !== 200) return new Set();
  const der = Buffer.from(await response.arrayBuffer());
  const child = execFile('openssl', ['crl', '-inform', 'DER', '-noout', '-text']);
  const output = new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`openssl crl exited ${code}`))));
  });
  child.stdin.end(der);
  const text = await output;
  return new Set([...text.matchAll(/Serial Number: ([0-9A-F]+)/gi)].map((m) => m[1].toLowerCase().replace(/^0+/, '')));
}

export async function serialsOf(ids) {
  if (ids.length === 0) return [];
  const list = ids.map((id) => `'${id}'`).join(',');
  const rows = await sql(`SELECT serial FROM certificates WHERE id IN (${list})`);
  return rows.map(([serial]) => serial.toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+/, ''));
}

export async function duplicateNotifications() {
  return sql(
    'SELECT event_key, channel, count(*) FROM notifications GROUP BY event_key, channel HAVING count(*) > 1',
  );
}

export async function auditVerify() {
  try {
    const { stdout } = await run(process.env.CERTDESK_BINARY, ['audit', 'verify'], {
      env: { ...process.env, CERTDESK_CONFIG: join(stackDir, 'portal', 'replica-1.toml') },
    });
    return { ok: true, output: stdout.trim() };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` };
  }
}
