// The backbone in a real browser against the release build: the dashboard renders from PostgreSQL, hydrates
// (the menu button and the refresh button work), shows no console errors, unknown pages answer 404, and the
// stack is ready.
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

test('readyz is 200 with the whole stack up', async () => {
  const response = await fetch(`${baseUrl}/readyz`);
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.status, 'ready');
  assert.deepEqual(Object.keys(body.issuers).sort(), ['private', 'public']);
});

test('the dashboard renders, hydrates and refreshes without console errors', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user5', '/');
  const response = await page.reload();
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /nonce-/);
  await waitForHydration(page);
  assert.equal(await page.title(), 'Dashboard · certdesk');
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  const certificates = page.locator('.stat-card', { hasText: 'Certificates' }).first();
  assert.match(await certificates.innerText(), /^\d+/);
  await page.getByRole('link', { name: 'Request a certificate' }).waitFor();

  const refreshed = page.waitForResponse((r) => r.url().includes('/rpc/dashboard_summary') && r.status() === 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await refreshed;
  await page.getByRole('button', { name: 'Refresh' }).waitFor();
  await screenshot(page, 'dashboard');
  assert.deepEqual(errors, []);
  await context.close();
});

test('on a phone the navigation folds behind a working menu button', async () => {
  const { context, page, errors } = await openPage(browser, { viewport: { width: 390, height: 800 } });
  await signIn(page, baseUrl, 'user6', '/');
  await waitForHydration(page);
  const toggle = page.getByRole('button', { name: 'Menu' });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByRole('link', { name: 'Certificates' }).isVisible(), false);
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await page.getByRole('link', { name: 'Certificates' }).click();
  await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/certificates');
  await screenshot(page, 'certificates-phone');
  assert.deepEqual(errors, []);
  await context.close();
});

test('keyboard users can skip to the content', async () => {
  const { context, page } = await openPage(browser);
  // A public page with the full layout: no sign-in needed.
  await page.goto(baseUrl + '/signin/mfa-required');
  await waitForHydration(page);
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused, 'Skip to content');
  await context.close();
});

test('an unknown page answers 404 with a way back', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user7', '/');
  const response = await page.goto(baseUrl + '/no/such/page');
  assert.equal(response.status(), 404);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.getByRole('link', { name: 'Go to the dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
