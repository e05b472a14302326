// The audit log viewer in Chromium: an auditor sees the chain banner, filters by action, opens an event and
// exports the filtered set (the export itself then shows up in the log); an admin's bad filter is a 400 naming
// the field; a plain user is refused and never sees the navigation link.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { baseUrl, launch, openPage, waitForHydration, screenshot } from './browser.mjs';
import { signIn } from './idp.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('an auditor filters the log by action, opens an event and exports the filtered set', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'auditor1', '/admin/audit');
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  const banner = page.getByRole('status').filter({ hasText: 'Audit chain' });
  assert.match(await banner.innerText(), /Audit chain verified through event \d+/);
  await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Audit log' }).waitFor();

  await page.getByLabel('Action').fill('auth.signed_in');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL((url) => url.searchParams.get('action') === 'auth.signed_in');
  const table = page.getByRole('table', { name: 'Audit events, newest first' });
  await table.waitFor();
  const actions = await table.locator('tbody td:nth-child(4)').allInnerTexts();
  assert.ok(actions.length >= 1, 'at least the auditor\'s own sign-in');
  assert.deepEqual([...new Set(actions)], ['auth.signed_in']);
  const mine = table.getByRole('row').filter({ hasText: 'Test Auditor 1' }).first();
  await mine.waitFor();
  await screenshot(page, 'audit-log');

  const link = mine.getByRole('link', { name: /^Event \d+ details$/ });
  const seq = (await link.getAttribute('aria-label')).match(/\d+/)[0];
  await link.click();
  await page.getByRole('heading', { level: 1, name: `Audit event ${seq}` }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/admin/audit/${seq}`);
  const facts = await page.locator('main').innerText();
  assert.match(facts, /Test Auditor 1/);
  assert.match(facts, /auth\.signed_in/);
  assert.match(facts, /Previous hash\s+[0-9a-f]{64}/);
  assert.match(await page.getByLabel('Details as JSON').innerText(), /^\{/);
  await screenshot(page, 'audit-event');

  await page.goBack();
  await table.waitFor();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'CSV' }).click();
  const file = await download;
  assert.match(file.suggestedFilename(), /^certdesk-audit-\d{8}T\d{6}Z\.csv$/);
  const csv = readFileSync(await file.path(), 'utf8');
  const [header, ...rows] = csv.trimEnd().split('\r\n');
  assert.match(header, /^seq,occurred_at,actor,actor_name,actor_email,action,/);
  assert.equal(rows.length, actions.length);
  assert.ok(rows.every((row) => row.includes(',auth.signed_in,')), csv);

  await page.goto(`${baseUrl}/admin/audit?action=audit.exported`);
  const exported = page.getByRole('table', { name: 'Audit events, newest first' }).getByRole('row');
  await exported.filter({ hasText: 'Test Auditor 1' }).first().waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('an admin sees the viewer, and a malformed filter names the field', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'admin3', '/admin/audit');
  await waitForHydration(page);
  assert.match(await page.getByRole('status').filter({ hasText: 'Audit chain' }).innerText(), /verified through event \d+/);
  const response = await page.goto(`${baseUrl}/admin/audit?outcome=maybe`);
  assert.equal(response.status(), 400);
  assert.match(await page.getByRole('alert').innerText(), /outcome must be success, failure or denied/);
  // The filters stay on the page so the person can fix them.
  await page.getByLabel('Outcome').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('a plain user is refused and has no audit log link', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user10', '/');
  await waitForHydration(page);
  const nav = page.getByRole('navigation', { name: 'Primary' });
  await nav.getByRole('link', { name: 'Certificates' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Audit log' }).count(), 0);
  const response = await page.goto(`${baseUrl}/admin/audit`);
  assert.equal(response.status(), 403);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.equal(await page.getByRole('table').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'CSV' }).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
