// Renewal in Chromium against the real OpenBao: a certificate requested with the default automatic renewal is
// renewed with "Renew now"; the new certificate is issued and linked, the old one superseded, both in the history.
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

test('"Renew now" produces a new certificate that supersedes the old one', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user16', '/request');
  await waitForHydration(page);
  const name = `renew-${Date.now()}.cluster.local`;
  await page.getByLabel('DNS names').fill(name);
  await page.getByLabel('Valid for (days)').fill('30');
  // Automatic renewal is on by default for a key certdesk makes.
  assert.equal(await page.getByLabel('Renew automatically before it expires').isChecked(), true);
  await page.getByRole('button', { name: 'Request certificate' }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 30_000 });
  const oldUrl = page.url();
  const renewal = page.getByRole('region', { name: 'Renewal' });
  await renewal.getByText(/Renews automatically when a third of its lifetime remains/).waitFor();
  const oldSerial = await page.locator('.fact', { hasText: 'Serial' }).locator('dd').innerText();

  await renewal.getByRole('button', { name: 'Renew now' }).click();
  await renewal.getByText('Renewed.').waitFor({ timeout: 30_000 });
  await screenshot(page, 'renewal-done');
  // The page now shows this certificate as superseded, linked to its successor.
  await page.locator('.page-head .badge', { hasText: 'Superseded' }).waitFor();
  await renewal.getByRole('link', { name: 'Open the new certificate' }).click();
  await page.waitForURL((url) => url.href !== oldUrl && url.pathname.startsWith('/certificates/'));
  await page.getByRole('heading', { level: 1, name }).waitFor();
  await page.locator('.page-head .badge', { hasText: 'Issued' }).waitFor();
  const newSerial = await page.locator('.fact', { hasText: 'Serial' }).locator('dd').innerText();
  assert.notEqual(newSerial, oldSerial);
  const history = page.getByRole('region', { name: 'Renewal' }).locator('ol.versions li');
  assert.equal(await history.count(), 2);
  assert.match(await history.nth(0).innerText(), /Superseded/);
  assert.match(await history.nth(1).innerText(), /This certificate/);
  await screenshot(page, 'renewal-new');
  // Back to the old one through the history.
  await history.nth(0).getByRole('link').click();
  await page.waitForURL(oldUrl);
  await page.getByText('the certificate that renewed it').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Renew now' }).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
