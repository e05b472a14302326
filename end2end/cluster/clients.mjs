// Load clients for the drill: each issues, lists, downloads and (every third) revokes through the load balancer with
// an idempotency key per request, retrying connection errors, 502/503/504 and 409 "still being issued" with the same key (a refusal that says
// the request failed gets a new key). Every attempt lands in `timeline` for the per-fault error rates.
import { randomUUID } from 'node:crypto';
import { baseUrl } from './session.mjs';

const RETRYABLE = new Set([502, 503, 504]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Recorder {
  timeline = []; // { at (ms since start), ok, what }
  start = Date.now();
  note(ok, what) {
    this.timeline.push({ at: Date.now() - this.start, ok, what });
  }
}

// One HTTP call with the token; a network error is { status: 0 }. Recorded either way.
async function call(recorder, token, method, path, body, headers = {}) {
  const what = `${method} ${path.replace(/[0-9a-f-]{36}/g, '{id}').split('?')[0]}`;
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(45_000),
    });
    const text = await response.text();
    recorder.note(response.status < 500, what);
    return { status: response.status, text };
  } catch (error) {
    recorder.note(false, what);
    return { status: 0, text: String(error) };
  }
}

// Retries `attempt` (which returns { status, text }) while it fails like a restart would, for at most `limitMs`.
async function withRetry(limitMs, attempt) {
  const deadline = Date.now() + limitMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
    const result = await attempt();
    // 409 "still being issued": the key's first attempt is running (or its replica died; the reconciler settles it).
    const busy = result.status === 409 && /still being issued/.test(result.text);
    if ((result.status !== 0 && !RETRYABLE.has(result.status) && !busy) || Date.now() > deadline) return result;
    await sleep(delay);
  }
}

// One logical request: the keys it used (a failed request is retried under a new key) and its certificate.
export async function issue(recorder, token, name, keys) {
  const body = { issuer_id: 'private', dns_names: [name], validity_days: 1, key: { source: 'generate', key_type: 'ec-p256' } };
  // An issuer outage fails requests (503, `failed`): a new key after a pause, for at most four minutes.
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const key = randomUUID();
    keys.push(key);
    // Up to 3 minutes: a request whose replica died mid-issuance is settled by the reconciler after 2.
    const result = await withRetry(180_000, () =>
      call(recorder, token, 'POST', '/api/v1/certificates', body, { 'idempotency-key': key }),
    );
    if ([200, 201, 202].includes(result.status)) {
      const created = JSON.parse(result.text);
      if (created.status === 'issued') return created.id;
      // A replica died between the intent and the issuer's answer: the reconciler finishes it (see drill.mjs).
      if (created.status === 'pending') return created.id;
    }
    if (result.status === 0 || RETRYABLE.has(result.status)) {
      // Still failing after a minute: the same key once more, later, says what became of the request.
      continue;
    }
    if (!/failed/.test(result.text)) throw new Error(`request for ${name} answered ${result.status}: ${result.text}`);
    await sleep(1000);
  }
  throw new Error(`no certificate for ${name} within four minutes (keys ${keys.join(', ')})`);
}

export async function listAndDownload(recorder, token, name, id) {
  const listed = await withRetry(60_000, () =>
    call(recorder, token, 'GET', `/api/v1/certificates?search=${encodeURIComponent(name)}`),
  );
  if (listed.status !== 200 || !listed.text.includes(id)) {
    throw new Error(`the list answered ${listed.status} without the certificate: ${listed.text.slice(0, 300)}`);
  }
  const download = await withRetry(60_000, () =>
    call(recorder, token, 'GET', `/api/v1/certificates/${id}/download?format=fullchain-pem`),
  );
  const blocks = download.text.split('BEGIN CERTIFICATE').length - 1;
  if (download.status !== 200 || blocks < 2) {
    throw new Error(`the download answered ${download.status} with ${blocks} certificates: ${download.text.slice(0, 300)}`);
  }
  return download.status;
}

export async function revoke(recorder, token, id) {
  const result = await withRetry(60_000, () =>
    call(recorder, token, 'POST', `/api/v1/certificates/${id}/revoke`, { reason: 'superseded' }),
  );
  if (result.status < 300 || /already/.test(result.text)) return;
  // The replica that took the first attempt died after recording the intent: the `revocations` job finishes it.
  if (result.status === 409 && /being revoked/.test(result.text)) {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const detail = await call(recorder, token, 'GET', `/api/v1/certificates/${id}`);
      if (detail.status === 200 && JSON.parse(detail.text).status === 'revoked') return;
      await sleep(1000);
    }
  }
  throw new Error(`revoke of ${id} answered ${result.status}: ${result.text}`);
}

// A client: logical requests until `until()` says stop; returns what it did and the error that stopped it, if any.
export async function runClient(recorder, token, label, until) {
  const done = [];
  try {
    await requests(recorder, token, label, until, done);
    return { done, error: null };
  } catch (error) {
    return { done, error: String(error) };
  }
}

async function requests(recorder, token, label, until, done) {
  for (let n = 0; !until(); n++) {
    const name = `drill-${label}-${n}-${Date.now()}.cluster.local`;
    const keys = [];
    const id = await issue(recorder, token, name, keys);
    const entry = { name, keys, id, revoked: false };
    done.push(entry);
    await listAndDownload(recorder, token, name, id);
    if (n % 3 === 0) {
      await revoke(recorder, token, id);
      entry.revoked = true;
    }
  }
}
