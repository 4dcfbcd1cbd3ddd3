import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createAccountWithOneTimePassword } from '../../src/domain/accounts.ts';
import { createLogger } from '../../src/logger.ts';
import { addAcceptedMember, buildTestApp, type TestApp } from '../helpers.ts';

const NEW_PASSWORD = 'correct horse battery staple';

async function signIn(app: TestApp, email: string, password: string, headers: Record<string, string> = {}) {
  const res = await app.call('POST', '/api/v1/session', { body: { email, password }, headers });
  const cookie = String(res.headers['set-cookie'] ?? '').split(';')[0]!;
  return { res, cookie, csrf: res.statusCode === 200 ? res.json().csrfToken as string : '' };
}

/** Alice (admin of acme) with a password she has already chosen. */
async function aliceSignedIn(app: TestApp) {
  const otp = (await createAccountWithOneTimePassword(app.store, 'alice@acme.com', app.clock()))!;
  const first = await signIn(app, 'alice@acme.com', otp);
  const changed = await app.call('POST', '/api/v1/session/password', {
    body: { currentPassword: otp, newPassword: NEW_PASSWORD },
    headers: { cookie: first.cookie, 'x-kupe-csrf': first.csrf },
  });
  assert.equal(changed.statusCode, 200, changed.body);
  return { cookie: String(changed.headers['set-cookie']).split(';')[0]!, csrf: changed.json().csrfToken as string };
}

test('first sign-in with a one-time password must change it before anything else', async (t) => {
  const app = await buildTestApp(t);
  const otp = (await createAccountWithOneTimePassword(app.store, 'alice@acme.com', app.clock()))!;
  assert.match(otp, /^[A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}$/);
  const { res, cookie, csrf } = await signIn(app, 'Alice@Acme.com', otp);
  assert.equal(res.statusCode, 200);
  const body: Record<string, unknown> = res.json();
  assert.deepEqual({ ...body, csrfToken: 'x' }, {
    email: 'alice@acme.com', mustChangePassword: true, csrfToken: 'x', signedInWith: 'password', memberships: [{ tenant: 'acme', role: 'admin' }],
  });
  const [pair, ...attributes] = String(res.headers['set-cookie']).split('; ');
  assert.match(pair!, /^kupe_session=[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(attributes.sort(), ['HttpOnly', 'Max-Age=86400', 'Path=/', 'SameSite=Strict'], 'no Secure over plain http');

  let blocked = await app.call('GET', '/api/v1/tenants/acme', { headers: { cookie } });
  assert.deepEqual([blocked.statusCode, blocked.json().code], [403, 'password_change_required']);
  const weak = await app.call('POST', '/api/v1/session/password', {
    body: { currentPassword: otp, newPassword: 'short' }, headers: { cookie, 'x-kupe-csrf': csrf },
  });
  assert.deepEqual([weak.statusCode, weak.json().error], [400, 'password must be at least 12 characters']);
  const changed = await app.call('POST', '/api/v1/session/password', {
    body: { currentPassword: otp, newPassword: NEW_PASSWORD }, headers: { cookie, 'x-kupe-csrf': csrf },
  });
  assert.equal(changed.json().mustChangePassword, false);
  blocked = await app.call('GET', '/api/v1/tenants/acme', { headers: { cookie } });
  assert.deepEqual([blocked.statusCode, blocked.json().code], [401, 'session_invalid'], 'a password change ends old sessions');
  const fresh = String(changed.headers['set-cookie']).split(';')[0]!;
  assert.equal((await app.call('GET', '/api/v1/tenants/acme', { headers: { cookie: fresh } })).statusCode, 200);
  assert.equal((await signIn(app, 'alice@acme.com', otp)).res.statusCode, 401, 'the one-time password is gone');
  const audited = (await app.call('GET', '/api/v1/tenants/acme/auditlog?action=account.password_change', { key: app.adminKey })).json().items;
  assert.deepEqual(audited.map((e: Record<string, string>) => [e.actor, e.target]), [['alice@acme.com', 'one-time password replaced']],
    'the first sign-in\'s change is in the audit log of each tenant she acts in (the refused weak one is not)');
});

test('a session acts with the member role; keys it creates record the email', async (t) => {
  const app = await buildTestApp(t);
  const { cookie, csrf } = await aliceSignedIn(app);
  const res = await app.call('POST', '/api/v1/tenants/acme/apikeys', {
    body: { displayName: 'from console', role: 'readonly' }, headers: { cookie, 'x-kupe-csrf': csrf },
  });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.json().createdBy, 'alice@acme.com');
  assert.equal((await app.call('GET', '/api/v1/tenants/globex', { headers: { cookie } })).json().code, 'not_a_member');
  const who = await app.call('GET', '/api/v1/whoami', { headers: { cookie } });
  assert.deepEqual(who.json(), { kind: 'member', email: 'alice@acme.com' });
  await addAcceptedMember(app, 'bob@acme.com', 'admin');
  const self = await app.call('DELETE', '/api/v1/tenants/acme/members/alice@acme.com', { headers: { cookie, 'x-kupe-csrf': csrf } });
  assert.deepEqual([self.statusCode, self.json().code], [400, 'cannot_remove_self'], 'even with another admin present');
  // A demotion applies to the very next request of the demoted member's session.
  await app.call('PATCH', '/api/v1/tenants/acme/members/alice@acme.com', { key: app.adminKey, body: { role: 'readonly' } });
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/apikeys', { headers: { cookie } })).statusCode, 403);
});

test('unsafe requests on the cookie need the CSRF header and the own origin', async (t) => {
  const app = await buildTestApp(t);
  const { cookie, csrf } = await aliceSignedIn(app);
  const body = { displayName: 'csrf', role: 'admin' };
  const cases: [Record<string, string>, number][] = [
    [{ cookie }, 403],
    [{ cookie, 'x-kupe-csrf': 'wrong' }, 403],
    [{ cookie, 'x-kupe-csrf': csrf, origin: 'https://evil.example' }, 403],
    [{ cookie, 'x-kupe-csrf': csrf, 'sec-fetch-site': 'cross-site' }, 403],
    [{ cookie, 'x-kupe-csrf': csrf, origin: 'http://localhost:80' }, 201],
  ];
  for (const [headers, status] of cases) {
    const res = await app.call('POST', '/api/v1/tenants/acme/apikeys', { body, headers });
    assert.equal(res.statusCode, status, JSON.stringify(headers));
    if (status === 403) assert.equal(res.json().code, 'csrf_rejected');
  }
  assert.equal((await app.store.apiKeys.listActive('acme')).filter((k) => k.displayName === 'csrf').length, 1);
  const crossSignIn = await signIn(app, 'alice@acme.com', NEW_PASSWORD, { origin: 'https://evil.example' });
  assert.equal(crossSignIn.res.statusCode, 403);
});

test('wrong passwords: one vague answer, then throttling per account and address, and per address', async (t) => {
  const app = await buildTestApp(t);
  await aliceSignedIn(app);
  const unknown = await signIn(app, 'nobody@acme.com', 'whatever-password');
  const wrong = await signIn(app, 'alice@acme.com', 'not-the-password');
  assert.deepEqual([unknown.res.statusCode, unknown.res.json().error], [401, 'wrong email or password']);
  assert.deepEqual([wrong.res.statusCode, wrong.res.json().error], [401, 'wrong email or password']);
  const attempt = (email: string, password: string, ip: string) =>
    app.call('POST', '/api/v1/session', { body: { email, password }, remoteAddress: ip });
  // A third party guessing from rotating addresses cannot lock the owner out...
  for (let i = 0; i < 10; i++) assert.equal((await attempt('alice@acme.com', 'not-the-password', `10.0.0.${i}`)).statusCode, 401);
  assert.equal((await attempt('alice@acme.com', NEW_PASSWORD, '10.9.9.9')).statusCode, 200, 'the owner, elsewhere');
  // ...while guesses from one address at one account wait, and only there.
  for (let i = 0; i < 5; i++) await attempt('alice@acme.com', 'not-the-password', '10.6.6.6');
  const throttled = await attempt('alice@acme.com', NEW_PASSWORD, '10.6.6.6');
  assert.deepEqual([throttled.statusCode, throttled.json().code], [429, 'sign_in_throttled']);
  assert.ok(Number(throttled.headers['retry-after']) >= 1, 'Retry-After of at least 1 s');
  assert.equal((await attempt('alice@acme.com', NEW_PASSWORD, '10.9.9.9')).statusCode, 200);
  // One address trying one password on many accounts waits too.
  for (let i = 0; i < 20; i++) await attempt(`user${i}@acme.com`, 'guess-guess-guess', '10.7.7.7');
  await createAccountWithOneTimePassword(app.store, 'carol@acme.com', app.clock());
  assert.equal((await attempt('carol@acme.com', 'anything-at-all', '10.7.7.7')).statusCode, 429);
  app.clock.advance(20 * 60_000);
  assert.equal((await attempt('alice@acme.com', NEW_PASSWORD, '10.6.6.6')).statusCode, 200, 'after the wait, the right password works');
  const long = await attempt(`${'a'.repeat(300)}@acme.com`, 'x', '10.8.8.8');
  assert.deepEqual([long.statusCode, long.json().code], [400, 'validation_failed']);
});

test('concurrent wrong sign-ins: at most the allowance is checked, the rest wait', async (t) => {
  const app = await buildTestApp(t);
  await aliceSignedIn(app);
  const answers = await Promise.all(Array.from({ length: 100 }, () =>
    app.call('POST', '/api/v1/session', { body: { email: 'alice@acme.com', password: 'wrong-password!' }, remoteAddress: '10.5.5.5' })));
  const checked = answers.filter((a) => a.statusCode === 401).length;
  assert.equal(checked, 5, `${checked} passwords were checked`);
  assert.equal(answers.filter((a) => a.statusCode === 429).length, 95);
});

test('password change is throttled too', async (t) => {
  const app = await buildTestApp(t);
  const { cookie, csrf } = await aliceSignedIn(app);
  const change = (currentPassword: string) => app.call('POST', '/api/v1/session/password', {
    body: { currentPassword, newPassword: 'another long passphrase' }, headers: { cookie, 'x-kupe-csrf': csrf },
  });
  for (let i = 0; i < 5; i++) assert.equal((await change(`guess number ${i}`)).statusCode, 401);
  const refused = await change(NEW_PASSWORD);
  assert.deepEqual([refused.statusCode, refused.json().code], [429, 'sign_in_throttled']);
  app.clock.advance(2000);
  assert.equal((await change(NEW_PASSWORD)).statusCode, 200, 'after the wait');
});

test('sign-out and idle expiry end the session', async (t) => {
  const app = await buildTestApp(t);
  const { cookie, csrf } = await aliceSignedIn(app);
  const again = await signIn(app, 'alice@acme.com', NEW_PASSWORD);
  const out = await app.call('DELETE', '/api/v1/session', { headers: { cookie, 'x-kupe-csrf': csrf } });
  assert.equal(out.statusCode, 204);
  assert.match(String(out.headers['set-cookie']), /^kupe_session=; .*Max-Age=0/);
  assert.equal((await app.call('GET', '/api/v1/session', { headers: { cookie } })).statusCode, 401);
  assert.equal((await app.call('GET', '/api/v1/session', { headers: { cookie: again.cookie } })).statusCode, 200);
  app.clock.advance(61 * 60_000); // TEST_CONFIG: idle 60 minutes
  assert.equal((await app.call('GET', '/api/v1/session', { headers: { cookie: again.cookie } })).json().code, 'session_invalid');
});

test('an invite lets a new member choose a password, once', async (t) => {
  const app = await buildTestApp(t);
  const added = await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: 'bob@acme.com', role: 'readonly' } });
  const token = (added.json().invite.url as string).split('/').at(-1)!;
  assert.deepEqual((await app.call('GET', `/api/v1/invites/${token}`)).json(),
    { email: 'bob@acme.com', tenant: 'acme', expiresAt: added.json().invite.expiresAt });
  const weak = await app.call('POST', `/api/v1/invites/${token}/accept`, { body: { password: 'bob' } });
  assert.equal(weak.statusCode, 400);
  const accepted = await app.call('POST', `/api/v1/invites/${token}/accept`, { body: { password: NEW_PASSWORD } });
  assert.equal(accepted.statusCode, 200);
  const cookie = String(accepted.headers['set-cookie']).split(';')[0]!;
  assert.equal((await app.call('GET', '/api/v1/tenants/acme', { headers: { cookie } })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/apikeys', { headers: { cookie } })).statusCode, 403, 'readonly');
  const reused = await app.call('POST', `/api/v1/invites/${token}/accept`, { body: { password: NEW_PASSWORD } });
  assert.deepEqual([reused.statusCode, reused.json().code], [404, 'invite_invalid']);
  assert.equal((await app.call('GET', '/api/v1/invites/not-a-token')).statusCode, 404);
});

test('Secure cookie behind a trusted https proxy; passwords never logged', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('trace', new Writable({ write(c, _e, done) { lines.push(String(c)); done(); } }));
  const app = await buildTestApp(t, { logger, config: { trustProxy: ['127.0.0.1'] } });
  const otp = (await createAccountWithOneTimePassword(app.store, 'alice@acme.com', app.clock()))!;
  const { res } = await signIn(app, 'alice@acme.com', otp, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'kupe.example' });
  assert.ok(String(res.headers['set-cookie']).split('; ').includes('Secure'), 'Secure cookie over https');
  const token = String(res.headers['set-cookie']).split(';')[0]!.split('=')[1]!;
  const log = lines.join('');
  assert.match(log, /"url":"\/api\/v1\/session"/, 'the sign-in was logged (so the check below reads something)');
  assert.ok(!log.includes(otp) && !log.includes(token) && !log.includes(res.json().csrfToken), 'no secret in the log');
});

test("sign-ins and sign-outs go to the audit log of each tenant the person acts in; failed ones don't", async (t) => {
  const app = await buildTestApp(t);
  const { cookie, csrf } = await aliceSignedIn(app);
  await signIn(app, 'alice@acme.com', 'not her password at all');
  const out = await app.call('DELETE', '/api/v1/session', { headers: { cookie, 'x-kupe-csrf': csrf } });
  assert.equal(out.statusCode, 204);
  const entries = (await app.call('GET', '/api/v1/tenants/acme/auditlog?action=session.signin', { key: app.adminKey })).json().items;
  assert.deepEqual(entries.map((e: Record<string, string>) => [e.actor, e.action, e.target]), [['alice@acme.com', 'session.signin', 'password']]);
  const outs = (await app.call('GET', '/api/v1/tenants/acme/auditlog?action=session.signout', { key: app.adminKey })).json().items;
  assert.equal(outs.length, 1);
  assert.equal(outs[0].actor, 'alice@acme.com');
  // Globex, where alice is nobody, saw nothing.
  assert.equal((await app.call('GET', '/api/v1/tenants/globex/auditlog?action=session.signin', { key: app.otherTenantKey })).json().items.length, 0);
});

test('an argon2 failure that is not a mismatch (a damaged stored hash) is a logged 500, not a wrong password', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const app = await buildTestApp(t, { logger: createLogger('info', sink) });
  const at = new Date().toISOString();
  await app.store.users.insert({ email: 'damaged@acme.com', passwordHash: '$argon2id$v=19$garbage', mustChangePassword: false, createdAt: at, passwordChangedAt: at });
  const res = await app.call('POST', '/api/v1/session', { body: { email: 'damaged@acme.com', password: 'whatever it may be' } });
  assert.equal(res.statusCode, 500, res.body);
  assert.equal(res.json().code, 'internal_error');
  assert.ok(lines.some((line) => line.includes('"level":50')), 'logged as an error');
});
