// Notification settings in Chromium: a non-http URL is refused inline, a private address by the server (naming
// the field), a public webhook gets a signing secret shown once, and a new secret can be made on demand.
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

test('a person sets up a signed webhook and turns e-mail off', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user13', '/settings/notifications');
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
  const url = page.getByLabel('Webhook URL');

  await url.fill('ftp://hooks.example.com/certdesk');
  await page.getByText('must be an http:// or https:// URL').waitFor();
  assert.equal(await url.getAttribute('aria-invalid'), 'true');

  // The test portal keeps the default policy: no webhooks into private networks.
  await url.fill('http://10.20.30.40/certdesk');
  const refused = page.waitForResponse((r) => r.url().includes('/rpc/save_notification_settings'));
  await page.getByRole('button', { name: 'Save' }).click();
  assert.equal((await refused).status(), 400, 'a refused input is the caller\'s mistake: 400, not 500');
  const why = page.getByText(/points at a private or reserved address/);
  await why.waitFor();
  assert.doesNotMatch(await why.innerText(), /10\.20\.30\.40/, 'the refusal does not echo the address');
  assert.equal(await url.getAttribute('aria-invalid'), 'true');

  // A public address literal: saved without any request to it.
  await url.fill('https://93.184.216.34/certdesk');
  await page.getByLabel('Send me notices by e-mail').uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  const secret = await page.getByLabel('Webhook signing secret').inputValue();
  assert.match(secret, /^cdwh_[0-9a-f]{64}$/);
  await screenshot(page, 'notification-settings');

  // After a reload the secret is gone from the page; a new one can be made, and it differs.
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Webhook URL').inputValue(), 'https://93.184.216.34/certdesk');
  assert.equal(await page.getByLabel('Send me notices by e-mail').isChecked(), false);
  assert.equal(await page.getByLabel('Webhook signing secret').count(), 0);
  await page.getByRole('button', { name: 'New signing secret' }).click();
  const renewed = await page.getByLabel('Webhook signing secret').inputValue();
  assert.match(renewed, /^cdwh_[0-9a-f]{64}$/);
  assert.notEqual(renewed, secret);
  assert.deepEqual(errors, []);
  await context.close();
});
