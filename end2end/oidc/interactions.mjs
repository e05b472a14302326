// Login and consent interactions of the dev OIDC provider (/interaction/:uid): password + TOTP sign-in, automatic
// consent for our own clients. Logs one line per login attempt (user, outcome), never passwords or codes.
import { createHash, timingSafeEqual } from 'node:crypto';

import { errorPage, loginPage } from './views.mjs';
import { matchingStep } from './totp.mjs';

const MESSAGES = {
  bad_password: 'Wrong username or password.',
  code_required: 'This account uses MFA: enter the 6-digit code from your authenticator app.',
  bad_code: 'Wrong or expired authentication code.',
  code_reused: 'This authentication code was already used. Wait for the next code and try again.',
};

const MAX_BODY = 16 * 1024;

// Hashing first gives equal-length buffers, so timingSafeEqual also hides the password length.
function sameSecret(given, expected) {
  const digest = (text) => createHash('sha256').update(String(text)).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_BODY) throw Object.assign(new Error('form too large'), { status: 413 });
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export function createInteractionHandler(provider, users) {
  const byUsername = new Map(users.map((user) => [user.username, user]));
  // Last accepted TOTP time step per user: a code (or an older one) is accepted once. In memory like the sessions.
  const lastStep = new Map();

  function checkLogin(user, password, code) {
    if (!user || !sameSecret(password, user.password)) return { outcome: 'bad_password' };
    if (!user.totp_secret) return { outcome: 'ok', amr: ['pwd'], acr: 'urn:certdesk:pwd' };
    if (!code) return { outcome: 'code_required' };
    const step = matchingStep(user.totp_secret, code);
    if (step === null) return { outcome: 'bad_code' };
    if (step <= (lastStep.get(user.username) ?? -1)) return { outcome: 'code_reused' };
    lastStep.set(user.username, step);
    return { outcome: 'ok', amr: ['pwd', 'otp'], acr: 'urn:certdesk:mfa' };
  }

  async function renderLogin(req, res, interaction, { username, error } = {}) {
    const client = await provider.Client.find(interaction.params.client_id);
    const action = `/interaction/${interaction.uid}`;
    send(res, error ? 400 : 200, loginPage({
      action, abortUrl: `${action}/abort`, clientName: client?.clientName ?? interaction.params.client_id, username, error,
    }));
  }

  async function submitLogin(req, res, interaction) {
    const form = await readForm(req);
    const username = (form.get('username') ?? '').trim();
    const user = byUsername.get(username);
    const { outcome, amr, acr } = checkLogin(user, form.get('password') ?? '', (form.get('totp') ?? '').trim());
    console.log(`login user=${JSON.stringify(username)} client=${interaction.params.client_id} outcome=${outcome}`);
    if (outcome !== 'ok') {
      await renderLogin(req, res, interaction, { username, error: MESSAGES[outcome] });
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.sub, amr, acr } }, {
      mergeWithLastSubmission: false,
    });
  }

  // All configured clients are first-party, so consent is granted without a screen: exactly what the prompt
  // reports as missing, the same way oidc-provider's devInteractions consent submit does it.
  async function grantConsent(req, res, interaction) {
    const { prompt: { details }, params, session, grantId } = interaction;
    const grant = (grantId && await provider.Grant.find(grantId))
      || new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    // Merge keeps the preceding login result, so prompt=login is not asked again on resume.
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, {
      mergeWithLastSubmission: true,
    });
  }

  async function route(req, res) {
    const { pathname } = new URL(req.url, 'http://internal');
    const [, , uid, action] = pathname.split('/');
    // The interaction cookie is scoped to /interaction/<uid>; the details come from it, not from the URL.
    const interaction = await provider.interactionDetails(req, res);
    if (interaction.uid !== uid) {
      send(res, 400, errorPage('Sign-in failed', { error: 'interaction mismatch' }));
    } else if (action === 'abort' && req.method === 'GET') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User aborted the sign-in',
      }, { mergeWithLastSubmission: false });
    } else if (action === undefined && interaction.prompt.name === 'login') {
      await (req.method === 'POST' ? submitLogin : renderLogin)(req, res, interaction);
    } else if (action === undefined && interaction.prompt.name === 'consent' && req.method === 'GET') {
      await grantConsent(req, res, interaction);
    } else {
      send(res, 404, errorPage('Not found', { path: pathname }));
    }
  }

  return async function handleInteraction(req, res) {
    try {
      await route(req, res);
    } catch (err) {
      if (err.name === 'SessionNotFound') {
        send(res, 400, errorPage('Sign-in expired', {
          error: 'The sign-in request expired or was already completed. Go back to the application and sign in again.',
        }));
        return;
      }
      console.error('interaction error:', err);
      send(res, err.status ?? 500, errorPage('Sign-in failed', { error: err.message }));
    }
  };
}
