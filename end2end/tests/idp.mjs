// Signing in through the stack's real OpenID provider, as a person would: its login form, the user's password
// and a current TOTP code computed from the user's secret in the provider's config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { totpNow } from '../oidc/totp.mjs';

const stackDir = process.env.CERTDESK_E2E_STACK_DIR ?? join(process.cwd(), '.stack');

export function idpUser(username) {
  const config = JSON.parse(readFileSync(join(stackDir, 'oidc', 'config.json'), 'utf8'));
  const user = config.users.find((candidate) => candidate.username === username);
  if (!user) throw new Error(`no user ${username} in the provider's config (is CERTDESK_OIDC_TEST_USERS set?)`);
  return user;
}

// Fills the provider's login form on the current page and submits it.
export async function submitIdpLogin(page, username) {
  const user = idpUser(username);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  if (user.totp_secret) await page.getByLabel('Authentication code').fill(totpNow(user.totp_secret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  return user;
}

// Opens `path` in the portal, signs in at the provider, and waits until the browser is back on `path`.
export async function signIn(page, baseUrl, username, path = '/') {
  await page.goto(baseUrl + path);
  await page.getByLabel('Username').waitFor();
  const user = await submitIdpLogin(page, username);
  await page.waitForURL((url) => url.origin === new URL(baseUrl).origin && url.pathname === path.split('?')[0]);
  return user;
}
