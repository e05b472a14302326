// Private certificates in Chromium against the real OpenBao: a person requests a certificate with a key made by
// certdesk through the form (inline validation first), sees it in the list, opens its detail page and downloads
// the PKCS#12, which openssl opens with the chosen password and whose chain verifies to the stack's offline root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, launch, openPage, waitForHydration, screenshot } from './browser.mjs';
import { signIn } from './idp.mjs';

const stackDir = process.env.CERTDESK_E2E_STACK_DIR ?? join(process.cwd(), '.stack');

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a person requests a server-key certificate, finds it, and downloads a PKCS#12', async () => {
  const { context, page, errors } = await openPage(browser, { acceptDownloads: true });
  await signIn(page, baseUrl, 'user9', '/request');
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name: 'Request a certificate' }).waitFor();

  // Inline validation: a name outside the policy is flagged next to the field before anything is sent.
  const names = page.getByLabel('DNS names');
  await names.fill('www.example.com');
  await names.blur();
  await page.getByRole('alert').filter({ hasText: 'outside your policy' }).waitFor();
  assert.equal(await names.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'request-invalid');

  const name = `web-${Date.now()}.cluster.local`;
  await names.fill(`${name}\napi-${name}`);
  await page.getByLabel('Valid for (days)').fill('30');
  await page.getByLabel('Key type').selectOption('ec-p384');
  assert.equal(await names.getAttribute('aria-invalid'), 'false');
  await page.getByRole('button', { name: 'Request certificate' }).click();

  // The detail page of the new certificate.
  await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 30_000 });
  assert.match(new URL(page.url()).pathname, /^\/certificates\/[0-9a-f-]{36}$/);
  await page.getByText('Issued', { exact: true }).first().waitFor();
  await page.getByRole('meter', { name: 'Lifetime used' }).waitFor();
  await page.getByText('EC P-384').first().waitFor();
  await screenshot(page, 'certificate-detail');

  // In the list, and found by search.
  await page.goto(`${baseUrl}/certificates?search=${encodeURIComponent('api-' + name.slice(0, 12))}`);
  await page.getByRole('link', { name }).waitFor();
  await screenshot(page, 'certificates-list');
  await page.getByRole('link', { name }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();

  // PKCS#12 with a chosen password, read back by openssl; its chain verifies to the offline root.
  await page.getByLabel('PKCS#12 password').fill('correct horse battery');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-e2e-'));
  const p12 = join(dir, 'bundle.p12');
  await download.saveAs(p12);
  const info = execFileSync('openssl', ['pkcs12', '-in', p12, '-nodes', '-passin', 'pass:correct horse battery'], {
    encoding: 'utf8',
  });
  assert.match(info, /BEGIN PRIVATE KEY/);
  const certs = info.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  assert.ok(certs.length >= 2, 'leaf and chain');
  writeFileSync(join(dir, 'leaf.pem'), certs[0]);
  writeFileSync(join(dir, 'chain.pem'), certs.slice(1).join('\n'));
  const root = join(stackDir, 'openbao', 'root_ca.pem');
  execFileSync('openssl', ['verify', '-CAfile', root, '-untrusted', join(dir, 'chain.pem'), join(dir, 'leaf.pem')]);
  assert.throws(() =>
    execFileSync('openssl', ['pkcs12', '-in', p12, '-nodes', '-passin', 'pass:wrong-password'], { stdio: 'pipe' }),
  );
  assert.ok(readFileSync(p12).length > 500);
  assert.deepEqual(errors, []);
  await context.close();
});
