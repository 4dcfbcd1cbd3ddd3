import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccountWithOneTimePassword, setAccountDisabled } from '../../src/domain/accounts.ts';
import { requestPasswordReset } from '../../src/domain/password-resets.ts';
import { signInWithProvider } from '../../src/domain/provider-sign-in.ts';
import { setTenantDisabled } from '../../src/domain/tenants.ts';
import { AppError } from '../../src/domain/errors.ts';
import { addAcceptedMember, buildTestApp, type TestApp } from '../helpers.ts';

// docs/behaviour.md, "Disabled tenants and accounts": the operator's switches (kupe-server tenants disable,
// users disable; as processes with a server caching keys: test/cli/kupe-server.test.ts, and on three
// PostgreSQL instances: test/multi/instances.test.ts). Access tokens of a disabled account:
// test/oidc/bearer-tokens.test.ts.

const OPERATOR = (app: TestApp) => ({ actor: 'operator', now: app.clock() });
const answer = async (app: TestApp, path: string, options: Parameters<TestApp['call']>[2] = {}) => {
  const res = await app.call('GET', path, options);
  return res.statusCode === 200 ? '200' : `${res.statusCode} ${res.json().code}`;
};

test("a disabled tenant: its keys (cached ones too), its members and the gateway's verify are refused with tenant_disabled; outsiders are told nothing new", async (t) => {
  const app = await buildTestApp(t);
  const bob = await addAcceptedMember(app, 'bob@acme.com', 'admin');
  assert.equal(await answer(app, '/api/v1/tenants/acme', { key: app.adminKey }), '200', 'the key is cached now');

  assert.deepEqual(await setTenantDisabled(app.store, 'acme', true, OPERATOR(app)).then((r) => r.changed), true);
  for (const key of [app.adminKey, app.readonlyKey]) {
    assert.equal(await answer(app, '/api/v1/tenants/acme', { key }), '403 tenant_disabled');
    assert.equal(await answer(app, '/api/v1/whoami', { key }), '403 tenant_disabled', 'on routes of no tenant too');
  }
  const refused = await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: app.adminKey });
  assert.match(refused.json().error, /disabled by the operator/);
  assert.equal(refused.headers['www-authenticate'], undefined, 'a 403: the credential is genuine');
  const gateway = await app.call('GET', '/api/v1/gateway/verify', {
    key: app.readonlyKey, headers: { 'x-original-method': 'GET', 'x-original-uri': '/api/v1/tenants/acme/clusters' },
  });
  assert.deepEqual([gateway.statusCode, gateway.json().code], [403, 'tenant_disabled']);

  assert.equal(await answer(app, '/api/v1/tenants/acme/apikeys', { headers: { cookie: bob.cookie } }), '403 tenant_disabled', "a member's session");
  const session = await app.call('GET', '/api/v1/session', { headers: { cookie: bob.cookie } });
  assert.equal(session.statusCode, 200, 'his account still works');
  assert.deepEqual(session.json().memberships, [{ tenant: 'acme', role: 'admin', disabled: true }], 'the console is told, and says so');
  assert.equal(await answer(app, '/api/v1/tenants/acme', { key: app.otherTenantKey }), '403 not_a_member', 'an outsider learns nothing');
  assert.equal(await answer(app, '/api/v1/tenants/globex', { key: app.otherTenantKey }), '200', 'another tenant works');

  // A pipeline still running with the key is no guess: it never backs the address off.
  const busy = await buildTestApp(t, { config: { authBackoffAfter: 3 } });
  await setTenantDisabled(busy.store, 'acme', true, OPERATOR(busy));
  for (let i = 0; i < 6; i++) assert.equal(await answer(busy, '/api/v1/whoami', { key: busy.adminKey }), '403 tenant_disabled');
  assert.equal(await answer(busy, '/api/v1/tenants/globex', { key: busy.otherTenantKey }), '200', 'the same address, not backed off');
  assert.match((await busy.call('GET', '/metrics')).body, /kupe_authentications_total\{outcome="failure",reason="tenant_disabled"\} 6/);

  assert.equal((await setTenantDisabled(app.store, 'acme', true, OPERATOR(app))).changed, false, 'already disabled');
  await setTenantDisabled(app.store, 'acme', false, OPERATOR(app));
  assert.equal(await answer(app, '/api/v1/tenants/acme', { key: app.adminKey }), '200');
  assert.equal(await answer(app, '/api/v1/tenants/acme/apikeys', { headers: { cookie: bob.cookie } }), '200');
  const audit = await app.call('GET', '/api/v1/tenants/acme/auditlog', { key: app.adminKey });
  assert.deepEqual(audit.json().items.filter((e: { action: string }) => /^tenant\.(dis|en)able$/.test(e.action))
    .map((e: { action: string; actor: string; target: string }) => [e.action, e.actor, e.target]),
  [['tenant.enable', 'operator', 'acme'], ['tenant.disable', 'operator', 'acme']]);
  await assert.rejects(setTenantDisabled(app.store, 'ghost', true, OPERATOR(app)), (e: AppError) => e.code === 'tenant_not_found');
});

test('a disabled account: its sessions end, its sign-in (password or provider) and reset links are refused; its tenants and their keys carry on', async (t) => {
  const app = await buildTestApp(t);
  const password = 'correct horse battery staple';
  const bob = await addAcceptedMember(app, 'bob@acme.com', 'readonly', password);
  assert.equal(await answer(app, '/api/v1/tenants/acme', { headers: { cookie: bob.cookie } }), '200');

  assert.equal((await setAccountDisabled(app.store, 'Bob@Acme.com', true, OPERATOR(app))).changed, true);
  assert.equal(await answer(app, '/api/v1/tenants/acme', { headers: { cookie: bob.cookie } }), '401 session_invalid', 'his session ended');
  const signIn = (secret: string) => app.call('POST', '/api/v1/session', { body: { email: 'bob@acme.com', password: secret } });
  const refused = await signIn(password);
  assert.deepEqual([refused.statusCode, refused.json().code, refused.headers['set-cookie']], [403, 'account_disabled', undefined]);
  assert.equal((await signIn('a wrong password here')).json().code, 'invalid_credentials', 'told only to whoever knows the password');
  await assert.rejects(signInWithProvider(app.store, { issuer: 'https://id.example.com/', subject: 'bob', email: 'bob@acme.com', emailVerified: true, roles: undefined },
    { now: app.clock() }, { idleSeconds: 3600, absoluteSeconds: 86_400 }), (e: AppError) => e.code === 'account_disabled');
  assert.equal(await app.store.identities.ofAccount('bob@acme.com', 'https://id.example.com/'), undefined, 'the refused sign-in linked nothing');

  // With email on (the route's answer is the same for every address: test/http/mail.test.ts).
  await requestPasswordReset(app.store, 'bob@acme.com', { now: app.clock(), mail: { consoleUrl: 'https://kupe.example.com' } });
  assert.equal(await app.store.passwordResets.latestFor('bob@acme.com'), undefined, 'no reset link is made for a disabled account');

  assert.equal(await answer(app, '/api/v1/tenants/acme/members', { key: app.readonlyKey }), '200', "the tenant's keys are not his");
  assert.equal((await setAccountDisabled(app.store, 'bob@acme.com', false, OPERATOR(app))).changed, true);
  assert.equal((await signIn(password)).statusCode, 200);
  await requestPasswordReset(app.store, 'bob@acme.com', { now: app.clock(), mail: { consoleUrl: 'https://kupe.example.com' } });
  assert.ok(await app.store.passwordResets.latestFor('bob@acme.com'), 'enabled again: a reset link is made');
  const audit = await app.call('GET', '/api/v1/tenants/acme/auditlog', { key: app.adminKey });
  assert.deepEqual(audit.json().items.filter((e: { action: string }) => /^account\.(dis|en)able$/.test(e.action))
    .map((e: { action: string; actor: string; target: string }) => [e.action, e.actor, e.target]),
  [['account.enable', 'operator', 'bob@acme.com'], ['account.disable', 'operator', 'bob@acme.com']]);
  await assert.rejects(setAccountDisabled(app.store, 'nobody@acme.com', true, OPERATOR(app)), (e: AppError) => e.code === 'user_not_found');
  assert.ok(await createAccountWithOneTimePassword(app.store, 'new@acme.com', app.clock()), 'a new account is enabled');
  assert.equal((await setAccountDisabled(app.store, 'new@acme.com', false, OPERATOR(app))).changed, false);
});
