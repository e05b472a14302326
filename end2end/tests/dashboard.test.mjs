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

// Requests one certificate through the form and waits for its page; answers its name.
async function requestCertificate(page, prefix, days) {
  await page.goto(baseUrl + '/request');
  await waitForHydration(page);
  const name = `${prefix}-${Date.now()}.cluster.local`;
  await page.getByLabel('DNS names').fill(name);
  await page.getByLabel('Valid for (days)').fill(String(days));
  await page.getByRole('button', { name: 'Request certificate' }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 30_000 });
  return name;
}

test('the expiry timeline shows issued certificates in their week and links to them', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user15', '/request');
  const soon = await requestCertificate(page, 'dash-soon', 5);
  const later = await requestCertificate(page, 'dash-later', 40);

  await page.goto(baseUrl + '/');
  await waitForHydration(page);
  await page.getByText('Showing your certificates').waitFor();
  const chart = page.getByRole('group', { name: 'Expiries per week, next 90 days' });
  await chart.waitFor();
  const weeks = chart.locator('g.timeline-week');
  assert.equal(await weeks.count(), 13);
  // Week 1 (days 0–7) holds the 5-day certificate, week 6 (days 35–42) the 40-day one; each bar says its count.
  const first = weeks.nth(0).getByRole('link');
  const sixth = weeks.nth(5).getByRole('link');
  assert.match(await first.getAttribute('aria-label'), /^\d+ certificates? expiring .*: show them$/);
  assert.ok(Number(await weeks.nth(0).locator('.timeline-count').textContent()) >= 1);
  const counts = [];
  for (let i = 0; i < 13; i++) counts.push(Number(await weeks.nth(i).locator('.timeline-count').textContent()));
  // The 40-day certificate ends in week 6; weeks 5 and 7 are allowed too, for a run that crosses midnight.
  assert.ok(counts[4] + counts[5] + counts[6] >= 1, `weekly counts: ${counts}`);
  assert.equal(await weeks.nth(1).getByRole('link').count(), 0, 'an empty week is no link');
  // The same numbers for screen readers, in a table.
  const rows = page.locator('figure.timeline table tbody tr');
  assert.equal(await rows.count(), 13);
  assert.equal(await rows.nth(0).locator('td').textContent(), await weeks.nth(0).locator('.timeline-count').textContent());
  assert.ok(Number(await page.locator('.stat-card', { hasText: 'Issued' }).locator('.stat-value').textContent()) >= 2);
  await page.getByRole('heading', { name: 'Yours, expiring soon' }).waitFor();
  const soonRow = page.getByRole('row', { name: new RegExp(soon.replaceAll('.', '\\.')) });
  assert.match(await soonRow.innerText(), /in [45] days/);
  await page.getByRole('heading', { name: 'By issuer' }).waitFor();
  await screenshot(page, 'dashboard-timeline');

  // The first bar lists that week: the 5-day certificate, not the 40-day one.
  await first.click();
  await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
  const url = new URL(page.url());
  assert.deepEqual([url.searchParams.get('expiring_after'), url.searchParams.get('expiring')], ['0', '7']);
  await page.getByRole('link', { name: soon }).waitFor();
  assert.equal(await page.getByRole('link', { name: later }).count(), 0);
  await page.getByText('Window: days 0–7 from today').waitFor();
  assert.equal(await page.getByLabel('Expiring within').inputValue(), '7');
  await screenshot(page, 'dashboard-window');

  await page.goto(baseUrl + '/');
  await waitForHydration(page);
  await weeks.nth([5, 4, 6].find((index) => counts[index] >= 1)).getByRole('link').click();
  await page.getByRole('link', { name: later }).waitFor();
  assert.equal(await page.getByRole('link', { name: soon }).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an admin sees all certificates by default and can switch to their own', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'admin15', '/');
  await waitForHydration(page);
  const switcher = page.getByRole('navigation', { name: 'Whose certificates' });
  assert.equal(await switcher.getByRole('link', { name: 'All certificates' }).getAttribute('aria-current'), 'page');
  await page.getByText("Showing all certificates, everyone's").waitFor();
  await page.getByRole('group', { name: 'Expiries per week, next 90 days' }).waitFor();
  await screenshot(page, 'dashboard-admin');
  await switcher.getByRole('link', { name: 'Mine' }).click();
  await page.getByText('Showing your certificates').waitFor();
  assert.equal(await switcher.getByRole('link', { name: 'Mine' }).getAttribute('aria-current'), 'page');
  assert.equal(new URL(page.url()).search, '?scope=mine');
  assert.deepEqual(errors, []);
  await context.close();
});
