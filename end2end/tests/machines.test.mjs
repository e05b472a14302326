// The Machines page in Chromium: a person creates an ACME account key (inline validation, step-up satisfied by
// the fresh sign-in), sees its EAB key id and HMAC key once with working copy buttons and snippets carrying the
// real directory URL; a real ACME newAccount with External Account Binding (signed here with node's crypto) makes
// an account that the page lists; the person deactivates it and revokes the key, each after a confirmation; an
// admin sees that account among everyone's, with its owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
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

// RFC 8555 §7.3 newAccount with §7.3.4 External Account Binding, as cert-manager, certbot or lego send it.
async function newAccount(directoryUrl, keyId, hmacKey, contact) {
  const directory = await (await fetch(directoryUrl)).json();
  const nonce = (await fetch(directory.newNonce, { method: 'HEAD' })).headers.get('replay-nonce');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const jwk = { kty, crv, x, y };
  const eabProtected = b64url(JSON.stringify({ alg: 'HS256', kid: keyId, url: directory.newAccount }));
  const eabPayload = b64url(JSON.stringify(jwk));
  const eabSignature = createHmac('sha256', Buffer.from(hmacKey, 'base64url'))
    .update(`${eabProtected}.${eabPayload}`)
    .digest('base64url');
  const protectedHeader = b64url(JSON.stringify({ alg: 'ES256', jwk, nonce, url: directory.newAccount }));
  const payload = b64url(JSON.stringify({
    termsOfServiceAgreed: true,
    contact: [contact],
    externalAccountBinding: { protected: eabProtected, payload: eabPayload, signature: eabSignature },
  }));
  const signature = sign('sha256', Buffer.from(`${protectedHeader}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return fetch(directory.newAccount, {
    method: 'POST',
    headers: { 'content-type': 'application/jose+json' },
    body: JSON.stringify({ protected: protectedHeader, payload, signature: b64url(signature) }),
  });
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
  await names.fill('*.priv.example.test');
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
  const created = await newAccount(directoryUrl, keyId, hmacKey, 'mailto:ops@example.test');
  assert.equal(created.status, 201, await created.text());
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('HMAC key').count(), 0, 'the HMAC key is shown once');
  const accountRow = page.getByRole('row', { name: new RegExp(`${keyName}.*ops@example.test`) });
  await accountRow.getByText('Valid').waitFor();
  await screenshot(page, 'machines-listed');

  // Deactivating asks first, then the account says so.
  await page.getByRole('button', { name: `Deactivate the private account of ${keyName}` }).click();
  await page.getByText(`Deactivate the private account of “${keyName}”?`).waitFor();
  await page.getByRole('button', { name: 'Yes, deactivate' }).click();
  await accountRow.getByText('Deactivated').waitFor();

  // Revoking asks first; the key is refused from then on.
  await page.getByRole('button', { name: `Revoke ${keyName}` }).click();
  await page.getByRole('button', { name: 'Yes, revoke' }).click();
  await page.getByRole('row', { name: new RegExp(keyName) }).first().getByText('Revoked').waitFor();
  const refused = await newAccount(directoryUrl, keyId, hmacKey, 'mailto:ops@example.test');
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
