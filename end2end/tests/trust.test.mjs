// Trust in Chromium against the stack's real provider: private keys offered only to whom they may go (owner,
// an admin exporting on the owner's behalf with a reason, never an auditor); step-up that a silent single-sign-on
// round trip after an old provider login cannot satisfy while a prompt=login re-authentication can; off-boarding
// that ends a person's certificates, tokens and session in one step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseUrl, launch, openPage, waitForHydration, screenshot } from './browser.mjs';
import { signIn, submitIdpLogin } from './idp.mjs';

const stackDir = process.env.CERTDESK_E2E_STACK_DIR ?? join(process.cwd(), '.stack');

// The portal's step-up window, from its configuration (the test stack shortens it to a minute).
function stepUpWindowSeconds() {
  const config = readFileSync(join(stackDir, 'portal', 'certdesk.toml'), 'utf8');
  const seconds = config.match(/^step_up_max_age_seconds = (\d+)/m);
  if (!seconds) throw new Error('the portal configuration sets no step_up_max_age_seconds (run under end2end/stack.sh test)');
  return Number(seconds[1]);
}

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// Calls a server function from the signed-in page, as the UI does (same origin, JSON).
async function rpc(page, name, body) {
  return page.evaluate(
    async ([name, body]) => {
      const response = await fetch(`/rpc/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    [name, body],
  );
}

async function serverKeyCertificate(page, name) {
  const input = { issuer_id: 'private', dns_names: [name], validity_days: 30, key: { source: 'generate', key_type: 'ec-p256' } };
  const { status, body } = await rpc(page, 'request_certificate', { input });
  assert.equal(status, 200, JSON.stringify(body));
  return body.id;
}

test('the key is offered to its owner, exported by an admin only on their behalf, never to an auditor', async () => {
  const owner = await openPage(browser);
  await signIn(owner.page, baseUrl, 'user18', '/');
  await waitForHydration(owner.page);
  const name = `keys-${Date.now()}.cluster.local`;
  const id = await serverKeyCertificate(owner.page, name);
  await owner.page.goto(`${baseUrl}/certificates/${id}`);
  await owner.page.getByRole('heading', { level: 3, name: 'With the private key' }).waitFor();
  assert.equal(await owner.page.getByLabel(/Reason/).count(), 0, 'the owner gives no reason');
  await owner.context.close();

  const auditor = await openPage(browser);
  await signIn(auditor.page, baseUrl, 'auditor18', `/certificates/${id}`);
  await auditor.page.getByText('only its owner can download it').waitFor();
  assert.equal(await auditor.page.getByRole('radio', { name: /Private key/ }).count(), 0);
  await screenshot(auditor.page, 'key-auditor');
  await auditor.context.close();

  const admin = await openPage(browser, { acceptDownloads: true });
  await signIn(admin.page, baseUrl, 'admin18', `/certificates/${id}`);
  await waitForHydration(admin.page);
  const form = admin.page.locator('form').filter({ hasText: 'on behalf of' });
  await form.getByRole('heading', { level: 3, name: /Export the private key on behalf of/ }).waitFor();
  await form.getByLabel(/Reason/).fill('ticket OPS-42: the owner is on leave');
  await form.getByRole('radio', { name: /Private key \(PEM/ }).check();
  await screenshot(admin.page, 'key-export-on-behalf');
  const [download] = await Promise.all([
    admin.page.waitForEvent('download'),
    form.getByRole('button', { name: 'Export on their behalf' }).click(),
  ]);
  const key = readFileSync(await download.path(), 'utf8');
  assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});

test('after an old provider login a silent sign-in cannot step up; a prompt=login re-authentication can', async () => {
  const window = stepUpWindowSeconds();
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user19', '/settings/tokens');
  const providerLoginAt = Date.now();
  // Outwait the window, then lose certdesk's session only: the provider's own session stays.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, providerLoginAt + (window + 2) * 1000 - Date.now())));
  await context.clearCookies({ name: 'certdesk_session' });
  await page.goto(`${baseUrl}/settings/tokens`);
  await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/settings/tokens`));
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Username').count(), 0, 'the provider signed the person in silently');

  await page.getByLabel('Name').fill(`after-silent-sso-${Date.now()}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  const confirm = page.getByRole('link', { name: "Confirm it's you" });
  await confirm.waitFor();
  await screenshot(page, 'step-up-needed');

  // The link leads to the provider's sign-in with prompt=login (followed here as a full navigation: it is a
  // server route, not one of the app's).
  const href = await confirm.getAttribute('href');
  assert.match(href, /^\/auth\/login\?step_up=1&next=\/settings\/tokens$/);
  await page.goto(baseUrl + href);
  await page.getByLabel('Username').waitFor();
  await submitIdpLogin(page, 'user19');
  await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/settings/tokens`));
  await waitForHydration(page);
  await page.getByLabel('Name').fill(`after-step-up-${Date.now()}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  assert.match(await page.getByLabel('New API token').inputValue(), /^cdk_/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('off-boarding ends the certificates, tokens and session of a person in one step', async () => {
  const person = await openPage(browser);
  await signIn(person.page, baseUrl, 'user20', '/');
  await waitForHydration(person.page);
  const id = await serverKeyCertificate(person.page, `leaver-${Date.now()}.cluster.local`);
  const created = await rpc(person.page, 'create_api_token', {
    input: { name: 'leaver-ci', scope: 'read', expires_in_days: 30, private_keys: false },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const me = () => fetch(`${baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${created.body.secret}` } });
  assert.equal((await me()).status, 200);

  const admin = await openPage(browser);
  await signIn(admin.page, baseUrl, 'admin19', '/admin');
  await waitForHydration(admin.page);
  await admin.page.getByLabel('Person', { exact: true }).fill('user20@certdesk.test');
  await admin.page.getByRole('button', { name: 'Find what they hold' }).click();
  const plan = admin.page.locator('form.offboarding-plan');
  // At least the token made above (a kept demo stack may hold more of theirs).
  await plan.getByText(/[1-9]\d* live API tokens?/).waitFor();
  await plan.getByLabel('Reason for revoking their certificates').selectOption('affiliationChanged');
  await plan.getByRole('checkbox').check();
  await plan.getByRole('button', { name: /^Off-board/ }).click();
  await admin.page.getByText('is off-boarded.').waitFor({ timeout: 60_000 });
  await admin.page.getByText(/[1-9]\d* API token\(s\) revoked\./).waitFor();
  await screenshot(admin.page, 'offboarding-report');
  assert.deepEqual(admin.errors, []);

  assert.equal((await me()).status, 401, 'their token is refused');
  // Their browser session is over at its next request. (The stack lets anyone the provider signs in use certdesk,
  // so a new sign-in would let them back in: off-boarding at the provider is what keeps them out for good.)
  assert.equal((await rpc(person.page, 'list_api_tokens', {})).status, 401, 'their session is ended');
  await admin.page.goto(`${baseUrl}/certificates/${id}`);
  await admin.page.getByText('Revoked', { exact: true }).first().waitFor();
  await person.context.close();
  await admin.context.close();
});
