// Drives a sign-in over plain HTTP (no browser) up to the moment the provider sends the browser back to
// certdesk's callback, so tests can tamper with or replay that step. Cookies are kept per origin.
import { idpUser } from './idp.mjs';
import { totpNow } from '../oidc/totp.mjs';

export class CookieClient {
  jar = new Map(); // origin -> Map(name -> value)

  async fetch(url, options = {}) {
    const target = new URL(url);
    const cookies = this.jar.get(target.origin) ?? new Map();
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      redirect: 'manual',
      ...options,
      headers: { ...(options.headers ?? {}), ...(cookie ? { cookie } : {}) },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const [name, ...rest] = pair.split('=');
      const expired = rest.join('=') === '' || attributes.some((a) => /^max-age=0$/i.test(a) || /1970/.test(a));
      if (!this.jar.has(target.origin)) this.jar.set(target.origin, new Map());
      if (expired) this.jar.get(target.origin).delete(name);
      else this.jar.get(target.origin).set(name, rest.join('='));
    }
    return response;
  }
}

// Starts at certdesk's /auth/login, signs `username` in at the provider, and stops before the callback.
export async function loginUntilCallback(baseUrl, username) {
  const client = new CookieClient();
  const user = idpUser(username);
  let response = await client.fetch(`${baseUrl}/auth/login`);
  let url = new URL(response.headers.get('location'), baseUrl);
  for (let hops = 0; hops < 20; hops++) {
    if (url.origin === new URL(baseUrl).origin && url.pathname === '/auth/callback') return { client, callbackUrl: url };
    response = await client.fetch(url);
    if (response.status === 200) {
      const html = await response.text();
      const action = html.match(/<form method="post" action="([^"]+)"/)?.[1];
      if (!action) throw new Error(`unexpected page at ${url}: ${html.slice(0, 200)}`);
      const body = new URLSearchParams({
        username: user.username,
        password: user.password,
        totp: user.totp_secret ? totpNow(user.totp_secret) : '',
      });
      response = await client.fetch(new URL(action, url), {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    }
    if (![302, 303].includes(response.status)) {
      const text = await response.text();
      throw new Error(`unexpected ${response.status} at ${url}: ${text.replace(/<[^>]+>/g, ' ').slice(0, 300)}`);
    }
    url = new URL(response.headers.get('location'), url);
  }
  throw new Error('too many redirects');
}
