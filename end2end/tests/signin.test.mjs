// Sign-in against the stack's real OpenID provider in Chromium: MFA users get in with their name and role shown,
// sign-out ends the session at certdesk and the provider (and the back button reveals nothing), a password-only
// user goes through certdesk's own TOTP second factor, the session id changes at sign-in, and tampered or replayed callbacks are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, launch, openPage, waitForHydration, screenshot } from './browser.mjs';
import { signIn, submitIdpLogin } from './idp.mjs';
import { loginUntilCallback } from './http-login.mjs';
import { totpNow } from '../oidc/totp.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const sessionCookie = async (context) =>
  (await context.cookies(baseUrl)).find((cookie) => cookie.name === 'certdesk_session');

test('an MFA user signs in, sees name and role, and signing out leaves nothing behind', async () => {
  const { context, page, errors } = await openPage(browser);
  const user = await signIn(page, baseUrl, 'user1', '/certificates');
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
  assert.equal(await page.locator('.user-name').innerText(), user.name);
  assert.equal(await page.locator('.role-badge').innerText(), 'User');
  const cookie = await sessionCookie(context);
  assert.ok(cookie.httpOnly, 'session cookie is HttpOnly');
  assert.equal(cookie.sameSite, 'Lax');
  await screenshot(page, 'signed-in');

  await page.getByRole('button', { name: 'Sign out' }).click();
  // RP-initiated logout: the provider asks for confirmation, then returns to certdesk, which asks for sign-in.
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.getByLabel('Username').waitFor();
  await page.goBack();
  await page.waitForLoadState();
  assert.equal(await page.locator('.user-name').count(), 0, 'the back button must not show a signed-in page');
  const response = await page.request.post(`${baseUrl}/rpc/dashboard_summary`, {
    headers: { origin: baseUrl, 'content-type': 'application/json' },
    data: {},
  });
  assert.equal(response.status(), 401, 'the old session is gone on the server');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an admin is shown as Administrator', async () => {
  const { context, page } = await openPage(browser);
  await signIn(page, baseUrl, 'admin1', '/');
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  assert.equal(await page.locator('.role-badge').innerText(), 'Administrator');
  await context.close();
});

test('a password-only user enrols in certdesk TOTP, saves recovery codes, and later signs in with one', async () => {
  const { context, page, errors } = await openPage(browser);
  await page.goto(baseUrl + '/certificates');
  const user = await submitIdpLogin(page, 'carol');
  await page.getByRole('heading', { level: 1, name: 'Set up your second factor' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin/second-factor');
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  const noSession = await page.request.post(`${baseUrl}/rpc/dashboard_summary`, {
    headers: { origin: baseUrl, 'content-type': 'application/json' },
    data: {},
  });
  assert.equal(noSession.status(), 401, 'no session before the second factor');
  await screenshot(page, 'second-factor-enrol');

  // A wrong code is refused with a clear message next to the field.
  const secret = (await page.locator('[data-totp-secret]').innerText()).trim();
  const current = totpNow(secret);
  const wrong = current === '000000' ? '000001' : '000000';
  await page.getByLabel('Code from your app').fill(wrong);
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
  assert.equal(await page.getByLabel('Code from your app').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('Code from your app').fill(totpNow(secret));
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  const codes = await page.locator('[data-recovery-codes] code').allInnerTexts();
  assert.equal(codes.length, 10);
  await screenshot(page, 'second-factor-recovery-codes');
  await page.getByRole('link', { name: 'I have saved them, continue' }).click();
  await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
  await waitForHydration(page);
  assert.equal(await page.locator('.user-name').innerText(), user.name);

  // Signed out and back in: the provider again proves no MFA, so certdesk asks for its code; a recovery code works.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.getByLabel('Username').waitFor();
  await submitIdpLogin(page, 'carol');
  await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
  await screenshot(page, 'second-factor-verify');
  await page.getByLabel('Code').fill(codes[0]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  assert.equal(await page.locator('.user-name').innerText(), user.name);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the session id before sign-in is not the one after (no fixation)', async () => {
  const { context, page } = await openPage(browser);
  await page.goto(baseUrl + '/');
  await page.getByLabel('Username').waitFor();
  const before = await sessionCookie(context);
  assert.ok(before, 'the pre-login session has a cookie');
  await submitIdpLogin(page, 'user2');
  await page.waitForURL(`${baseUrl}/`);
  const after = await sessionCookie(context);
  assert.notEqual(after.value, before.value);
  await context.close();
});

test('a callback with a tampered state is refused', async () => {
  const { client, callbackUrl } = await loginUntilCallback(baseUrl, 'user3');
  callbackUrl.searchParams.set('state', 'tampered-' + callbackUrl.searchParams.get('state'));
  const response = await client.fetch(callbackUrl);
  assert.equal(response.status, 400);
  assert.match(await response.text(), /did not belong to this browser session/);
  // The pending login is gone: even the genuine callback now fails instead of signing in.
  const retry = await client.fetch(callbackUrl);
  assert.equal(retry.status, 400);
});

test('a replayed authorization code is refused', async () => {
  const first = await openPage(browser);
  let callbackUrl;
  first.page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/auth/callback') callbackUrl ??= request.url();
  });
  await signIn(first.page, baseUrl, 'user4', '/');
  await first.context.close();

  // A second browser starts its own sign-in, then presents the already-used code with its own valid state.
  const second = await openPage(browser);
  let pendingState;
  second.page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== new URL(baseUrl).origin && url.searchParams.has('state')) pendingState ??= url.searchParams.get('state');
  });
  await second.page.goto(baseUrl + '/');
  await second.page.getByLabel('Username').waitFor();
  assert.ok(pendingState, 'the authorization request carried a state');
  const replay = new URL(callbackUrl);
  replay.searchParams.set('state', pendingState);
  const response = await second.page.goto(replay.toString());
  assert.equal(response.status(), 400);
  await second.page.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
  await second.context.close();
});
