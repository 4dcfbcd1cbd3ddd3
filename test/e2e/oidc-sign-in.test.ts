import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, type TestContext, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/http/app.ts';
import { IssuerKeys } from '../../src/oidc/issuer.ts';
import { CONSOLE_DIR } from '../../src/server.ts';
import { appDeps, openTestStore, seed } from '../helpers.ts';
import { startTestProvider } from '../oidc/provider.ts';
import { launchBrowser, newContext, NO_BROWSER, seriousA11yViolations } from './console-helpers.ts';
import { systemClock } from '../../src/domain/time.ts';

let browser: Browser;
before(async () => { if (!NO_BROWSER) browser = await launchBrowser(); });
after(() => browser?.close());
const skip = NO_BROWSER;

const USERS = {
  // New to Kupe: readonly in acme through the groups.
  newbie: { email: 'New.Person@Example.com', email_verified: true, groups: ['acme-readonly', 'payroll-admins'] },
  // Admin of acme in Kupe's members list (the seed), readonly in globex through the groups.
  alice: { email: 'alice@acme.com', email_verified: true, groups: ['globex-readonly'] },
  unverified: { email: 'mallory@example.com', email_verified: false, groups: ['acme-admins'] },
  // The owner of an address someone else invited to their tenant and chose a password for.
  victim: { email: 'victim@corp.com', email_verified: true, groups: ['acme-readonly'] },
};
const CLIENT_ID = 'kupe-console';
const CLIENT_SECRET = 'console-secret-for-tests';

/** Kupe (API + console) on a loopback port with sign-in through the test provider; its callback registered there. */
async function startKupe(t: TestContext, options: { passwordSignIn?: boolean } = {}) {
  const provider = await startTestProvider({ users: USERS });
  t.after(() => provider.close());
  const { oidc, passwordSignIn } = loadConfig({
    KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_CLIENT_ID: CLIENT_ID, KUPE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    KUPE_OIDC_AUDIENCE: `${CLIENT_ID},${provider.audience}`, KUPE_OIDC_PROVIDER_NAME: 'Test IdP',
    KUPE_PASSWORD_SIGN_IN: String(options.passwordSignIn ?? true),
  });
  const keys = new IssuerKeys({ issuer: provider.issuer, refreshSeconds: 300, clock: systemClock });
  await keys.refresh();
  const { store } = await openTestStore(t);
  const seeded = await seed(store, new Date());
  const { app } = await buildApp(await appDeps({
    config: { rateLimit: 10_000, oidc, passwordSignIn }, store, issuerKeys: keys, consoleDir: CONSOLE_DIR,
  }));
  t.after(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  provider.addClient(CLIENT_ID, CLIENT_SECRET, `${url}/oidc/callback`);
  return { url, provider, store, adminKey: seeded.adminKey, otherTenantKey: seeded.otherTenantKey };
}

/** The provider's own login and consent pages (oidc-provider's development interactions). */
async function signInAtProvider(page: Page, login: string) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password: the test provider takes every one');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function auditActions(url: string, key: string, tenant: string) {
  const res = await fetch(`${url}/api/v1/tenants/${tenant}/auditlog`, { headers: { authorization: `Bearer ${key}` } });
  return ((await res.json()) as { items: { actor: string; action: string; target: string }[] }).items;
}

test('a newcomer signs in through the provider: account made, groups give the tenant, sign-in and sign-out audited', { skip }, async (t) => {
  const { url, provider, store, adminKey } = await startKupe(t);
  const page = await (await newContext(browser, t)).newPage();
  await page.goto(url);
  const authorizeRequest = page.waitForRequest((r) => r.url().startsWith(`${provider.issuer}auth?`));
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  const authorize = new URL((await authorizeRequest).url());
  await signInAtProvider(page, 'newbie');

  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  assert.match(page.url(), /#\/t\/acme\/keys$/);
  await page.getByText("readonly through your identity provider's groups").waitFor();
  await page.getByText('new.person@example.com').waitFor();
  assert.equal(await page.getByRole('link', { name: 'Change password' }).count(), 0, 'no Kupe password to change');

  // The account exists now, with no password; payroll is no tenant here, so it is not a membership.
  const user = await store.users.get('new.person@example.com');
  assert.equal(user?.passwordHash, '');
  const session = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.json()));
  assert.deepEqual(session.memberships, [{ tenant: 'acme', role: 'readonly', viaProvider: true }]);
  assert.equal(session.signedInWith, 'oidc');

  const signedIn = (await auditActions(url, adminKey, 'acme'))[0]!;
  assert.deepEqual({ ...signedIn }, { ...signedIn, actor: 'new.person@example.com', action: 'session.signin', target: 'oidc' });

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Kupe' }).waitFor();
  const signedOut = (await auditActions(url, adminKey, 'acme'))[0]!;
  assert.deepEqual({ ...signedOut }, { ...signedOut, actor: 'new.person@example.com', action: 'session.signout', target: 'oidc' });
  // What went to the provider: the code flow with PKCE (S256), state and nonce.
  for (const name of ['state', 'nonce', 'code_challenge']) assert.ok(authorize.searchParams.get(name), `${name} sent`);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('response_type'), 'code');
});

test("an existing account: Kupe's members list and the groups combine", { skip }, async (t) => {
  const { url } = await startKupe(t);
  const page = await (await newContext(browser, t, { bypassCSP: true })).newPage(); // bypassCSP: for axe-core
  await page.goto(url);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await signInAtProvider(page, 'alice');
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  const session = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.json()));
  assert.deepEqual(session.memberships, [
    { tenant: 'acme', role: 'admin' }, { tenant: 'globex', role: 'readonly', viaProvider: true },
  ]);
  // Admin in acme through Kupe's list: she manages keys in the console.
  await page.getByRole('button', { name: 'Create API key' }).waitFor();
  await page.goto(`${url}/#/t/globex/members`);
  await page.getByText("readonly through your identity provider's groups").waitFor();
  assert.deepEqual((await seriousA11yViolations(page)).map((v) => v.id), [], 'a membership from the groups, marked');
});

test('an email the provider has not verified is refused, with the reason on the sign-in page', { skip }, async (t) => {
  const { url, store } = await startKupe(t);
  const page = await (await newContext(browser, t)).newPage();
  await page.goto(url);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await signInAtProvider(page, 'unverified');
  await page.getByRole('alert').filter({ hasText: 'has not verified your email address' }).waitFor();
  assert.equal(await store.users.get('mallory@example.com'), undefined, 'no account made');
});

test('a callback without the pending sign-in (another browser, or forged) signs nobody in', { skip }, async (t) => {
  const { url } = await startKupe(t);
  const page = await (await newContext(browser, t)).newPage();
  await page.goto(`${url}/oidc/callback?code=stolen&state=guessed`);
  await page.getByRole('alert').filter({ hasText: 'was not started from this browser' }).waitFor();
  const session = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.status));
  assert.equal(session, 401);
});

test('with password sign-in turned off the console offers only the provider, and the API refuses passwords', { skip }, async (t) => {
  const { url } = await startKupe(t, { passwordSignIn: false });
  const page = await (await newContext(browser, t, { bypassCSP: true })).newPage();
  await page.goto(url);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
  assert.equal(await page.getByLabel('Password').count(), 0);
  assert.deepEqual((await seriousA11yViolations(page)).map((v) => v.id), [], 'sign-in page, provider only');
  const res = await fetch(`${url}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'alice@acme.com', password: 'whatever it is' }),
  });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { code: string }).code, 'password_sign_in_disabled');
});

/**
 * What the kupe CLI's browser login does (its binary cannot be installed here: docs/oidc.md): a public client
 * `kupe-cli` under the Authentik-shaped issuer `<base>/application/o/kupe-cli/`, the authorization-code flow
 * with PKCE and a loopback redirect, the browser step in Chromium; then the access token goes to Kupe.
 */
test('a browser login of a public client (as the kupe CLI does) gives an access token Kupe takes', { skip }, async (t) => {
  const provider = await startTestProvider({ slug: 'kupe-cli', users: USERS });
  t.after(() => provider.close());
  const { oidc } = loadConfig({ KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_AUDIENCE: provider.audience });
  const keys = new IssuerKeys({ issuer: provider.issuer, refreshSeconds: 300, clock: systemClock });
  await keys.refresh();
  const { store } = await openTestStore(t);
  await seed(store, new Date());
  const { app } = await buildApp(await appDeps({ config: { oidc }, store, issuerKeys: keys }));
  t.after(() => app.close());
  const kupeUrl = await app.listen({ host: '127.0.0.1', port: 0 });

  // The CLI's side: a loopback listener for the redirect, and openid-client as a public client.
  let received: (url: URL) => void = () => {};
  const callback = new Promise<URL>((resolve) => { received = resolve; });
  const loopback = createServer((req, res) => {
    received(new URL(req.url ?? '/', 'http://127.0.0.1'));
    res.end('You can close this window.');
  });
  await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => loopback.close(resolve)));
  const redirectUri = `http://127.0.0.1:${(loopback.address() as AddressInfo).port}/callback`;
  provider.addClient('kupe-cli', undefined, redirectUri);
  const cli = await client.discovery(new URL(provider.issuer), 'kupe-cli', undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorizeUrl = client.buildAuthorizationUrl(cli, {
    redirect_uri: redirectUri, scope: 'openid email profile', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });

  const page = await (await newContext(browser, t)).newPage();
  await page.goto(authorizeUrl.href);
  await signInAtProvider(page, 'newbie');
  const back = await callback;
  const tokens = await client.authorizationCodeGrant(cli, new URL(`${redirectUri}${back.search}`), { pkceCodeVerifier: verifier, expectedState: state });

  const whoami = await fetch(`${kupeUrl}/api/v1/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.deepEqual(await whoami.json(), { kind: 'member', email: 'new.person@example.com' });
  const members = await fetch(`${kupeUrl}/api/v1/tenants/acme/members`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(members.status, 200);
  const keysRoute = await fetch(`${kupeUrl}/api/v1/tenants/acme/apikeys`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(keysRoute.status, 403, 'readonly through the groups');
});

test('a pipeline calls the same Kupe with an access token from the same provider', async (t) => {
  const { url, provider } = await startKupe(t);
  const token = await provider.issueAccessToken('newbie');
  const res = await fetch(`${url}/api/v1/tenants/acme/members`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
});

test('pre-account takeover in a browser: the owner\'s provider sign-in voids the invite-chosen password and says so', { skip }, async (t) => {
  const { url, otherTenantKey } = await startKupe(t);
  // globex's admin (the attacker) invites victim@corp.com and accepts the link himself.
  const added = await fetch(`${url}/api/v1/tenants/globex/members`, {
    method: 'POST', headers: { authorization: `Bearer ${otherTenantKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'victim@corp.com', role: 'readonly' }),
  });
  const token = String(((await added.json()) as { invite: { url: string } }).invite.url).split('/').at(-1)!;
  const password = 'attacker chose this one';
  const accepted = await fetch(`${url}/api/v1/invites/${token}/accept`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }),
  });
  assert.equal(accepted.status, 200);

  const page = await (await newContext(browser, t, { bypassCSP: true })).newPage(); // bypassCSP: for axe-core
  await page.goto(url);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await signInAtProvider(page, 'victim');
  await page.getByRole('heading', { name: 'Your account was secured' }).waitFor();
  await page.getByRole('link', { name: 'globex' }).waitFor();
  assert.deepEqual((await seriousA11yViolations(page)).map((v) => v.id), []);

  const signIn = await fetch(`${url}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ email: 'victim@corp.com', password }),
  });
  assert.equal(signIn.status, 401, 'the attacker\'s password is void');
  const audit = await auditActions(url, otherTenantKey, 'globex');
  assert.ok(audit.some((e) => e.action === 'account.password_voided' && e.actor === 'victim@corp.com'), 'globex\'s admins see it');
});

test('the sign-in page shows only catalogue messages, whatever text a link carries', { skip }, async (t) => {
  const { url } = await startKupe(t);
  const page = await (await newContext(browser, t)).newPage();
  await page.goto(`${url}/#/sign-in?error=${encodeURIComponent('Your account is locked: call +1 555 0100 now')}`);
  await page.getByRole('alert').filter({ hasText: 'Sign-in through the identity provider failed' }).waitFor();
  assert.equal(await page.getByText('555 0100').count(), 0, 'the link\'s text is not on the page');
  await page.goto(`${url}/#/sign-in?error=identity_conflict`);
  await page.reload();
  await page.getByRole('alert').filter({ hasText: 'linked to another identity at the provider' }).waitFor();
});
