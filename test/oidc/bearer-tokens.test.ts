import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { loadConfig } from '../../src/config.ts';
import { createAccountWithOneTimePassword, setAccountDisabled } from '../../src/domain/accounts.ts';
import { setTenantDisabled } from '../../src/domain/tenants.ts';
import { VerifiedTokens } from '../../src/oidc/access-tokens.ts';
import { IssuerKeys } from '../../src/oidc/issuer.ts';
import { closeSync, openSync, writeSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { addAcceptedMember, buildTestApp, TEST_POSTGRES_URL, type TestConfig, testClock } from '../helpers.ts';
import { newSigningKey, signToken, startTestProvider, type TestProvider } from './provider.ts';

const USERS = {
  ada: { email: 'Ada@Example.com', email_verified: true, groups: ['acme-admins', 'unrelated-group'] },
  ro: { email: 'ro@example.com', email_verified: true, groups: ['acme-readonly'] },
  hank: { email: 'hank2@globex.com', email_verified: true, groups: ['globex-admins'] },
  nogroups: { email: 'nogroups@example.com', email_verified: true },
  // Kupe's members list makes alice an admin of acme (the seed); her groups give nothing there.
  alice: { email: 'alice@acme.com', email_verified: true, groups: ['acme-everyone'] },
  unverified: { email: 'mallory@example.com', email_verified: false, groups: ['acme-admins'] },
  silent: { email: 'sam@example.com', groups: ['acme-admins'] },
};

/** The app and the provider's keys on one settable clock (the app's), starting now. */
async function setUp(
  t: TestContext, config: Partial<TestConfig> = {}, keySettings: { fetchTimeoutMs?: number; unknownKeyCooldownMs?: number } = {},
  env: Record<string, string> = {}, clock = testClock(new Date()),
) {
  const provider = await startTestProvider({ users: USERS });
  t.after(() => provider.close());
  const oidc = loadConfig({ KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_AUDIENCE: provider.audience, ...env }).oidc!;
  const keys = new IssuerKeys({ issuer: provider.issuer, refreshSeconds: 300, clock, unknownKeyCooldownMs: 0, ...keySettings });
  await keys.refresh();
  assert.equal(keys.lastFailure, undefined);
  const app = await buildTestApp(t, { config: { oidc, ...config }, issuerKeys: keys, clock });
  return { provider, keys, app };
}

/** Claims a genuine token from the test provider would carry, for tokens the test signs itself. */
function claims(provider: TestProvider, extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: provider.issuer, aud: provider.audience, sub: 'ada', iat: now, exp: now + 300, email: 'ada@example.com', email_verified: true,
    groups: ['acme-admins'], ...extra,
  };
}

test('access tokens from the provider: admin, readonly, another tenant, no groups', async (t) => {
  const { provider, app } = await setUp(t);
  const admin = await provider.issueAccessToken('ada');

  const whoami = await app.call('GET', '/api/v1/whoami', { key: admin });
  assert.equal(whoami.statusCode, 200, whoami.body);
  assert.deepEqual(whoami.json(), { kind: 'member', email: 'ada@example.com' });

  assert.equal((await app.call('GET', '/api/v1/tenants/acme', { key: admin })).statusCode, 200);
  const created = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: admin, body: { displayName: 'deploy', role: 'readonly' } });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().createdBy, 'ada@example.com');
  const audit = await app.call('GET', '/api/v1/tenants/acme/auditlog', { key: app.adminKey });
  assert.equal(audit.json().items[0].actor, 'ada@example.com');
  assert.equal(audit.json().items[0].action, 'apikey.create');

  const readonly = await provider.issueAccessToken('ro');
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/members', { key: readonly })).statusCode, 200);
  const refused = await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: readonly });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json().code, 'admin_required');

  const other = await app.call('GET', '/api/v1/tenants/acme', { key: await provider.issueAccessToken('hank') });
  assert.equal(other.statusCode, 403);
  assert.equal(other.json().error, 'not a member of this tenant');
  // A tenant named by the groups but not in Kupe: the action answers, not the guard.
  const ghost = await app.call('GET', '/api/v1/tenants/ghost', { key: await signToken(provider.keys[0]!, claims(provider, { groups: ['ghost-admins'] })) });
  assert.deepEqual([ghost.statusCode, ghost.json().code], [404, 'tenant_not_found']);

  const noGroups = await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('nogroups') });
  assert.equal(noGroups.statusCode, 401);
  assert.equal(noGroups.json().error, 'token missing groups claim');
  assert.equal(noGroups.json().code, 'token_missing_groups');
  assert.equal(noGroups.headers['www-authenticate'], 'Bearer');

  const unverified = await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('unverified') });
  assert.equal(unverified.statusCode, 401);
  assert.match(unverified.json().error, /email not verified/);
});

test("Kupe's members list and the groups combine: the stronger role applies", async (t) => {
  const { provider, app } = await setUp(t);
  const alice = await provider.issueAccessToken('alice'); // admin of acme in Kupe's list, no acme group
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: alice })).statusCode, 200);
  // readonly through the groups, admin through the list: admin.
  const both = await signToken(provider.keys[0]!, claims(provider, { email: 'alice@acme.com', groups: ['acme-readonly'] }));
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: both })).statusCode, 200);
  // A pending membership grants nothing.
  await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: 'pending@example.com', role: 'admin' } });
  const pending = await signToken(provider.keys[0]!, claims(provider, { email: 'pending@example.com', groups: [] }));
  assert.equal((await app.call('GET', '/api/v1/tenants/acme', { key: pending })).statusCode, 403);
});

test('tokens refused: expired, not yet valid, wrong audience or issuer, alg none, tampered, HMAC-confused', async (t) => {
  const { provider, app } = await setUp(t);
  const key = provider.keys[0]!;
  const now = Math.floor(Date.now() / 1000);
  const good = await signToken(key, claims(provider));
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: good })).statusCode, 200, 'the test-signed token itself is good');

  const [header, payload, signature] = good.split('.') as [string, string, string];
  const tamperedPayload = Buffer.from(JSON.stringify({ ...claims(provider), email: 'eve@example.com' })).toString('base64url');
  const hmacSecret = new TextEncoder().encode(JSON.stringify(key.publicJwk));
  const cases: [string, string, string, RegExp][] = [
    ['expired beyond the leeway', await signToken(key, claims(provider, { iat: now - 3600, exp: now - 120 })), 'token_expired', /^token expired$/],
    ['not valid yet', await signToken(key, claims(provider, { nbf: now + 600 })), 'invalid_token', /not valid yet/],
    ['wrong audience', await signToken(key, claims(provider, { aud: 'another-api' })), 'invalid_token', /audience is not kupe-api/],
    ['wrong issuer', await signToken(key, claims(provider, { iss: 'https://evil.example/' })), 'invalid_token', /issuer is not/],
    ['no exp', await signToken(key, claims(provider, { exp: undefined })), 'invalid_token', /exp/],
    ['alg none', new UnsecuredJWT(claims(provider)).encode(), 'invalid_token', /algorithm "none" not allowed/],
    ['tampered payload', `${header}.${tamperedPayload}.${signature}`, 'invalid_token', /signature does not verify/],
    ['tampered signature', `${header}.${payload}.${signature.slice(0, -4)}AAAA`, 'invalid_token', /signature does not verify/],
    ['HMAC with the public key as secret', await new SignJWT(claims(provider)).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(hmacSecret),
      'invalid_token', /algorithm "HS256" not allowed/],
    ['signed by a key the provider never published', await signToken(await newSigningKey('rogue'), claims(provider)), 'invalid_token', /key "rogue", which the issuer does not publish/],
    ['not a JWT at all, though it starts like one', 'eyJhbGciOiJSUzI1NiJ9.e30.', 'invalid_token', /./],
  ];
  for (const [name, token, code, message] of cases) {
    const res = await app.call('GET', '/api/v1/tenants/acme', { key: token });
    assert.equal(res.statusCode, 401, `${name}: ${res.body}`);
    assert.equal(res.json().code, code, name);
    assert.match(res.json().error, message, name);
    assert.equal(res.headers['www-authenticate'], 'Bearer', name);
  }
  // Within the leeway (60 s) an expired token still passes.
  const justExpired = await signToken(key, claims(provider, { exp: now - 10 }));
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: justExpired })).statusCode, 200);
});

test('failed token verification counts as guessing; a genuine expired token does not', async (t) => {
  const { provider, app } = await setUp(t, { authBackoffAfter: 2 });
  const key = provider.keys[0]!;
  const now = Math.floor(Date.now() / 1000);
  const expired = await signToken(key, claims(provider, { exp: now - 3600, iat: now - 7200 }));
  for (let i = 0; i < 5; i++) {
    assert.equal((await app.call('GET', '/api/v1/whoami', { key: expired, remoteAddress: '10.0.0.1' })).statusCode, 401);
  }
  const forged = await signToken(await newSigningKey('key-1'), claims(provider)); // the provider's kid, another key
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push((await app.call('GET', '/api/v1/whoami', { key: forged, remoteAddress: '10.0.0.2' })).statusCode);
  assert.deepEqual(answers, [401, 401, 429, 429]);
  // A good token from the same address is never refused by the backoff, and resets it.
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('ada'), remoteAddress: '10.0.0.2' })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: forged, remoteAddress: '10.0.0.2' })).statusCode, 401);
});

test('a token that verified once is refused the moment it expires (the verified-token cache keeps exp)', async (t) => {
  const clock = testClock(new Date());
  const { provider, app } = await setUp(t, {}, {}, { KUPE_OIDC_CLOCK_SKEW_SECONDS: '0' }, clock);
  const exp = Math.floor(clock().getTime() / 1000) + 2;
  const token = await signToken(provider.keys[0]!, claims(provider, { exp }));
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: token })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: token })).statusCode, 200, 'again, from the cache');
  clock.advance(1000);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: token })).statusCode, 200, 'a second before its exp');
  clock.advance(exp * 1000 - clock().getTime()); // the app's clock reaches exp: no waiting on the wall clock
  const late = await app.call('GET', '/api/v1/whoami', { key: token });
  assert.equal(late.statusCode, 401);
  assert.equal(late.json().code, 'token_expired');
});

test('a known key verifies without calling the provider', async (t) => {
  const { provider, app } = await setUp(t);
  const token = await provider.issueAccessToken('ada');
  const before = provider.jwksFetches;
  for (let i = 0; i < 20; i++) assert.equal((await app.call('GET', '/api/v1/tenants/acme', { key: token })).statusCode, 200);
  assert.equal(provider.jwksFetches, before);
});

test('key rotation at the provider: the new kid is fetched on first sight, the dropped one refused', async (t) => {
  const { provider, app } = await setUp(t);
  const oldToken = await provider.issueAccessToken('ada');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: oldToken })).statusCode, 200);

  provider.rotate([await newSigningKey('key-2')]);
  const newToken = await provider.issueAccessToken('ada');
  assert.equal(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid, 'key-2');
  const before = provider.jwksFetches;
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: newToken })).statusCode, 200);
  assert.equal(provider.jwksFetches, before + 1, 'one fetch for the new key');

  const dropped = await app.call('GET', '/api/v1/whoami', { key: oldToken });
  assert.equal(dropped.statusCode, 401);
  assert.match(dropped.json().error, /key "key-1", which the issuer does not publish/);
});

test('provider down: cached keys keep working; a new kid is refused with a clear error, and nothing hangs', async (t) => {
  const { provider, app, keys } = await setUp(t, {}, { fetchTimeoutMs: 500 });
  const cached = await provider.issueAccessToken('ada');
  const rogue = await signToken(await newSigningKey('key-9'), claims(provider));

  for (const state of ['refusing', 'silent'] as const) {
    provider.setState(state);
    assert.equal((await app.call('GET', '/api/v1/tenants/acme', { key: cached })).statusCode, 200, state);
    const started = performance.now();
    const res = await app.call('GET', '/api/v1/tenants/acme', { key: rogue });
    const took = performance.now() - started;
    assert.equal(res.statusCode, 503, `${state}: ${res.body}`);
    assert.equal(res.json().code, 'identity_provider_unavailable');
    assert.match(res.json().error, /signing key "key-9" is not among the keys Kupe holds, and the identity provider's keys could not be fetched/);
    assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After of at least 1 s');
    // Bounded by the fetch timeout (500 ms here), whatever the provider does.
    assert.ok(took < 5000, `${state}: answered after ${Math.round(took)} ms`);
    assert.ok(keys.lastFailure, state);
  }
  provider.setState('up');
  await keys.refresh();
  assert.equal(keys.lastFailure, undefined);
  const back = await app.call('GET', '/api/v1/tenants/acme', { key: rogue });
  assert.equal(back.statusCode, 401, 'back up: the unknown key is refused, not waited for');
});

test('provider back: a new key is fetched once the cooldown has passed on the clock, not before (Retry-After says when)', async (t) => {
  const { provider, app, keys } = await setUp(t, {}, { unknownKeyCooldownMs: 10_000 });
  provider.setState('refusing');
  provider.rotate([await newSigningKey('key-2')]);
  const token = await provider.issueAccessToken('ada');
  app.clock.advance(10_000); // past the cooldown of setUp's fetch: this token's unknown key is fetched (and fails)
  const down = await app.call('GET', '/api/v1/tenants/acme', { key: token });
  assert.equal(down.statusCode, 503, down.body);
  assert.equal(down.headers['retry-after'], '10');

  provider.setState('up');
  const fetches = provider.jwksFetches;
  app.clock.advance(9_900);
  assert.equal((await app.call('GET', '/api/v1/tenants/acme', { key: token })).statusCode, 503, 'within the cooldown: not fetched');
  assert.equal(provider.jwksFetches, fetches);
  app.clock.advance(100);
  const back = await app.call('GET', '/api/v1/tenants/acme', { key: token });
  assert.equal(back.statusCode, 200, back.body);
  assert.equal(provider.jwksFetches, fetches + 1);
  assert.equal(keys.lastFailure, undefined);
});

test('access tokens at the gateway route: the groups give the role, as on the API', async (t) => {
  const { provider, app } = await setUp(t);
  const ro = await provider.issueAccessToken('ro');
  const original = (method: string) => ({ 'x-original-method': method, 'x-original-uri': '/api/v1/tenants/acme/clusters' });
  const read = await app.call('GET', '/api/v1/gateway/verify', { key: ro, headers: original('GET') });
  assert.equal(read.statusCode, 200, read.body);
  assert.deepEqual([read.headers['x-kupe-tenant'], read.headers['x-kupe-role'], read.headers['x-kupe-principal'], read.headers['x-kupe-credential']],
    ['acme', 'readonly', 'ro@example.com', 'token']);
  const write = await app.call('GET', '/api/v1/gateway/verify', { key: ro, headers: original('POST') });
  assert.deepEqual([write.statusCode, write.json().code], [403, 'admin_required']);
  const admin = await app.call('GET', '/api/v1/gateway/verify', { key: await provider.issueAccessToken('ada'), headers: original('POST') });
  assert.deepEqual([admin.statusCode, admin.headers['x-kupe-role']], [200, 'admin']);
});

test('without KUPE_OIDC_ISSUER a JWT is just an invalid api key', async (t) => {
  const provider = await startTestProvider({ users: USERS });
  t.after(() => provider.close());
  const app = await buildTestApp(t);
  const res = await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('ada') });
  assert.equal(res.statusCode, 401);
  assert.equal(res.json().error, 'invalid api key');
});

test('email_verified must be the JSON true: absent, "false", 0, "true" and false are refused (a setting takes an absent one)', async (t) => {
  const { provider, app } = await setUp(t);
  const verdicts: Record<string, number> = {};
  for (const [name, value] of Object.entries({ absent: undefined, false: false, string_false: 'false', zero: 0, string_true: 'true', one: 1 })) {
    const token = await signToken(provider.keys[0]!, { ...claims(provider, { email: 'alice@acme.com' }), email_verified: value });
    const answer = await app.call('GET', '/api/v1/whoami', { key: token });
    verdicts[name] = answer.statusCode;
    if (answer.statusCode === 401) assert.match(answer.json().error, /email_verified must be true/);
  }
  assert.deepEqual(verdicts, { absent: 401, false: 401, string_false: 401, zero: 401, string_true: 401, one: 401 });
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('silent') })).statusCode, 401);

  const lenient = await setUp(t, {}, {}, { KUPE_OIDC_ACCEPT_MISSING_EMAIL_VERIFIED: 'true' });
  const silent = await lenient.app.call('GET', '/api/v1/whoami', { key: await lenient.provider.issueAccessToken('silent') });
  assert.equal(silent.statusCode, 200, silent.body);
  const said = await signToken(lenient.provider.keys[0]!, { ...claims(lenient.provider), email_verified: 'false' });
  assert.equal((await lenient.app.call('GET', '/api/v1/whoami', { key: said })).statusCode, 401, 'a claim that is there must still be true');
});

test('the email claim passes the one canonical-email rule: lookalikes of a member and junk are 401, never 500', async (t) => {
  const { provider, app } = await setUp(t);
  await addAcceptedMember(app, 'kate@acme.com', 'admin');
  // Kupe's members list makes kate@acme.com and alice@acme.com admins of acme. toLowerCase made the KELVIN SIGN
  // a k: its token acted as kate before. The others are lookalikes of a member.
  const lookalikes = ['\u212Aate@acme.com', 'AL\u0130CE@acme.com', 'al\u0131ce@acme.com', '\uFF41lice@acme.com', 'alice@\uFF41cme.com'];
  const junk = ['alice@acme.com\n', 'al\u202Eice@acme.com', `${'a'.repeat(3000)}@acme.com`, 'not an email', 'nul\u0000@acme.com', 'alice@acme.com\u200B'];
  for (const email of [...lookalikes, ...junk]) {
    const token = await signToken(provider.keys[0]!, claims(provider, { email, groups: [] }));
    const answer = await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: token });
    assert.equal(answer.statusCode, 401, `${JSON.stringify(email).slice(0, 40)}: ${answer.body}`);
    assert.equal(answer.json().code, 'invalid_token');
  }
  const kelvin = await app.call('GET', '/api/v1/whoami', { key: await signToken(provider.keys[0]!, claims(provider, { email: '\u212Aate@acme.com' })) });
  assert.match(kelvin.json().error, /U\+212A/, 'the error names the rule and the character');
  const upper = await signToken(provider.keys[0]!, claims(provider, { email: 'ALICE@acme.COM', groups: [] }));
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: upper })).statusCode, 200, 'ASCII case still folds');
});

test('verified-token cache: keyed by the key material, so a kid reused with a new key ends the old entries', async (t) => {
  const { provider, app, keys } = await setUp(t);
  const token = await provider.issueAccessToken('ada');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: token })).statusCode, 200);
  // The provider publishes new material under the same kid; the old key is gone.
  provider.rotate([await newSigningKey(provider.keys[0]!.kid)]);
  await keys.refresh();
  const again = await app.call('GET', '/api/v1/whoami', { key: token });
  assert.equal(again.statusCode, 401, 'the cached verification died with the key material');
});

test('verified-token cache: no entry outlives its cap, whatever exp the token claims', () => {
  const cache = new VerifiedTokens(300);
  const keys = { thumbprints: new Set(['t1']) } as unknown as IssuerKeys;
  const now = 1_000_000;
  cache.put('d', { email: 'ada@example.com', roles: new Map(), thumbprint: 't1', until: now + 300 });
  assert.ok(cache.get('d', keys, now + 299), 'kept within the cap');
  assert.equal(cache.get('d', keys, now + 300), undefined, 'gone at the cap');
  assert.equal(new VerifiedTokens(0).maxAgeSeconds, 0);
});

test('access tokens respect the identity links of console sign-ins: a reassigned address acts as nobody', async (t) => {
  const { provider, app } = await setUp(t);
  const linkedAt = new Date().toISOString();
  // ada@example.com's account signed in once as the provider's subject "ada-before"; the provider now gives the
  // address to subject "ada" (the test provider's sub is the login).
  await app.store.identities.insert({ issuer: provider.issuer, subject: 'ada-before', email: 'ada@example.com', linkedAt });
  const reassigned = await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('ada') });
  assert.equal(reassigned.statusCode, 401);
  assert.match(reassigned.json().error, /linked to another identity at the provider/);
  // A subject linked to another account cannot act under a new address either.
  await app.store.identities.insert({ issuer: provider.issuer, subject: 'ro', email: 'ro.old@example.com', linkedAt });
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('ro') })).statusCode, 401);
  // The matching link (and an identity never linked) acts as before.
  await app.store.identities.insert({ issuer: provider.issuer, subject: 'hank', email: 'hank2@globex.com', linkedAt });
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('hank') })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('alice') })).statusCode, 200);
});

test("a disabled account's access tokens are refused at once, though verified tokens are remembered; a disabled tenant refuses them too", async (t) => {
  const { provider, app } = await setUp(t);
  const token = await provider.issueAccessToken('ada');
  const status = async (path: string) => {
    const res = await app.call('GET', path, { key: token });
    return res.statusCode === 200 ? '200' : `${res.statusCode} ${res.json().code}`;
  };
  assert.equal(await status('/api/v1/tenants/acme'), '200', 'verified, and remembered for minutes');
  const operator = { actor: 'operator', now: app.clock() };
  await setTenantDisabled(app.store, 'acme', true, operator);
  assert.equal(await status('/api/v1/tenants/acme'), '403 tenant_disabled', 'admin of acme through her groups');
  assert.equal(await status('/api/v1/whoami'), '200', 'a token names no tenant of its own');
  await setTenantDisabled(app.store, 'acme', false, operator);

  assert.ok(await createAccountWithOneTimePassword(app.store, 'ada@example.com', app.clock()), 'ada has a console account');
  await setAccountDisabled(app.store, 'ada@example.com', true, operator);
  assert.equal(await status('/api/v1/tenants/acme'), '403 account_disabled');
  assert.equal(await status('/api/v1/whoami'), '403 account_disabled');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: await provider.issueAccessToken('ro') })).statusCode, 200, 'another person is untouched');
  await setAccountDisabled(app.store, 'ada@example.com', false, operator);
  assert.equal(await status('/api/v1/tenants/acme'), '200');
});

test("the account's state is read on every token request: with that read failing, a cached token is a 503, not a 500 nor let through", { skip: TEST_POSTGRES_URL ? 'SQLite (a damaged file)' : false }, async (t) => {
  const { provider, app } = await setUp(t);
  const token = await provider.issueAccessToken('ada');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: token })).statusCode, 200, 'verified, and remembered');
  // The root pages of the users table and its index overwritten on disk (test/faults/sqlite.test.ts does the
  // same to api_keys); a commit elsewhere drops the server's page cache.
  const file = app.databaseUrl.slice('sqlite:'.length);
  const sqlite = new SQLite(file);
  t.after(() => sqlite.close());
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const roots = sqlite.prepare("select rootpage from sqlite_master where tbl_name = 'users'").all() as { rootpage: number }[];
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  const fd = openSync(file, 'r+');
  for (const { rootpage } of roots) writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
  closeSync(fd);
  sqlite.exec("update tenants set display_name = 'touched' where name = 'acme'");
  const res = await app.call('GET', '/api/v1/whoami', { key: token });
  assert.deepEqual([res.statusCode, res.json().code], [503, 'store_unavailable']);
});
