// A person's session and API token for the cluster scripts: a real sign-in at the stack's OpenID provider through
// the load balancer (no backdoor), then the UI's own server functions (same origin, second factor just proven) to
// make a read-write API token and point the person's webhook at the drill's receiver.
import { loginUntilCallback } from '../tests/http-login.mjs';

export const baseUrl = process.env.CERTDESK_E2E_URL;
if (!baseUrl) throw new Error('CERTDESK_E2E_URL is not set: run this through end2end/stack.sh cluster-test');
export const replicaUrls = (process.env.CERTDESK_CLUSTER_REPLICAS ?? '').trim().split(/\s+/).filter(Boolean);

// Signs `username` in through `baseUrl`; returns the cookie header that carries the session.
export async function signIn(username) {
  const { client, callbackUrl } = await loginUntilCallback(baseUrl, username);
  const response = await client.fetch(callbackUrl);
  if (![302, 303].includes(response.status)) throw new Error(`callback answered ${response.status}`);
  const cookies = client.jar.get(new URL(baseUrl).origin) ?? new Map();
  if (cookies.size === 0) throw new Error('no session cookie after the callback');
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

// Calls server function `name` with the session cookie at `origin` (a replica or the balancer), as the UI does.
export async function rpc(cookie, name, body, origin = baseUrl) {
  const response = await fetch(`${origin}/rpc/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, origin: baseUrl },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as text in the error below
  }
  return { status: response.status, body: json ?? text };
}

export async function createToken(cookie, name) {
  const input = { name, scope: 'read_write', expires_in_days: 1, private_keys: false };
  const { status, body } = await rpc(cookie, 'create_api_token', { input });
  if (status !== 200) throw new Error(`create_api_token answered ${status}: ${JSON.stringify(body)}`);
  const secret = body.secret ?? body.token;
  if (!/^cdk_/.test(secret ?? '')) throw new Error(`no token in ${JSON.stringify(body)}`);
  return secret;
}

export async function setWebhook(cookie, url) {
  const input = { email_enabled: false, webhook_url: url, new_secret: true };
  const { status, body } = await rpc(cookie, 'save_notification_settings', { input });
  if (status !== 200) throw new Error(`save_notification_settings answered ${status}: ${JSON.stringify(body)}`);
}
