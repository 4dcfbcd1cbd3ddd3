import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { IssuerKeys } from '../../src/oidc/issuer.ts';
import { buildTestApp } from '../helpers.ts';
import { startTestProvider } from './provider.ts';
import { systemClock } from '../../src/domain/time.ts';

/** The console's provider routes through app.inject; the provider is real, the browser is not needed here. */
async function setUp(t: TestContext, options: { providerUp: boolean }) {
  const provider = await startTestProvider({ users: { ada: { email: 'ada@example.com', email_verified: true, groups: ['acme-admins'] } } });
  t.after(() => provider.close());
  if (!options.providerUp) provider.setState('refusing');
  const oidc = loadConfig({ KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_CLIENT_ID: 'kupe-console', KUPE_OIDC_CLIENT_SECRET: 's' }).oidc;
  const keys = new IssuerKeys({ issuer: provider.issuer, refreshSeconds: 300, clock: systemClock, fetchTimeoutMs: 1000 });
  const app = await buildTestApp(t, { config: { oidc }, issuerKeys: keys });
  provider.addClient('kupe-console', 's', 'http://localhost:80/oidc/callback');
  return { provider, app, keys };
}

/** The code the console's sign-in page shows the catalogue's message of (SIGN_IN_FAILURES). */
const errorOf = (location: string) => /^\/#\/sign-in\?error=([a-z_]+)$/.exec(location)?.[1] ?? `not a catalogue code: ${location}`;

test('/oidc/login sends the browser to the provider with PKCE, state and nonce, kept in a Lax HttpOnly cookie', async (t) => {
  const { app, provider } = await setUp(t, { providerUp: true });
  const res = await app.call('GET', '/oidc/login');
  assert.equal(res.statusCode, 303);
  const to = new URL(String(res.headers.location));
  assert.equal(`${to.origin}${to.pathname}`, `${provider.issuer}auth`);
  assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(to.searchParams.get('client_id'), 'kupe-console');
  assert.equal(to.searchParams.get('redirect_uri'), 'http://localhost:80/oidc/callback');
  const cookie = String(res.headers['set-cookie']);
  assert.match(cookie, /^kupe_oidc=[A-Za-z0-9_-]+; Max-Age=600; Path=\/oidc; HttpOnly; SameSite=Lax$/);
  assert.equal(res.headers['cache-control'], 'no-store');
  // The cookie holds what the callback checks; the challenge sent is the verifier's S256.
  const pending = JSON.parse(Buffer.from(cookie.split(';')[0]!.split('=')[1]!, 'base64url').toString());
  assert.equal(to.searchParams.get('state'), pending.state);
  assert.equal(to.searchParams.get('nonce'), pending.nonce);
});

test('provider down at /oidc/login: back to the sign-in page with the reason, no cookie, bounded wait', async (t) => {
  const { app } = await setUp(t, { providerUp: false });
  const started = performance.now();
  const res = await app.call('GET', '/oidc/login');
  assert.equal(res.statusCode, 303);
  assert.equal(errorOf(String(res.headers.location)), 'provider_unreachable');
  assert.equal(res.headers['set-cookie'], undefined);
  assert.ok(performance.now() - started < 5000, 'answered within the fetch timeout');
});

test('callback: the provider refusing, a state that does not match, or the provider down all sign nobody in', async (t) => {
  const { app, provider } = await setUp(t, { providerUp: true });
  const login = await app.call('GET', '/oidc/login');
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const state = new URL(String(login.headers.location)).searchParams.get('state')!;
  const iss = encodeURIComponent(provider.issuer); // RFC 9207: this provider names itself in the response
  // The provider's own words go to the log, never into the link (the page shows catalogue messages only).
  const cases: [string, string][] = [
    [`error=access_denied&error_description=${encodeURIComponent('the person said no')}&state=${state}&iss=${iss}`, 'provider_refused'],
    [`code=abc&state=not-the-one&iss=${iss}`, 'sign_in_failed'],
    [`code=abc&state=${state}`, 'sign_in_failed'],
  ];
  for (const [query, code] of cases) {
    const res = await app.call('GET', `/oidc/callback?${query}`, { headers: { cookie } });
    assert.equal(res.statusCode, 303, query);
    assert.equal(errorOf(String(res.headers.location)), code, query);
    assert.match(String(res.headers['set-cookie']), /^kupe_oidc=; Max-Age=0/, 'the pending sign-in is used once');
    assert.ok(!String(res.headers['set-cookie']).includes('kupe_session='), `${query}: no session`);
  }
  provider.setState('refusing');
  const down = await app.call('GET', `/oidc/callback?code=abc&state=${state}&iss=${iss}`, { headers: { cookie } });
  assert.equal(down.statusCode, 303);
  assert.equal(errorOf(String(down.headers.location)), 'sign_in_failed');
  assert.equal(down.headers['set-cookie']?.includes('kupe_session=') ?? false, false, 'no session');
});
