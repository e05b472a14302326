// Prints the demo logins of the dev OIDC provider (password, MFA, TOTP secret and otpauth:// URI per user).
// Usage: node demo-logins.mjs <config.json>
import { readFileSync } from 'node:fs';

import { otpauthUri } from './totp.mjs';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node demo-logins.mjs <config.json>');
  process.exit(2);
}
const { issuer, users } = JSON.parse(readFileSync(configPath, 'utf8'));

console.log(`Demo logins for the dev identity provider ${issuer}`);
// Users the test stack adds for its own runs are not demo logins.
for (const user of users.filter((candidate) => !candidate.test_only)) {
  console.log('');
  console.log(`  ${user.username}  (${user.name}; groups: ${user.groups.join(', ')})`);
  console.log(`    password:     ${user.password}`);
  if (user.totp_secret) {
    console.log('    MFA:          yes (TOTP, 6 digits, 30 s)');
    console.log(`    TOTP secret:  ${user.totp_secret}`);
    console.log(`    otpauth URI:  ${otpauthUri(user.totp_secret, user.username)}`);
    console.log(`    current code: end2end/stack.sh totp ${user.username}`);
  } else {
    console.log('    MFA:          no (leave the authentication code empty)');
  }
}
