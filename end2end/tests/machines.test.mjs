// The Machines page in Chromium: a person creates an ACME account key (inline validation, step-up satisfied by
// the fresh sign-in), sees its EAB key id and HMAC key once with working copy buttons and snippets carrying the
// real directory URL; a real ACME newAccount with External Account Binding (signed here with node's crypto) makes
// an account that the page lists; its machine orders a name the stack lets platform-team get without a challenge
// and one that waits for its challenge, and the page lists both orders, the first with its certificate (owned by
// the person, marked with the key in the inventory); the person deactivates the account and revokes the key, each
// after a confirmation; an admin sees that account among everyone's, with its owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, launch, openPage, waitForHydration, screenshot } from './browser.mjs';
import { signIn } from './idp.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// The key the person's test makes; the admin's test finds its account.
let keyName;

const b64url = (data) => Buffer.from(data).toString('base64url');

// A JWS in the flattened serialization (RFC 8555 §6.2), signed with the machine's ES256 key: by its `jwk` for
// newAccount, by its account URL (`kid`) after.
function jws(privateKey, header, payload) {
  const protectedHeader = b64url(JSON.stringify(header));
  const body = payload === '' ? '' : b64url(JSON.stringify(payload));
  const signature = sign('sha256', Buffer.from(`${protectedHeader}.${body}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return JSON.stringify({ protected: protectedHeader, payload: body, signature: b64url(signature) });
}

async function nonceOf(directory) {
  return (await fetch(directory.newNonce, { method: 'HEAD' })).headers.get('replay-nonce');
}

// RFC 8555 §7.3 newAccount with §7.3.4 External Account Binding, as cert-manager, certbot or lego send it. Returns
// the response and the machine: its key and directory, for the orders it makes next.
async function newAccount(directoryUrl, keyId, hmacKey, contact) {
  const directory = await (await fetch(directoryUrl)).json();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const jwk = { kty, crv, x, y };
  const eabProtected = b64url(JSON.stringify({ alg: 'HS256', kid: keyId, url: directory.newAccount }));
  const eabPayload = b64url(JSON.stringify(jwk));
  const eabSignature = createHmac('sha256', Buffer.from(hmacKey, 'base64url'))
    .update(`${eabProtected}.${eabPayload}`)
    .digest('base64url');
  const payload = {
    termsOfServiceAgreed: true,
    contact: [contact],
    externalAccountBinding: { protected: eabProtected, payload: eabPayload, signature: eabSignature },
  };
  const header = { alg: 'ES256', jwk, nonce: await nonceOf(directory), url: directory.newAccount };
  const response = await fetch(directory.newAccount, {
    method: 'POST',
    headers: { 'content-type': 'application/jose+json' },
    body: jws(privateKey, header, payload),
  });
  return { response, machine: { directory, privateKey, account: response.headers.get('location') } };
}

// A POST by the machine's account (`payload` '' is POST-as-GET); the answer's JSON, status and Location.
async function post(machine, url, payload) {
  const header = { alg: 'ES256', kid: machine.account, nonce: await nonceOf(machine.directory), url };
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: jws(machine.privateKey, header, payload) });
  const text = await response.text();
  return { status: response.status, location: response.headers.get('location'), text, json: text.startsWith('{') ? JSON.parse(text) : null };
}

// A CSR for `name` with a fresh P-256 key, DER, as a client makes it (openssl, as certbot's would be).
function csrFor(name) {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-csr-'));
  const out = join(dir, 'csr.der');
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    '-outform', 'DER', '-out', out], { stdio: 'pipe' });
  return readFileSync(out);
}

test('a person creates an ACME account key, copies it once, sees the account it makes, and ends both', async () => {
  const { context, page, errors } = await openPage(browser, { permissions: ['clipboard-read', 'clipboard-write'] });
  await signIn(page, baseUrl, 'user21', '/machines');
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name: 'Machines' }).waitFor();
  // The gate's stack starts empty; a kept database (a rerun on the same stack) lists an earlier run's keys instead.
  const empty = page.getByRole('region', { name: 'No ACME account keys yet' });
  await empty.or(page.getByRole('table', { name: 'Your ACME account keys' })).waitFor();
  if (await empty.isVisible()) {
    await page.getByText('No ACME account yet.').waitFor();
    await screenshot(page, 'machines-empty');
  }

  // Inline validation, as you type.
  const name = page.getByLabel('Name', { exact: true });
  await name.focus();
  await name.blur();
  await page.getByText('Give the key a name').waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  keyName = `prod-cluster-${Date.now()}`;
  await name.fill(keyName);
  assert.equal(await name.getAttribute('aria-invalid'), 'false');
  const names = page.getByLabel('Restrict to names');
  await names.fill('www.example.test\nnot_a_name');
  await names.blur();
  await page.getByText('`not_a_name` is neither a DNS name').waitFor();
  await names.fill('*.priv.example.test\n*.svc.cluster.local');
  await page.getByLabel('Expires after').selectOption('30');
  await page.getByRole('button', { name: 'Create key' }).click();

  // Shown once: the EAB key id and HMAC key, and snippets with the real directory URL.
  await page.getByRole('heading', { name: `Your ACME account key “${keyName}”` }).waitFor();
  const keyId = await page.getByLabel('EAB key ID').inputValue();
  const hmacKey = await page.getByLabel('HMAC key').inputValue();
  assert.match(keyId, /^cdk-eab-[A-Za-z0-9_-]+$/);
  assert.match(hmacKey, /^[A-Za-z0-9_-]{43}$/);
  const directoryUrl = `${baseUrl}/acme/private/directory`;
  assert.equal(await page.getByLabel('Directory URL').inputValue(), directoryUrl);
  const certManager = await page.getByLabel('cert-manager configuration').textContent();
  assert.ok(certManager.includes(`server: ${directoryUrl}\n`), certManager);
  assert.ok(certManager.includes(`keyID: ${keyId}\n`), certManager);
  assert.ok(certManager.includes(`secret: ${Buffer.from(hmacKey).toString('base64')}\n`), certManager);
  assert.ok(certManager.includes('gatewayHTTPRoute:'), certManager);
  const certbot = await page.getByLabel('certbot command').textContent();
  assert.ok(certbot.includes(`certbot certonly --server ${directoryUrl}`), certbot);
  assert.ok(certbot.includes(`--eab-kid ${keyId} --eab-hmac-key ${hmacKey}`), certbot);
  assert.ok(certbot.includes('--standalone -d host.priv.example.test'), certbot);
  const lego = await page.getByLabel('lego command').textContent();
  assert.ok(lego.includes(`lego --server ${directoryUrl}`) && lego.includes(`--eab --kid ${keyId} --hmac ${hmacKey}`), lego);
  assert.ok(lego.trim().endsWith('--http run'), lego);

  // The copy button puts the value on the clipboard and says so in a live region.
  await page.getByRole('button', { name: 'Copy HMAC key' }).click();
  await page.getByText('Copied to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), hmacKey);
  await page.getByRole('button', { name: 'Copy certbot command' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), certbot);
  const row = page.getByRole('row', { name: new RegExp(keyName) });
  await row.waitFor();
  await row.getByText('*.priv.example.test').waitFor();
  await screenshot(page, 'machines-key-created');

  // A machine uses the key: the account is the person's, listed on the page.
  const { response: created, machine } = await newAccount(directoryUrl, keyId, hmacKey, 'mailto:ops@example.test');
  assert.equal(created.status, 201, await created.text());

  // Its orders: a name inside the cluster, which the stack lets platform-team have without a challenge, is ready at
  // once and finalized with the machine's CSR; a name under priv.example.test waits for its challenge.
  const stamp = Date.now();
  const inCluster = `api-${stamp}.shop.svc.cluster.local`;
  const ready = await post(machine, machine.directory.newOrder, { identifiers: [{ type: 'dns', value: inCluster }] });
  assert.equal(ready.status, 201, ready.text);
  assert.equal(ready.json.status, 'ready', ready.text);
  const finalized = await post(machine, ready.json.finalize, { csr: b64url(csrFor(inCluster)) });
  assert.ok([200, 201].includes(finalized.status), finalized.text);
  let order = finalized.json;
  for (let i = 0; i < 60 && order.status !== 'valid'; i += 1) {
    assert.notEqual(order.status, 'invalid', JSON.stringify(order));
    await new Promise((resolve) => setTimeout(resolve, 500));
    order = (await post(machine, ready.location, '')).json;
  }
  assert.equal(order.status, 'valid', JSON.stringify(order));
  const waiting = `web-${stamp}.priv.example.test`;
  const pending = await post(machine, machine.directory.newOrder, { identifiers: [{ type: 'dns', value: waiting }] });
  assert.equal(pending.status, 201, pending.text);
  assert.equal(pending.json.status, 'pending', pending.text);

  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('HMAC key').count(), 0, 'the HMAC key is shown once');
  const accountRow = page.getByRole('row', { name: new RegExp(`${keyName}.*ops@example.test`) });
  await accountRow.getByText('Valid').waitFor();
  const orders = page.getByRole('table', { name: 'Recent ACME orders' });
  const issuedOrder = orders.getByRole('row', { name: new RegExp(inCluster) });
  await issuedOrder.getByText('valid', { exact: true }).waitFor();
  await orders.getByRole('row', { name: new RegExp(waiting) }).getByText('pending', { exact: true }).waitFor();
  await screenshot(page, 'machines-listed');

  // The certificate is the person's, in their inventory, marked with the key its machine used.
  await issuedOrder.getByRole('link', { name: 'View certificate' }).click();
  await page.getByRole('heading', { level: 1, name: inCluster }).waitFor();
  await page.getByText(`ACME: ${keyName}`).first().waitFor();
  await screenshot(page, 'machines-certificate');
  await page.goBack();
  await waitForHydration(page);

  // Deactivating asks first, then the account says so.
  await page.getByRole('button', { name: `Deactivate the private account of ${keyName}` }).click();
  await page.getByText(`Deactivate the private account of “${keyName}”?`).waitFor();
  await page.getByRole('button', { name: 'Yes, deactivate' }).click();
  await accountRow.getByText('Deactivated').waitFor();

  // Revoking asks first; the key is refused from then on.
  await page.getByRole('button', { name: `Revoke ${keyName}` }).click();
  await page.getByRole('button', { name: 'Yes, revoke' }).click();
  await page.getByRole('row', { name: new RegExp(keyName) }).first().getByText('Revoked').waitFor();
  const { response: refused } = await newAccount(directoryUrl, keyId, hmacKey, 'mailto:ops@example.test');
  assert.equal(refused.status, 401, 'a revoked key binds no new account');
  assert.deepEqual(errors, []);
  await context.close();
});

test("an admin sees everyone's ACME accounts with their owners", async () => {
  assert.ok(keyName, "runs after the person's test");
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'admin21', '/machines');
  await waitForHydration(page);
  await page.getByRole('heading', { level: 2, name: "Everyone's ACME accounts" }).waitFor();
  const row = page.getByRole('row', { name: new RegExp(`${keyName}.*Test User 21`) });
  await row.getByText('Deactivated').waitFor();
  await screenshot(page, 'machines-admin');
  assert.deepEqual(errors, []);
  await context.close();
});
