// Dev/test OpenID Connect provider for certdesk on npm oidc-provider 9: code flow + PKCE S256 only, password + TOTP
// login, amr/acr/groups in the ID token, RP-initiated logout. Usage: node provider.mjs <config.json>
// (config written by end2end/oidc/config.mjs via end2end/stack/oidc.sh). Listens on 127.0.0.1 only.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

import { createInteractionHandler } from './interactions.mjs';
import { errorPage, logoutDonePage, logoutPage } from './views.mjs';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node provider.mjs <config.json>');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const usersBySub = new Map(config.users.map((user) => [user.sub, user]));

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: config.cookie_keys },
  responseTypes: ['code'],
  // Confidential clients only; with client_secret_basic registered, oidc-provider also accepts client_secret_post.
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  pkce: { required: () => true },
  acrValues: ['urn:certdesk:mfa', 'urn:certdesk:pwd'],
  // A claim reaches a token only when it is mapped to a granted scope; amr/acr/auth_time ride on openid so every
  // ID token carries them, not only those requested with acr_values or max_age.
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // By default the ID token only carries the openid-scope claims when an access token is issued (the rest is left
  // to userinfo); the portal reads groups, name and email from the ID token itself.
  conformIdTokenClaims: false,
  // Refresh tokens for every client allowed the grant, instead of only on offline_access + prompt=consent.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(ctx, sub) {
    const user = usersBySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: user.name,
          preferred_username: user.username,
          email: user.email,
          email_verified: true,
          groups: user.groups,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = logoutPage(form);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = logoutDonePage(ctx.oidc.client?.clientName);
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = errorPage('Sign-in error', out);
  },
  // Explicit lifetimes (seconds); also silences oidc-provider's "you SHOULD change" notices for the defaults.
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 24 * 3600,
  },
});

provider.on('server_error', (ctx, err) => console.error('server_error', ctx.path, err));

const handleInteraction = createInteractionHandler(provider, config.users);
const handleOidc = provider.callback();

createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) handleInteraction(req, res);
  else handleOidc(req, res);
}).listen(config.port, '127.0.0.1', () => {
  console.log(`oidc provider listening, issuer ${config.issuer}`);
});
