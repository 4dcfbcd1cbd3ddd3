import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addAcceptedMember, buildTestApp, snapshot } from '../helpers.ts';

const MEMBERS = '/api/v1/tenants/acme/members';

test('add, list, change role and remove a member', async (t) => {
  const app = await buildTestApp(t);
  let res = await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'Bob@Acme.com', role: 'readonly' } });
  assert.equal(res.statusCode, 201);
  const { invite, ...member } = res.json();
  assert.deepEqual(member, { email: 'bob@acme.com', role: 'readonly', pending: true });
  assert.match(invite.url, /^http:\/\/localhost:80\/#\/invite\/[A-Za-z0-9_-]{43}$/, 'an invite, always');

  res = await app.call('GET', MEMBERS, { key: app.readonlyKey });
  assert.deepEqual(res.json(), { items: [{ email: 'alice@acme.com', role: 'admin' }, { email: 'bob@acme.com', role: 'readonly', pending: true }] });

  res = await app.call('PATCH', `${MEMBERS}/BOB@acme.com`, { key: app.adminKey, body: { role: 'admin' } });
  assert.deepEqual([res.statusCode, res.json()], [200, { email: 'bob@acme.com', role: 'admin', pending: true }]);

  res = await app.call('DELETE', `${MEMBERS}/bob%40acme.com`, { key: app.adminKey });
  assert.equal(res.statusCode, 204);
  assert.equal(res.body, '');
  assert.equal(res.headers['content-type'], undefined);
  res = await app.call('DELETE', `${MEMBERS}/bob@acme.com`, { key: app.adminKey });
  assert.deepEqual([res.statusCode, res.json().error], [404, 'member not found']);
});

test('a + in the email path segment is a plus sign', async (t) => {
  const app = await buildTestApp(t);
  await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'ci+bot@acme.com', role: 'readonly' } });
  const res = await app.call('PATCH', `${MEMBERS}/ci+bot%40acme.com`, { key: app.adminKey, body: { role: 'admin' } });
  assert.deepEqual([res.statusCode, res.json().email], [200, 'ci+bot@acme.com']);
});

test('membership writes change resourceVersion and honour If-Match', async (t) => {
  const app = await buildTestApp(t);
  const rv = async () => (await app.call('GET', '/api/v1/tenants/acme', { key: app.adminKey })).json().resourceVersion;
  const v1 = await rv();
  let res = await app.call('POST', MEMBERS, {
    key: app.adminKey, body: { email: 'bob@acme.com', role: 'readonly' }, headers: { 'if-match': `"${v1}"` },
  });
  assert.equal(res.statusCode, 201);
  const v2 = await rv();
  assert.notEqual(v2, v1);
  const before = await snapshot(app.store);
  res = await app.call('DELETE', `${MEMBERS}/bob@acme.com`, { key: app.adminKey, headers: { 'if-match': `"${v1}"` } });
  assert.equal(res.statusCode, 412);
  assert.equal(await snapshot(app.store), before);
});

test('a duplicate member is 409', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'ALICE@acme.com', role: 'readonly' } });
  assert.deepEqual([res.statusCode, res.json().error, res.json().code], [409, 'member already exists', 'member_already_exists']);
});

test('the last admin can be neither demoted nor removed', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  let res = await app.call('PATCH', `${MEMBERS}/alice@acme.com`, { key: app.adminKey, body: { role: 'readonly' } });
  assert.deepEqual([res.statusCode, res.json().code], [409, 'last_admin']);
  assert.match(res.json().error, /at least one admin/);
  res = await app.call('DELETE', `${MEMBERS}/alice@acme.com`, { key: app.adminKey });
  assert.deepEqual([res.statusCode, res.json().code], [409, 'last_admin']);
  assert.equal(await snapshot(app.store), before);
  // A second admin who has not accepted yet does not count...
  await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'bob@acme.com', role: 'admin' } });
  res = await app.call('DELETE', `${MEMBERS}/alice@acme.com`, { key: app.adminKey });
  assert.deepEqual([res.statusCode, res.json().code], [409, 'last_admin']);
  // ...one who has, does: then the first may go.
  await addAcceptedMember(app, 'carol@acme.com', 'admin');
  res = await app.call('DELETE', `${MEMBERS}/alice@acme.com`, { key: app.adminKey });
  assert.equal(res.statusCode, 204);
});

test('bad emails and roles are 400 and change nothing', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  let res = await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'not-an-email', role: 'readonly' } });
  assert.deepEqual([res.statusCode, res.json().error], [400, 'email must be an email address like alice@example.com']);
  res = await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'bob@acme.com', role: 'owner' } });
  assert.deepEqual([res.statusCode, res.json().error], [400, 'field "role" must be one of admin, readonly']);
  res = await app.call('POST', MEMBERS, { key: app.adminKey, body: { email: 'bob@acme.com' } });
  assert.deepEqual([res.statusCode, res.json().error], [400, 'missing required field "role"']);
  res = await app.call('PATCH', `${MEMBERS}/alice%2Fx@acme.com`, { key: app.adminKey, body: { role: 'admin' } });
  assert.equal(res.statusCode, 404);
  assert.equal(await snapshot(app.store), before);
});

test('readonly callers cannot change members', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('POST', MEMBERS, { key: app.readonlyKey, body: { email: 'eve@acme.com', role: 'admin' } });
  assert.equal(res.statusCode, 403);
  assert.equal((await app.store.members.list('acme')).length, 1);
});
