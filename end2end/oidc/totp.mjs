// TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s step) for the dev OIDC provider, its CLI and the Playwright tests.
// CLI: node end2end/oidc/totp.mjs <config.json> <username>  -> prints that user's current code.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const STEP_SECONDS = 30;
const DIGITS = 6;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text) {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new Error(`invalid base32 character ${JSON.stringify(ch)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

function stepAt(timeMs) {
  return Math.floor(timeMs / 1000 / STEP_SECONDS);
}

// RFC 4226 HOTP of the given time step (the RFC 6238 counter).
export function totpForStep(base32Secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(base32Secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** DIGITS).padStart(DIGITS, '0');
}

export function totpNow(base32Secret, timeMs = Date.now()) {
  return totpForStep(base32Secret, stepAt(timeMs));
}

// Returns the time step whose code equals `code` within ±window steps of timeMs, or null.
// Callers compare the step with the last accepted one to refuse replays.
export function matchingStep(base32Secret, code, timeMs = Date.now(), window = 1) {
  if (!/^\d{6}$/.test(code)) return null;
  const now = stepAt(timeMs);
  for (let step = now - window; step <= now + window; step += 1) {
    if (totpForStep(base32Secret, step) === code) return step;
  }
  return null;
}

export function otpauthUri(base32Secret, username, issuer = 'certdesk-dev') {
  const label = encodeURIComponent(`${issuer}:${username}`);
  const query = new URLSearchParams({
    secret: base32Secret, issuer, algorithm: 'SHA1', digits: String(DIGITS), period: String(STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${query}`;
}

function main([configPath, username]) {
  if (!configPath || !username) {
    console.error('usage: node end2end/oidc/totp.mjs <config.json> <username>');
    process.exit(2);
  }
  const { users } = JSON.parse(readFileSync(configPath, 'utf8'));
  const user = users.find((u) => u.username === username);
  if (!user) {
    console.error(`unknown user ${username}`);
    process.exit(1);
  }
  if (!user.totp_secret) {
    console.error(`user ${username} has no MFA (no TOTP secret)`);
    process.exit(1);
  }
  console.log(totpNow(user.totp_secret));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
