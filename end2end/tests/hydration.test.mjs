// Every page opened directly in Chromium against the release build, whose wasm is split into chunks: the page is
// rendered by the server, then hydrated as a whole (a lazy page only after its chunk has arrived: the entry point
// marks `<html data-hydrated>` when hydration has finished, and a mismatch would panic into `errors`), and then
// something on it that only works once hydrated does. The first load of `/` fetches exactly the files that
// end2end/stack/bench_size.sh counts and no chunk; a lazy page reached by a link fetches its own chunks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, launch, openPage, waitForHydration, screenshot } from './browser.mjs';
import { signIn } from './idp.mjs';

// As FIRST_LOAD_FILES in end2end/stack/bench_size.sh.
const FIRST_LOAD = ['__wasm_split.______________________.js', 'certdesk.css', 'certdesk.js', 'certdesk.wasm'];

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// The files under /pkg/ the page requests, and how many documents its main frame loads, from now on.
function recordFetches(page) {
  const record = { pkg: new Set(), documents: 0 };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== new URL(baseUrl).origin) return;
    if (url.pathname.startsWith('/pkg/')) record.pkg.add(url.pathname.slice('/pkg/'.length));
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) record.documents += 1;
  });
  return record;
}

// A fresh browser context signed in as `username` on `path` (opened directly once the provider sends the browser
// back) and hydrated, recording what it fetches from the start.
async function signedIn(username, path) {
  const session = await openPage(browser);
  const record = recordFetches(session.page);
  await signIn(session.page, baseUrl, username, path);
  await waitForHydration(session.page);
  return { ...session, record };
}

// The API tokens page checks the name as soon as the field is left (only the hydrated page does).
async function tokenNameIsChecked(page) {
  const name = page.getByLabel('Name');
  await name.focus();
  await name.blur();
  await page.getByText('Give the token a name').waitFor();
}

// Opens `path` as a new document and waits until it is hydrated.
async function open(page, path) {
  const response = await page.goto(baseUrl + path);
  await waitForHydration(page);
  return response;
}

// Follows a link on the page; the router handles it in the browser (hydrated), so no document is loaded.
async function followInBrowser(page, record, link, heading) {
  const documents = record.documents;
  await link.click();
  await heading.waitFor();
  assert.equal(record.documents, documents, `${await heading.innerText()} was reached without loading a document`);
}

// The chunks of the split wasm, from the manifest the server preloads them by: every chunk file name, and the
// chunks of the lazy route whose manifest key starts with `prefix`.
async function chunks(prefix) {
  const manifest = await (await fetch(`${baseUrl}/pkg/__wasm_split_manifest.json`)).json();
  const all = new Set(Object.values(manifest).flat().map((chunk) => `${chunk}.wasm`));
  const key = Object.keys(manifest).find((name) => name.startsWith(prefix));
  assert.ok(key, `a lazy route ${prefix}… in ${Object.keys(manifest)}`);
  return { all, route: manifest[key].map((chunk) => `${chunk}.wasm`) };
}

test('the first load of / fetches only the first-load files, and a lazy page its own chunks', async () => {
  const { context, page, errors, record } = await signedIn('auditor2', '/');
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  assert.deepEqual([...record.pkg].sort(), FIRST_LOAD);

  const tokens = await chunks('__tokens_route_view_');
  record.pkg.clear();
  await followInBrowser(
    page,
    record,
    page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'API tokens' }),
    page.getByRole('heading', { level: 1, name: 'API tokens' }),
  );
  const fetched = [...record.pkg];
  assert.ok(fetched.length > 0 && fetched.every((file) => tokens.all.has(file)), `only chunks: ${fetched}`);
  assert.ok(
    fetched.some((file) => file.startsWith('split___tokens_route_view_')),
    `the tokens page's own chunk: ${fetched}`,
  );
  assert.ok(fetched.every((file) => tokens.route.includes(file)), `no other page's chunk: ${fetched}`);
  await tokenNameIsChecked(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('every page of a person, opened directly, hydrates and works', async () => {
  const { context, page, errors, record } = await signedIn('user14', '/request');

  // /request (lazy): inline validation, then a certificate to open below.
  const names = page.getByLabel('DNS names');
  await names.fill('www.example.com');
  await names.blur();
  await page.getByRole('alert').filter({ hasText: 'outside your policy' }).waitFor();
  const certificate = `hydrate-${Date.now()}.cluster.local`;
  await names.fill(certificate);
  await page.getByLabel('Valid for (days)').fill('10');
  await page.getByRole('button', { name: 'Request certificate' }).click();
  await page.getByRole('heading', { level: 1, name: certificate }).waitFor({ timeout: 30_000 });
  const detail = new URL(page.url()).pathname;

  // /certificates/:id (lazy): the revocation form opens and closes without a request.
  await open(page, detail);
  await page.getByRole('button', { name: 'Revoke this certificate…' }).click();
  await page.getByRole('group', { name: 'Confirm revocation' }).waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Revoke this certificate…' }).waitFor();

  // /: the refresh button asks the server again.
  await open(page, '/');
  const refreshed = page.waitForResponse((r) => r.url().includes('/rpc/dashboard_summary') && r.status() === 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await refreshed;

  // /certificates: its links are followed in the browser, into a lazy page.
  await open(page, `/certificates?search=${encodeURIComponent(certificate)}`);
  await followInBrowser(
    page,
    record,
    page.getByRole('link', { name: certificate }),
    page.getByRole('heading', { level: 1, name: certificate }),
  );

  // /settings/tokens and /settings/notifications (lazy): inline validation.
  await open(page, '/settings/tokens');
  await tokenNameIsChecked(page);
  await open(page, '/settings/notifications');
  await page.getByLabel('Webhook URL').fill('ftp://hooks.example.com/certdesk');
  await page.getByText('must be an http:// or https:// URL').waitFor();

  // The sign-in page and an unknown page: the layout's menu button (shown on narrow screens only).
  await page.setViewportSize({ width: 390, height: 800 });
  for (const path of ['/signin/mfa-required', '/no/such/page']) {
    await open(page, path);
    const menu = page.getByRole('button', { name: 'Menu' });
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true', path);
  }
  await screenshot(page, 'hydrated-not-found');
  assert.deepEqual(errors, []);
  await context.close();
});

test('every administration page, opened directly, hydrates and works', async () => {
  const { context, page, errors, record } = await signedIn('admin16', '/admin');

  // /admin (lazy): looking a person up asks the server.
  await page.getByRole('searchbox', { name: 'Person' }).fill('nobody-at-all@example.com');
  const looked = page.waitForResponse((r) => r.url().includes('/rpc/owner_revocation_plan'));
  await page.getByRole('button', { name: 'Find what they hold' }).click();
  await looked;

  // /admin/audit (lazy): an event's link is followed in the browser.
  await open(page, '/admin/audit');
  const event = page.getByRole('link', { name: /^Event \d+ details$/ }).first();
  const seq = (await event.getAttribute('aria-label')).match(/\d+/)[0];
  await followInBrowser(page, record, event, page.getByRole('heading', { level: 1, name: `Audit event ${seq}` }));

  // /admin/audit/:seq (lazy): and back to the log the same way.
  await open(page, `/admin/audit/${seq}`);
  await followInBrowser(
    page,
    record,
    page.getByRole('link', { name: '← Audit log' }),
    page.getByRole('heading', { level: 1, name: 'Audit log' }),
  );
  await screenshot(page, 'hydrated-audit-log');
  assert.deepEqual(errors, []);
  await context.close();
});
