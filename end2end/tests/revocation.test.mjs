// Revocation in Chromium against the real OpenBao: an owner revokes a certificate from its page (reason,
// confirmation naming it), sees it marked revoked, and the CRL certdesk serves makes `openssl verify -crl_check`
// reject it, verifies against the intermediate, and answers 304 when unchanged. An admin revokes a selection
// from the revocation screen, watching each result arrive, then off-boards a person.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

// Requests a certificate through the same server function the form calls, as the signed-in person.
async function requestCertificate(page, name) {
  const response = await page.request.post(`${baseUrl}/rpc/request_certificate`, {
    headers: { origin: new URL(baseUrl).origin, 'content-type': 'application/json' },
    data: { input: { issuer_id: 'private', dns_names: [name], validity_days: 7, key: { source: 'generate', key_type: 'ec-p256' } } },
  });
  assert.equal(response.status(), 200, await response.text());
  return response.json();
}

function openssl(args, input) {
  return spawnSync('openssl', args, { input, encoding: 'utf8' });
}

test('an owner revokes from the certificate page and the served CRL rejects it', async () => {
  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'user11', '/certificates');
  const name = `revoke-${Date.now()}.cluster.local`;
  const created = await requestCertificate(page, name);
  await page.goto(`${baseUrl}/certificates/${created.id}`);
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name }).waitFor();
  // The revocation screen is for admins: a person sees no link to it.
  assert.equal(await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Revocation' }).count(), 0);

  await page.getByRole('button', { name: 'Revoke this certificate…' }).click();
  // Keyboard users land on the first reason; submitting without one is refused next to the field.
  await page.getByRole('button', { name: `Revoke ${name}` }).click();
  await page.getByRole('alert').filter({ hasText: 'Choose why the certificate is revoked.' }).waitFor();
  await page.getByRole('radio', { name: /Key compromise/ }).check();
  await page.getByText(`(serial ${created.serial})`, { exact: false }).waitFor();
  await screenshot(page, 'revoke-confirm');
  await page.getByRole('button', { name: `Revoke ${name}` }).click();

  const notice = page.getByRole('status').filter({ hasText: 'Revoked on' });
  await notice.waitFor({ timeout: 30_000 });
  assert.match(await notice.innerText(), /Reason: Key compromise/);
  await page.locator('.page-head .badge', { hasText: 'Revoked' }).waitFor();
  await screenshot(page, 'certificate-revoked');
  // Still downloadable.
  const leaf = await page.request.get(`${baseUrl}/certificates/${created.id}/download?format=leaf-pem`);
  const chain = await page.request.get(`${baseUrl}/certificates/${created.id}/download?format=chain-pem`);
  assert.equal(leaf.status(), 200);

  const dir = mkdtempSync(join(tmpdir(), 'certdesk-e2e-crl-'));
  writeFileSync(join(dir, 'leaf.pem'), await leaf.text());
  writeFileSync(join(dir, 'chain.pem'), await chain.text());
  const serialHex = created.serial.replaceAll(':', '').toUpperCase();
  let crl;
  for (const started = Date.now(); Date.now() - started < 60_000; await new Promise((r) => setTimeout(r, 500))) {
    const response = await fetch(`${baseUrl}/crl/private.crl`);
    if (response.status !== 200) continue;
    const body = Buffer.from(await response.arrayBuffer());
    if (openssl(['crl', '-inform', 'DER', '-noout', '-text'], body).stdout.includes(serialHex)) {
      crl = { body, etag: response.headers.get('etag'), type: response.headers.get('content-type') };
      break;
    }
  }
  assert.ok(crl, 'the revocation reached the served CRL within a minute');
  assert.equal(crl.type, 'application/pkix-crl');
  writeFileSync(join(dir, 'private.crl'), crl.body);
  const signed = openssl(['crl', '-inform', 'DER', '-in', join(dir, 'private.crl'), '-CAfile', join(dir, 'chain.pem'), '-noout']);
  assert.match(signed.stdout + signed.stderr, /verify OK/);
  execFileSync('openssl', ['crl', '-inform', 'DER', '-in', join(dir, 'private.crl'), '-out', join(dir, 'private.crl.pem')]);
  const root = join(stackDir, 'openbao', 'root_ca.pem');
  const verify = openssl(['verify', '-crl_check', '-CAfile', root, '-untrusted', join(dir, 'chain.pem'),
    '-CRLfile', join(dir, 'private.crl.pem'), join(dir, 'leaf.pem')]);
  assert.notEqual(verify.status, 0);
  assert.match(verify.stdout + verify.stderr, /certificate revoked/);
  const again = await fetch(`${baseUrl}/crl/private.crl`, { headers: { 'if-none-match': crl.etag } });
  assert.equal(again.status, 304);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an admin revokes a selection with live results, then off-boards a person', async () => {
  // The owner's certificates.
  const owner = await openPage(browser);
  const user = await signIn(owner.page, baseUrl, 'user12', '/certificates');
  const stamp = Date.now();
  const names = [`a-${stamp}.cluster.local`, `b-${stamp}.cluster.local`, `c-${stamp}.cluster.local`];
  for (const name of names) await requestCertificate(owner.page, name);
  await owner.context.close();

  const { context, page, errors } = await openPage(browser);
  await signIn(page, baseUrl, 'admin2', `/admin?search=${stamp}`);
  await waitForHydration(page);
  await page.getByRole('heading', { level: 1, name: 'Revocation' }).waitFor();
  await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Revocation' }).waitFor();
  await page.getByRole('checkbox', { name: `Select ${names[0]}` }).check();
  await page.getByRole('checkbox', { name: `Select ${names[1]}` }).check();
  const search = page.getByRole('region', { name: 'Find certificates' });
  await search.getByLabel('Reason', { exact: true }).selectOption('superseded');
  await page.getByRole('button', { name: 'Revoke selected (2)' }).click();
  await page.getByRole('alertdialog').getByText('Revoke 2 certificates with the reason “Superseded”?').waitFor();
  await page.getByRole('button', { name: 'Revoke 2 certificates' }).click();
  await page.getByRole('status').filter({ hasText: '2 of 2 done: 2 revoked, 0 already revoked, 0 failed' }).waitFor({ timeout: 30_000 });
  await screenshot(page, 'admin-revocation');

  // Off-boarding: what is left of theirs (the third certificate, plus any from earlier runs on a kept stack),
  // counted, confirmed, revoked, each outcome listed.
  await page.getByLabel('Person', { exact: true }).fill(user.email);
  await page.getByRole('button', { name: 'Find what they hold' }).click();
  const offboarding = page.getByRole('region', { name: 'Off-board a person' });
  const summary = offboarding.getByText(/holds \d+ certificates? that can be revoked/);
  await summary.waitFor();
  const count = Number((await summary.innerText()).match(/holds (\d+) certificate/)[1]);
  assert.ok(count >= 1);
  await offboarding.getByRole('link', { name: names[2] }).waitFor();
  assert.equal(await offboarding.getByRole('link', { name: names[0] }).count(), 0, 'already revoked ones are not offered');
  await offboarding.getByLabel('Reason for revoking their certificates').selectOption('affiliationChanged');
  await offboarding.getByRole('button', { name: /^Off-board / }).click();
  await page.getByRole('alert').filter({ hasText: 'Tick the confirmation first.' }).waitFor();
  await offboarding.getByRole('checkbox', { name: /I want to off-board/ }).check();
  await offboarding.getByRole('button', { name: /^Off-board / }).click();
  await offboarding.getByText('is off-boarded.').waitFor({ timeout: 60_000 });
  // The certificates are revoked in the background; the report follows the batch until each has its outcome.
  await offboarding.getByRole('status').filter({ hasText: `${count} of ${count} done: ${count} revoked` }).waitFor({ timeout: 60_000 });
  assert.equal(await offboarding.locator('li.result.ok').filter({ hasText: '— revoked' }).count(), count);
  await screenshot(page, 'admin-offboarding');

  await page.goto(`${baseUrl}/admin?search=${stamp}&status=issued`);
  await page.getByRole('heading', { name: 'No certificate matches' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
