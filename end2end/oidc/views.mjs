// HTML pages of the dev OIDC provider: sign-in form, sign-out confirmation, sign-out done, error page.
// Self-contained (no external fonts or scripts) so the pages work offline and under a strict browser.

const escapes = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
};
const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (ch) => escapes[ch]);

const STYLE = `
body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;padding:3rem 1rem;color:#111827}
main{max-width:22rem;margin:0 auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px #0003}
h1{font-size:1.4rem;margin-top:0}
label{display:block;font-weight:600;margin-top:1rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;margin-top:.25rem}
.hint{font-size:.85rem;color:#4b5563;margin:.25rem 0 0}
.error{background:#fee2e2;color:#991b1b;padding:.6rem;border-radius:4px}
button{margin-top:1.25rem;padding:.6rem 1rem;font-size:1rem;width:100%;cursor:pointer}
a{color:#1d4ed8}`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · certdesk dev identity provider</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

export function loginPage({
  action, abortUrl, clientName, username = '', error,
}) {
  // novalidate: the server's messages are the single source of feedback, for people and tests alike.
  // After an error the username is kept but the password is never echoed back, so focus the password then.
  const focusPassword = Boolean(username);
  return page('Sign in', `<h1>Sign in</h1>
<p>to continue to <strong>${esc(clientName)}</strong></p>
${error ? `<p class="error" role="alert" id="login-error">${esc(error)}</p>` : ''}
<form method="post" action="${esc(action)}" novalidate>
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false"
    required value="${esc(username)}"${focusPassword ? '' : ' autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${focusPassword ? ' autofocus' : ''}>
  <label for="totp">Authentication code</label>
  <input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"
    aria-describedby="totp-hint">
  <p class="hint" id="totp-hint">6-digit code from your authenticator app. Leave empty if your account has no MFA.</p>
  <button type="submit">Sign in</button>
</form>
<p><a href="${esc(abortUrl)}">Cancel and return to ${esc(clientName)}</a></p>`);
}

// `form` is oidc-provider's hidden form (id op.logoutForm) carrying the xsrf token.
export function logoutPage(form) {
  return page('Sign out', `<h1>Sign out?</h1>
<p>Do you want to sign out of the certdesk dev identity provider?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

export function logoutDonePage(clientName) {
  return page('Signed out', `<h1>Signed out</h1>
<p>You have signed out${clientName ? ` of ${esc(clientName)}` : ''}.</p>`);
}

export function errorPage(title, details) {
  const rows = Object.entries(details)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `<dt>${esc(key)}</dt><dd>${esc(value)}</dd>`)
    .join('\n');
  return page(title, `<h1>${esc(title)}</h1>
<dl>${rows}</dl>`);
}
