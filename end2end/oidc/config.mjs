// Writes or refreshes the dev OIDC provider's config JSON (called by end2end/stack/oidc.sh on every start).
// Usage: node config.mjs <config.json> <issuer> <port> <portal-url> <portal-port> <client-secret-file>
// Keys, cookie secrets and anything not owned here (extra clients, extra users) survive rewrites, so tokens stay
// verifiable across restarts; the certdesk client and the demo users are regenerated from the current ports.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const DEMO_USERS = [
  {
    sub: '21ba6303-e22f-4bf0-97ba-87f0aa573793',
    username: 'alice',
    password: 'alice-demo-pw',
    name: 'Alice Admin',
    email: 'alice@certdesk.test',
    groups: ['certdesk-admins'],
    totp_secret: 'KUMTXJYKIHFTNGKQ37B6EELW2O4OXQEI',
  },
  {
    sub: 'fa3f9900-248b-4206-9bbb-0a3db61da483',
    username: 'bob',
    password: 'bob-demo-pw',
    name: 'Bob Builder',
    email: 'bob@certdesk.test',
    groups: ['platform-team'],
    totp_secret: 'LSHBNXZ5HWZ55EYRGG272JPFYYGSRCNC',
  },
  {
    sub: 'd3f9a0dd-6ddb-4560-9dcb-000ba261acd1',
    username: 'carol',
    password: 'carol-demo-pw',
    name: 'Carol Nomfa',
    email: 'carol@certdesk.test',
    groups: ['platform-team'],
  },
];

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig' };
}

// The portal may be reached as PORTAL_URL, 127.0.0.1 or localhost; register all three spellings.
function portalBases(portalUrl, portalPort) {
  const bases = [portalUrl, `http://127.0.0.1:${portalPort}`, `http://localhost:${portalPort}`]
    .map((base) => base.replace(/\/+$/, ''));
  return [...new Set(bases)];
}

function certdeskClient(clientSecret, bases) {
  return {
    client_id: 'certdesk',
    client_secret: clientSecret,
    client_name: 'certdesk',
    redirect_uris: bases.map((base) => `${base}/auth/callback`),
    post_logout_redirect_uris: bases.map((base) => `${base}/`),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // oidc-provider accepts client_secret_post too for a client registered with client_secret_basic.
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  };
}

function replaceOwned(existing, owned, key) {
  const ownedKeys = new Set(owned.map((entry) => entry[key]));
  return [...owned, ...existing.filter((entry) => !ownedKeys.has(entry[key]))];
}

const [configPath, issuer, port, portalUrl, portalPort, secretFile] = process.argv.slice(2);
if (!secretFile) {
  console.error('usage: node config.mjs <config.json> <issuer> <port> <portal-url> <portal-port> <client-secret-file>');
  process.exit(2);
}

// The test stack adds throwaway MFA users, one per test that signs in: a TOTP code is accepted once, so tests
// sharing a user would have to wait for the next 30-second step. Their secrets are random and kept in the file.
// userN are people, adminN admins, auditorN auditors (read everything, change nothing).
const TEST_USER_KINDS = [
  ['user', ['platform-team']],
  ['admin', ['certdesk-admins']],
  ['auditor', ['certdesk-auditors']],
];

function testUsers(existing, count) {
  const base32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const secret = () => [...randomBytes(20)].map((byte) => base32[byte % 32]).join('');
  const wanted = [];
  for (let i = 1; i <= count; i++) {
    for (const [prefix, groups] of TEST_USER_KINDS) {
      const username = `${prefix}${i}`;
      const found = existing.find((user) => user.username === username);
      wanted.push(found ? { ...found, test_only: true } : {
        test_only: true,
        sub: randomBytes(16).toString('hex'),
        username,
        password: `${username}-test-pw`,
        name: `Test ${prefix[0].toUpperCase()}${prefix.slice(1)} ${i}`,
        email: `${username}@certdesk.test`,
        groups,
        totp_secret: secret(),
      });
    }
  }
  return wanted;
}

const previous = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
const clientSecret = readFileSync(secretFile, 'utf8').trim();

const config = {
  issuer,
  port: Number(port),
  cookie_keys: previous.cookie_keys ?? [randomBytes(32).toString('base64url')],
  // RS256 first: oidc-provider signs with the first key matching the client's alg; ES256 is there for clients
  // registered with id_token_signed_response_alg ES256.
  jwks: previous.jwks ?? {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  clients: replaceOwned(previous.clients ?? [], [certdeskClient(clientSecret, portalBases(portalUrl, portalPort))], 'client_id'),
  users: replaceOwned(
    previous.users ?? [],
    [...DEMO_USERS, ...testUsers(previous.users ?? [], Number(process.env.CERTDESK_OIDC_TEST_USERS ?? 0))],
    'username',
  ),
};

// Write-then-rename so a provider starting concurrently never reads half a file; 0600 as it holds secrets.
const tmp = `${configPath}.tmp`;
writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
renameSync(tmp, configPath);
