import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { sweepExpiringKeys } from '../../src/domain/expiry.ts';
import { signInWithProvider } from '../../src/domain/provider-sign-in.ts';
import { LEAK_REPORTERS, revokeLeakedKeys } from '../../src/domain/leaks.ts';
import { RESET_QUIET_SECONDS } from '../../src/domain/password-resets.ts';
import { RETRY_SECONDS } from '../../src/domain/webhooks.ts';
import { RESET_REQUEST_FLOOR_MS } from '../../src/http/routes/password-resets.ts';
import { buildTestApp, until } from '../helpers.ts';
import { webhookReceiver } from '../receiver.ts';
import { Mailpit, mailpitMissing as skip } from '../mail/mailpit.ts';

const PUBLIC_URL = 'https://kupe.example.com';
const MEMBERS = '/api/v1/tenants/acme/members';
const DAY = 86_400_000;

/** The app with email on, sending through a Mailpit of the test's own; the mail worker started. */
async function mailingApp(t: TestContext, config: Parameters<typeof buildTestApp>[1] = {}) {
  const mailpit = await Mailpit.start(t);
  const app = await buildTestApp(t, {
    ...config,
    config: { ...config.config, mail: { smtpUrl: mailpit.smtpUrl, from: 'Kupe <kupe@kupe.test>', publicUrl: PUBLIC_URL } },
  });
  app.mailWorker!.start();
  return { app, mailpit };
}

/** The one link of a mail to the console, checked to be the same in both bodies. */
function linkIn(mail: { Text: string; HTML: string }, path: string): string {
  const pattern = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/#/${path}/[A-Za-z0-9_-]{43}`, 'g');
  const inText = mail.Text.match(pattern) ?? [];
  assert.equal(inText.length, 1, `one ${path} link in the plain text: ${mail.Text}`);
  assert.ok(mail.HTML.includes(`href="${inText[0]}"`), `the same link in the HTML: ${mail.HTML}`);
  return inText[0];
}

test('email on: the invite link goes only to the invited address; the admin who added the member never sees it; "send again" mails a new one', { skip }, async (t) => {
  const { app, mailpit } = await mailingApp(t);
  const added = await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'Bob@Example.com', role: 'readonly' } });
  assert.equal(added.statusCode, 201, added.body);
  assert.deepEqual(added.json().invite, { emailedTo: 'bob@example.com', expiresAt: added.json().invite.expiresAt });
  const [mail] = await mailpit.mailTo('bob@example.com');
  assert.equal(mail!.Subject, 'You are invited to acme on Kupe');
  assert.deepEqual(mail!.From, { Name: 'Kupe', Address: 'kupe@kupe.test' });
  const link = linkIn(mail!, 'invite');
  const token = link.split('/').at(-1)!;
  assert.match(mail!.Text, /added you \(bob@example\.com\) to the tenant acme as readonly/);

  // Nothing the admin can read holds the token: the add's answer, the member list, the audit log, the
  // webhook event the add wrote.
  const seenByAdmin = [
    added.body,
    (await app.call('GET', MEMBERS, { key: app.adminKey })).body,
    (await app.call('GET', '/api/v1/tenants/acme/audit-log', { key: app.adminKey })).body,
  ].join('\n');
  assert.ok(!seenByAdmin.includes(token) && !seenByAdmin.includes('#/invite/'), 'the link is nowhere the admin looks');

  // Send again: a new link by mail, the first one dead.
  const again = await app.call('POST', `${MEMBERS}/bob@example.com/invite`, { key: app.adminKey });
  assert.equal(again.statusCode, 201);
  assert.deepEqual(Object.keys(again.json()).sort(), ['emailedTo', 'expiresAt']);
  const second = (await mailpit.mailTo('bob@example.com', 2))[1]!;
  const secondToken = linkIn(second, 'invite').split('/').at(-1)!;
  assert.notEqual(secondToken, token);
  assert.equal((await app.call('GET', `/api/v1/invites/${token}`)).json().code, 'invite_invalid', 'the first link stops working');

  const accepted = await app.call('POST', `/api/v1/invites/${secondToken}/accept`, { body: { password: 'correct horse battery staple' } });
  assert.equal(accepted.statusCode, 200, accepted.body);
  assert.equal((await app.store.users.get('bob@example.com'))?.emailProof, 'email', 'opening a mailed link proves the address');
  // So the identity provider vouching for the same address later finds a proven account: nothing is voided.
  const provider = await signInWithProvider(app.store, {
    issuer: 'https://id.example.com/', subject: 'bob', email: 'bob@example.com', emailVerified: true, roles: new Map(),
  }, { now: app.clock() }, { idleSeconds: 3600, absoluteSeconds: 86_400 });
  assert.equal(provider.voidedPassword, undefined);
  const signIn = await app.call('POST', '/api/v1/session', { body: { email: 'bob@example.com', password: 'correct horse battery staple' } });
  assert.equal(signIn.statusCode, 200, 'the password chosen through the mailed invite still works');
  assert.equal((await app.call('GET', '/api/v1/sign-in-methods')).json().email, true, 'the console is told email is on');
});

test('email off: the add answers with the link, as before, and nothing is mailed', async (t) => {
  const app = await buildTestApp(t);
  assert.equal(app.mailWorker, null);
  const added = (await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'bob@example.com', role: 'readonly' } })).json();
  assert.match(added.invite.url, /#\/invite\/[A-Za-z0-9_-]{43}$/);
  assert.equal(added.invite.emailedTo, undefined);
  const forgot = await app.call('POST', '/api/v1/password-resets', { body: { email: 'alice@acme.com' } });
  assert.deepEqual([forgot.statusCode, forgot.json().code], [404, 'password_reset_off']);
});

test('forgot password: the same answer for every address, one link mailed to an account, at most one per address per 5 minutes; the link sets the password once and ends every session', { skip }, async (t) => {
  const { app, mailpit } = await mailingApp(t);
  const signIn = (password: string) => app.call('POST', '/api/v1/session', { body: { email: 'alice@acme.com', password } });
  const { createAccountWithOneTimePassword } = await import('../../src/domain/accounts.ts');
  const { changePassword } = await import('../../src/domain/accounts.ts');
  const oneTime = (await createAccountWithOneTimePassword(app.store, 'alice@acme.com', app.clock()))!;
  await changePassword(app.store, 'alice@acme.com', oneTime, 'the old long password', app.clock(), { idleSeconds: 3600, absoluteSeconds: 86_400 });
  const session = await signIn('the old long password');
  assert.equal(session.statusCode, 200);
  const cookie = String(session.headers['set-cookie']).split(';')[0]!;

  const ask = async (email: string) => {
    const started = performance.now();
    // A forged Host: the mailed link must still start with KUPE_PUBLIC_URL (linkIn checks), never point at it.
    const answer = await app.call('POST', '/api/v1/password-resets', { body: { email }, remoteAddress: `10.0.0.${email.length}`, headers: { host: 'attacker.example' } });
    return { answer, ms: performance.now() - started };
  };
  const known = await ask('Alice@Acme.com');
  const unknown = await ask('nobody@acme.com');
  assert.equal(known.answer.statusCode, 202);
  assert.equal(unknown.answer.body, known.answer.body, 'no account oracle in the answer');
  for (const { ms } of [known, unknown]) assert.ok(ms >= RESET_REQUEST_FLOOR_MS - 1, `answered no sooner than the floor (${ms} ms)`);
  assert.equal((await ask('alice@acme.com')).answer.statusCode, 202, 'asked again at once: the same answer...');

  const [mail] = await mailpit.mailTo('alice@acme.com');
  assert.equal(mail!.Subject, 'Reset your Kupe password');
  const token = linkIn(mail!, 'reset').split('/').at(-1)!;
  // A later mail to someone else has gone out: had a second reset mail to alice been written, it would be there too.
  await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'carol@example.com', role: 'readonly' } });
  await mailpit.mailTo('carol@example.com');
  assert.equal((await mailpit.messages()).filter((m) => m.To[0]!.Address === 'alice@acme.com').length, 1, '...but one mail');
  assert.equal((await mailpit.messages()).filter((m) => m.To[0]!.Address === 'nobody@acme.com').length, 0, 'none to an address without an account');

  assert.deepEqual((await app.call('GET', `/api/v1/password-resets/${token}`)).json().email, 'alice@acme.com');
  const weak = await app.call('POST', `/api/v1/password-resets/${token}`, { body: { password: 'short' } });
  assert.deepEqual([weak.statusCode, weak.json().code], [400, 'validation_failed']);
  const reset = await app.call('POST', `/api/v1/password-resets/${token}`, { body: { password: 'a brand new passphrase' } });
  assert.deepEqual([reset.statusCode, reset.json()], [200, { email: 'alice@acme.com' }]);
  assert.equal((await app.call('GET', '/api/v1/session', { headers: { cookie } })).statusCode, 401, 'every session ended');
  assert.equal((await signIn('the old long password')).statusCode, 401);
  assert.equal((await signIn('a brand new passphrase')).statusCode, 200);
  const again = await app.call('POST', `/api/v1/password-resets/${token}`, { body: { password: 'yet another passphrase' } });
  assert.deepEqual([again.statusCode, again.json().code], [404, 'password_reset_invalid'], 'the link works once');

  // After the quiet period, a new link; it dies after an hour.
  app.clock.advance(RESET_QUIET_SECONDS * 1000);
  await ask('alice@acme.com');
  const later = (await mailpit.mailTo('alice@acme.com', 2))[1]!;
  const laterToken = linkIn(later, 'reset').split('/').at(-1)!;
  app.clock.advance(3600_000);
  assert.equal((await app.call('GET', `/api/v1/password-resets/${laterToken}`)).json().code, 'password_reset_invalid', 'expired after an hour');
});

test('forgot password is throttled per client address, with Retry-After', { skip }, async (t) => {
  const { app } = await mailingApp(t);
  const ask = () => app.call('POST', '/api/v1/password-resets', { body: { email: 'someone@example.com' }, remoteAddress: '10.9.9.9' });
  for (let i = 0; i < 5; i++) assert.equal((await ask()).statusCode, 202);
  const refused = await ask();
  assert.deepEqual([refused.statusCode, refused.json().code], [429, 'password_reset_throttled']);
  assert.match(String(refused.headers['retry-after']), /^\d+$/);
  const elsewhere = await app.call('POST', '/api/v1/password-resets', { body: { email: 'someone@example.com' }, remoteAddress: '10.9.9.10' });
  assert.equal(elsewhere.statusCode, 202, 'another address is not held back');
});

test("the tenant's admins are mailed when a key nears expiry (14, 7, 1 days, each once) and expires, is revoked as leaked, and when an admin is added or removed", { skip }, async (t) => {
  const { app, mailpit } = await mailingApp(t);
  const alice = 'alice@acme.com';
  const now = app.clock();
  const expiring = await app.call('POST', '/api/v1/tenants/acme/apikeys', {
    key: app.adminKey, body: { displayName: 'deploy <prod>', role: 'readonly', expiresAt: new Date(now.getTime() + 10 * DAY).toISOString() },
  });
  assert.equal(expiring.statusCode, 201, expiring.body);
  const mail = { now, mail: { consoleUrl: PUBLIC_URL } };
  // Three sweeps (as three instances would) at the same moment: one warning.
  await Promise.all([sweepExpiringKeys(app.store, mail), sweepExpiringKeys(app.store, mail), sweepExpiringKeys(app.store, mail)]);
  const sweepLater = () => sweepExpiringKeys(app.store, { ...mail, now: app.clock() });
  const [warning] = await mailpit.mailTo(alice);
  assert.equal(warning!.Subject, 'Kupe: the API key "deploy <prod>" of acme expires in 14 days');
  assert.ok(warning!.Text.includes(`${PUBLIC_URL}/#/t/acme/keys`), 'links to the keys page');
  assert.ok(warning!.HTML.includes('deploy &lt;prod&gt;') && !warning!.HTML.includes('<prod>'), 'names are escaped in HTML');
  app.clock.advance(4 * DAY);
  await sweepLater();
  await sweepLater();
  await mailpit.mailTo(alice, 2);

  const leaked = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'ci', role: 'readonly' } });
  await revokeLeakedKeys(app.store, [{ token: leaked.json().key, source: 'https://github.com/acme/shop/blob/main/.env' }], LEAK_REPORTERS.github, mail);
  await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'root@acme.com', role: 'admin' } });
  await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'reader@acme.com', role: 'readonly' } });
  await app.call('DELETE', `${MEMBERS}/root@acme.com`, { key: app.adminKey });

  // Sent two at a time: they may arrive in either order.
  const subjects = (await mailpit.mailTo(alice, 5)).map((m) => m.Subject);
  assert.deepEqual(subjects.slice(1).sort(), [
    'Kupe: the API key "deploy <prod>" of acme expires in 7 days',
    `Kupe: the API key "ci" (${leaked.json().id}) of acme was found in public and revoked`,
    'Kupe: root@acme.com was added as an admin of acme',
    'Kupe: root@acme.com is no longer an admin of acme',
  ].sort(), 'a readonly member added is no news for the admins');
  const all = await mailpit.mailTo(alice, 5);
  for (const m of all) {
    assert.ok(!m.Text.includes('kupe_') && !m.HTML.includes('kupe_'), `no key in a mail: ${m.Subject}`);
    assert.ok(m.HTML.startsWith('<!doctype html>'), 'an HTML body too');
  }
  assert.match(all.find((m) => m.Subject.includes('found in public'))!.Text, /found at https:\/\/github\.com\/acme\/shop\/blob\/main\/\.env/);
});

test("a webhook that fails for good is told to the tenant's admins, once", { skip }, async (t) => {
  const { app, mailpit } = await mailingApp(t, { config: { webhookAllowPrivate: true } });
  const failing = await webhookReceiver(t);
  failing.state.status = 500;
  const { url } = failing;
  const hook = (await app.call('POST', '/api/v1/tenants/acme/webhooks', { key: app.adminKey, body: { url, events: ['apikey.created'] } })).json();
  app.webhookWorker.start();
  await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'one', role: 'readonly' } });
  await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'two', role: 'readonly' } });
  const deliveries = async () => (await app.call('GET', `/api/v1/tenants/acme/webhooks/${hook.id}/deliveries`, { key: app.adminKey })).json().items;
  // Each wait is counted from when the attempt was recorded: the clock moves on only after that.
  const failForGood = async (which: 'first' | 'second') => {
    const pick = async () => { const items = await deliveries(); return which === 'first' ? items.at(-1) : items[0]; };
    let recorded: { lastAttemptAt?: string; state: string } = { state: 'pending' };
    for (const [i, wait] of RETRY_SECONDS.entries()) {
      const before = recorded.lastAttemptAt;
      await until(async () => (recorded = await pick()).lastAttemptAt !== before, `${which}: attempt ${i + 1} recorded`);
      app.clock.advance(wait * 1000);
    }
    await until(async () => (await pick()).state === 'failed', `the ${which} event failed for good`);
  };
  await failForGood('first');
  await until(async () => (await deliveries())[0].attempts === 1, 'the second event tried');
  await failForGood('second');
  assert.equal((await deliveries()).length, 2);
  const told = (await mailpit.mailTo('alice@acme.com')).filter((m) => m.Subject.includes('is failing'));
  assert.equal(told.length, 1);
  assert.equal(told[0]!.Subject, `Kupe: the webhook ${url} of acme is failing`);
  assert.match(told[0]!.Text, /The last attempt: HTTP 500\./);
});

test('a mail server that is down loses nothing: the mail waits and goes once the server is back', { skip }, async (t) => {
  const logged: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => { logged.push(line); } });
  const { app, mailpit } = await mailingApp(t, { logger });
  await mailpit.stop();
  const added = await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'dave@example.com', role: 'readonly' } });
  assert.equal(added.statusCode, 201, 'the change is not held up by the mail server');
  await until(() => logged.some((line) => line.includes('mail not sent; will retry')), 'the first attempt to fail');
  assert.match(logged.find((line) => line.includes('will retry'))!, /"retryInSeconds":10/);
  await mailpit.restart();
  app.mailWorker!.nudge();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await mailpit.messages()).length, 0, 'not sent again before its wait');
  app.clock.advance(10_000);
  app.mailWorker!.nudge();
  const [mail] = await mailpit.mailTo('dave@example.com');
  assert.equal(mail!.Subject, 'You are invited to acme on Kupe');
  linkIn(mail!, 'invite');
});
