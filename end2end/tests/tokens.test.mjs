// Personal API tokens in Chromium: inline validation, creation with the secret shown once, the token working
// on the API, and revocation taking effect at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, launch, openPage, waitForHydration, screenshot } from './browser.mjs';
import { signIn } from './idp.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const me = (token) => fetch(`${baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });

test('a person creates a token, uses it on the API, and revokes it', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user8', '/settings/tokens');
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
  // Unique per run: the demo stack keeps its database between runs.
  const tokenName = `nightly-renewal-${Date.now()}`;

  const name = page.getByLabel('Name');
  await name.focus();
  await name.blur();
  await page.getByText('Give the token a name').waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');

  await name.fill(tokenName);
  assert.equal(await name.getAttribute('aria-invalid'), 'false');
  await page.getByLabel('Read, request and revoke').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByLabel('New API token').inputValue();
  assert.match(secret, /^cdk_[A-Za-z0-9_-]{43}$/);
  await page.getByRole('row', { name: new RegExp(tokenName) }).waitFor();
  await screenshot(page, 'api-tokens');

  const response = await me(secret);
  assert.equal(response.status, 200);
  assert.equal((await response.json()).token_scope, 'read_write');

  await page.getByRole('button', { name: `Revoke ${tokenName}` }).click();
  await page.getByRole('row', { name: new RegExp(tokenName) }).getByText('Revoked').waitFor();
  assert.equal((await me(secret)).status, 401);
  assert.deepEqual(errors, []);
  await context.close();
});
