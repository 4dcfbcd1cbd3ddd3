import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccountWithOneTimePassword } from '../../src/domain/accounts.ts';
import { buildTestApp, inviteToken, snapshot, type TestApp } from '../helpers.ts';

const PASSWORD = 'attacker chosen passphrase';

async function signIn(app: TestApp, email: string, password: string) {
  const res = await app.call('POST', '/api/v1/session', { body: { email, password } });
  assert.equal(res.statusCode, 200, res.body);
  return { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: res.json().csrfToken as string, body: res.json() };
}

const add = (app: TestApp, tenant: string, key: string, email: string, role = 'admin') =>
  app.call('POST', `/api/v1/tenants/${tenant}/members`, { key, body: { email, role } });

test('invite takeover: an admin of one tenant gets no access to another through an email they do not own', async (t) => {
  const app = await buildTestApp(t);
  const attackerKey = app.otherTenantKey; // admin of globex
  const victim = 'ceo@newcustomer.example';

  // The attacker adds an email with no account, takes the link for themselves, and leaves no trace.
  const planted = await add(app, 'globex', attackerKey, victim);
  assert.equal(planted.statusCode, 201);
  const accepted = await app.call('POST', `/api/v1/invites/${inviteToken(planted.json().invite.url)}/accept`, { body: { password: PASSWORD } });
  assert.equal(accepted.statusCode, 200, 'an email without an account: the link holder chooses its password');
  assert.equal((await app.call('DELETE', `/api/v1/tenants/globex/members/${victim}`, { key: attackerKey })).statusCode, 204);

  // Later, acme adds the same email as admin: the membership is listed, pending, and grants nothing...
  const added = await add(app, 'acme', app.adminKey, victim);
  assert.equal(added.statusCode, 201);
  assert.equal(added.json().pending, true);
  const attacker = await signIn(app, victim, PASSWORD);
  assert.deepEqual(attacker.body.memberships, []);
  const keys = await app.call('GET', '/api/v1/tenants/acme/apikeys', { headers: { cookie: attacker.cookie } });
  assert.deepEqual([keys.statusCode, keys.json().code], [403, 'not_a_member']);
  const create = await app.call('POST', '/api/v1/tenants/acme/apikeys', {
    body: { displayName: 'backdoor', role: 'admin' }, headers: { cookie: attacker.cookie, 'x-kupe-csrf': attacker.csrf },
  });
  assert.deepEqual([create.statusCode, create.json().code], [403, 'not_a_member']);
  // ...and acme's link, in the hands of the real CEO, cannot reset the attacker's password either way.
  const before = await app.store.users.get(victim);
  const claim = await app.call('POST', `/api/v1/invites/${inviteToken(added.json().invite.url)}/accept`, { body: { password: 'the real ceo passphrase' } });
  assert.deepEqual([claim.statusCode, claim.json().code], [409, 'account_exists']);
  assert.deepEqual(await app.store.users.get(victim), before, 'the account is untouched');
  assert.deepEqual((await app.call('GET', '/api/v1/tenants/acme/members', { key: app.adminKey })).json().items
    .find((m: { email: string }) => m.email === victim), { email: victim, role: 'admin', pending: true });
});

test('every add answers alike whether or not the email has an account anywhere (no oracle)', async (t) => {
  const app = await buildTestApp(t);
  await createAccountWithOneTimePassword(app.store, 'alice@acme.com', app.clock());
  const known = (await add(app, 'globex', app.otherTenantKey, 'alice@acme.com', 'readonly')).json();
  const unknown = (await add(app, 'globex', app.otherTenantKey, 'nobody@acme.com', 'readonly')).json();
  const shape = (body: Record<string, any>) => ({ ...body, email: 'x', invite: Object.keys(body.invite).sort() });
  assert.deepEqual(shape(known), shape(unknown));
  // The link to an existing account works only signed in to that account.
  const token = inviteToken(known.invite.url);
  const hank = await createAccountWithOneTimePassword(app.store, 'hank@globex.com', app.clock());
  const wrong = await signIn(app, 'hank@globex.com', hank!);
  const refused = await app.call('POST', `/api/v1/invites/${token}/join`, { headers: { cookie: wrong.cookie, 'x-kupe-csrf': wrong.csrf } });
  assert.deepEqual([refused.statusCode, refused.json().code], [403, 'invite_for_another_account']);
});

test('an existing account joins by signing in; the link is spent; the join is in the audit log', async (t) => {
  const app = await buildTestApp(t);
  const otp = (await createAccountWithOneTimePassword(app.store, 'alice@acme.com', app.clock()))!;
  const token = inviteToken((await add(app, 'globex', app.otherTenantKey, 'alice@acme.com', 'readonly')).json().invite.url);
  const alice = await signIn(app, 'alice@acme.com', otp);
  const noCsrf = await app.call('POST', `/api/v1/invites/${token}/join`, { headers: { cookie: alice.cookie } });
  assert.equal(noCsrf.statusCode, 403, 'a cross-site form cannot make someone join');
  const joined = await app.call('POST', `/api/v1/invites/${token}/join`, { headers: { cookie: alice.cookie, 'x-kupe-csrf': alice.csrf } });
  assert.equal(joined.statusCode, 200, joined.body);
  assert.deepEqual(joined.json().memberships, [{ tenant: 'acme', role: 'admin' }, { tenant: 'globex', role: 'readonly' }]);
  const again = await app.call('POST', `/api/v1/invites/${token}/join`, { headers: { cookie: alice.cookie, 'x-kupe-csrf': alice.csrf } });
  assert.equal(again.json().code, 'invite_invalid');
  const audit = await app.call('GET', '/api/v1/tenants/globex/auditlog?action=member.join', { key: app.otherTenantKey });
  assert.deepEqual(audit.json().items.map((e: { actor: string }) => e.actor), ['alice@acme.com']);
});

test('removing a member revokes its invite', async (t) => {
  const app = await buildTestApp(t);
  const token = inviteToken((await add(app, 'acme', app.adminKey, 'bob@acme.com', 'readonly')).json().invite.url);
  assert.equal((await app.call('DELETE', '/api/v1/tenants/acme/members/bob@acme.com', { key: app.adminKey })).statusCode, 204);
  const before = await snapshot(app.store);
  assert.equal((await app.call('GET', `/api/v1/invites/${token}`)).json().code, 'invite_invalid');
  const res = await app.call('POST', `/api/v1/invites/${token}/accept`, { body: { password: PASSWORD } });
  assert.deepEqual([res.statusCode, res.json().code], [404, 'invite_invalid']);
  assert.equal(await app.store.users.get('bob@acme.com'), undefined, 'no account was made');
  assert.equal(await snapshot(app.store), before);
});

test('a pending member gets a new invite link (for members added by the CLI or Terraform, which do not show it); the old one stops working', async (t) => {
  const app = await buildTestApp(t);
  const first = inviteToken((await add(app, 'acme', app.adminKey, 'bob@acme.com', 'readonly')).json().invite.url);
  const url = '/api/v1/tenants/acme/members/bob@acme.com/invite';
  assert.equal((await app.call('POST', url, { key: app.readonlyKey })).statusCode, 403, 'admins only');
  const again = await app.call('POST', url, { key: app.adminKey });
  assert.equal(again.statusCode, 201);
  const second = inviteToken(again.json().url);
  assert.notEqual(second, first);
  assert.equal((await app.call('GET', `/api/v1/invites/${first}`)).json().code, 'invite_invalid', 'the old link is dead');
  assert.equal((await app.call('POST', `/api/v1/invites/${second}/accept`, { body: { password: PASSWORD } })).statusCode, 200);
  const joined = await app.call('POST', url, { key: app.adminKey });
  assert.deepEqual([joined.statusCode, joined.json().code], [409, 'member_not_pending']);
  assert.equal((await app.call('POST', '/api/v1/tenants/acme/members/nobody@acme.com/invite', { key: app.adminKey })).statusCode, 404);
});

test('with password sign-in off, an invite cannot set a password, and nothing changes', async (t) => {
  const app = await buildTestApp(t, { config: { passwordSignIn: false } });
  const added = await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: 'new@example.com', role: 'readonly' } });
  assert.equal(added.statusCode, 201);
  const before = await snapshot(app.store);
  const accepted = await app.call('POST', `/api/v1/invites/${inviteToken(added.json().invite.url)}/accept`, { body: { password: PASSWORD } });
  assert.equal(accepted.statusCode, 403);
  assert.equal(accepted.json().code, 'password_sign_in_disabled');
  assert.equal(await snapshot(app.store), before);
  assert.equal(await app.store.users.get('new@example.com'), undefined);
  const methods = await app.call('GET', '/api/v1/sign-in-methods');
  assert.deepEqual(methods.json(), { password: false, email: false });
});
