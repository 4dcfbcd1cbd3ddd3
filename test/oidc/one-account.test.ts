import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccountWithOneTimePassword } from '../../src/domain/accounts.ts';
import { type ProviderIdentity, signInWithProvider, unlinkProviderIdentities } from '../../src/domain/provider-sign-in.ts';
import { AppError } from '../../src/domain/errors.ts';
import { buildTestApp, inviteToken, snapshot, type TestApp } from '../helpers.ts';

// One person, one account (docs/security.md): a password chosen through an invite link proves only that the
// link was held; the identity provider's word about an email is proof. Provider sign-ins go through the use
// case the /oidc/callback route calls (the route itself: test/oidc/console-routes.test.ts, and in Chromium:
// test/e2e/oidc-sign-in.test.ts).
const ISSUER = 'https://id.example.com/application/o/kupe/';
const SETTINGS = { idleSeconds: 3600, absoluteSeconds: 86_400 };
const PASSWORD = 'attacker chose this one';

const identity = (email: string, subject: string, roles: [string, 'admin' | 'readonly'][] = []): ProviderIdentity =>
  ({ issuer: ISSUER, subject, email, emailVerified: true, roles: new Map(roles) });

const passwordSignIn = (app: TestApp, email: string, password: string) =>
  app.call('POST', '/api/v1/session', { body: { email, password } });

/** hank (admin of globex, the attacker here) adds victim@corp.com and accepts the invite himself. */
async function preHijack(app: TestApp) {
  const added = await app.call('POST', '/api/v1/tenants/globex/members', { key: app.otherTenantKey, body: { email: 'victim@corp.com', role: 'readonly' } });
  assert.equal(added.statusCode, 201, added.body);
  const accepted = await app.call('POST', `/api/v1/invites/${inviteToken(added.json().invite.url)}/accept`, { body: { password: PASSWORD } });
  assert.equal(accepted.statusCode, 200, accepted.body);
  return { cookie: String(accepted.headers['set-cookie']).split(';')[0]! };
}

test('pre-account takeover: the owner signing in through the provider voids the invite-chosen password, ends its sessions, and is told', async (t) => {
  const app = await buildTestApp(t);
  const attacker = await preHijack(app);
  assert.equal((await passwordSignIn(app, 'victim@corp.com', PASSWORD)).statusCode, 200, 'before: the attacker signs in');

  // The real owner signs in through the provider; her groups make her an admin of acme.
  const result = await signInWithProvider(app.store, identity('Victim@corp.com', 'victim-sub', [['acme', 'admin']]), { now: app.clock() }, SETTINGS);
  assert.deepEqual(result.voidedPassword, { tenants: ['globex'] }, 'she is told which tenants the account is in');

  const again = await passwordSignIn(app, 'victim@corp.com', PASSWORD);
  assert.equal(again.statusCode, 401, 'the attacker\'s password no longer works');
  const old = await app.call('GET', '/api/v1/session', { headers: { cookie: attacker.cookie } });
  assert.equal(old.statusCode, 401, 'the attacker\'s session has ended');
  const mine = await app.call('GET', '/api/v1/session', { headers: { cookie: `kupe_session=${result.session.token}` } });
  assert.equal(mine.statusCode, 200, 'her own session works');

  const audit = await app.call('GET', '/api/v1/tenants/globex/auditlog?action=account.password_voided', { key: app.otherTenantKey });
  assert.deepEqual(audit.json().items.map((e: { actor: string; target: string }) => [e.actor, e.target]), [['victim@corp.com', 'victim@corp.com']]);

  // A second provider sign-in voids nothing more.
  const second = await signInWithProvider(app.store, identity('victim@corp.com', 'victim-sub'), { now: app.clock() }, SETTINGS);
  assert.equal(second.voidedPassword, undefined);
});

test('an account the operator made keeps its password when the provider vouches for the same email', async (t) => {
  const app = await buildTestApp(t);
  const password = await createAccountWithOneTimePassword(app.store, 'ops@corp.com', app.clock());
  assert.ok(password, 'the operator made the account');
  const result = await signInWithProvider(app.store, identity('ops@corp.com', 'ops-sub'), { now: app.clock() }, SETTINGS);
  assert.equal(result.voidedPassword, undefined);
  assert.equal((await passwordSignIn(app, 'ops@corp.com', password)).statusCode, 200);
});

test('identities are linked by issuer and subject: a reassigned address does not hand over the account', async (t) => {
  const app = await buildTestApp(t);
  await signInWithProvider(app.store, identity('kate@corp.com', 'kate-sub'), { now: app.clock() }, SETTINGS);
  // The provider gives kate's address to a newcomer (another subject).
  await assert.rejects(signInWithProvider(app.store, identity('kate@corp.com', 'newcomer-sub'), { now: app.clock() }, SETTINGS),
    (e: unknown) => e instanceof AppError && e.code === 'identity_conflict' && /belongs to another identity/.test(e.message));
  // Kate's identity now comes with another address: not silently a second account.
  await assert.rejects(signInWithProvider(app.store, identity('kate.new@corp.com', 'kate-sub'), { now: app.clock() }, SETTINGS),
    (e: unknown) => e instanceof AppError && e.code === 'identity_conflict' && /signs in to the Kupe account kate@corp.com/.test(e.message));
  // The operator unlinks; the next sign-in links anew.
  assert.equal(await unlinkProviderIdentities(app.store, 'kate@corp.com'), 1);
  const relinked = await signInWithProvider(app.store, identity('kate.new@corp.com', 'kate-sub'), { now: app.clock() }, SETTINGS);
  assert.equal(relinked.user.email, 'kate.new@corp.com');
});

test('an unverified or non-canonical email from the provider signs nobody in and changes nothing', async (t) => {
  const app = await buildTestApp(t);
  await preHijack(app);
  await assert.rejects(signInWithProvider(app.store, { ...identity('victim@corp.com', 'x'), emailVerified: false }, { now: app.clock() }, SETTINGS),
    (e: unknown) => e instanceof AppError && e.code === 'invalid_credentials');
  await assert.rejects(signInWithProvider(app.store, identity('\u212Aate@corp.com', 'y'), { now: app.clock() }, SETTINGS),
    (e: unknown) => e instanceof AppError && e.code === 'validation_failed');
  assert.equal((await passwordSignIn(app, 'victim@corp.com', PASSWORD)).statusCode, 200, 'the password stands');
  assert.equal(await app.store.identities.get(ISSUER, 'x'), undefined);
});

test('the API, the console sign-in and invites take the one canonical email: a lookalike is a 400 naming the rule, never a second name', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  const added = await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: '\u212Aate@acme.com', role: 'admin' } });
  assert.equal(added.statusCode, 400, added.body);
  assert.match(added.json().error, /email must be written in its plain \(NFKC\) form: .*\(U\+212A\)/);
  assert.equal(await snapshot(app.store), before, 'nothing added');
  // alice@acme.com is an admin of acme; her address with a dotted capital I is not a way in.
  const signIn = await app.call('POST', '/api/v1/session', { body: { email: 'AL\u0130CE@acme.com', password: 'whatever it is' } });
  assert.deepEqual([signIn.statusCode, signIn.json().error], [401, 'wrong email or password'], 'names no account');
  const upper = await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: 'Bob@ACME.com', role: 'readonly' } });
  assert.equal(upper.json().email, 'bob@acme.com', 'ASCII case folds as before');
});
