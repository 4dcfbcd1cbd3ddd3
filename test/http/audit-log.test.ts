import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers.ts';

const AUDIT = '/api/v1/tenants/acme/auditlog';

test('every write is recorded with actor, target, time, client IP and request id; never a key', async (t) => {
  const app = await buildTestApp(t);
  const key = app.adminKey;
  const created = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key, body: { displayName: 'ci', role: 'readonly' }, remoteAddress: '192.0.2.7' });
  await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${created.json().id}`, { key });
  await app.call('POST', '/api/v1/tenants/acme/members', { key, body: { email: 'bob@acme.com', role: 'readonly' } });
  await app.call('PATCH', '/api/v1/tenants/acme/members/bob@acme.com', { key, body: { role: 'admin' } });
  await app.call('DELETE', '/api/v1/tenants/acme/members/bob@acme.com', { key });
  await app.call('PATCH', '/api/v1/tenants/acme', { key, body: { displayName: 'Acme Two' } });

  const res = await app.call('GET', AUDIT, { key });
  assert.equal(res.statusCode, 200);
  const items = res.json().items as Record<string, string>[];
  assert.deepEqual(items.map((e) => e.action).slice(0, 6),
    ['tenant.update', 'member.remove', 'member.update', 'member.add', 'apikey.revoke', 'apikey.create']);
  const create = items[5]!;
  assert.equal(create.actor, app.adminKeyId);
  assert.equal(create.clientIp, '192.0.2.7');
  assert.equal(create.requestId, created.headers['x-request-id']);
  assert.match(String(create.target), new RegExp(created.json().id));
  assert.match(String(create.time), /Z$/);
  const digest = (await app.store.apiKeys.get(created.json().id))!.digest;
  assert.ok(!res.body.includes(created.json().key) && !res.body.includes(digest), 'neither the key nor its digest in the audit log');
  assert.ok(!res.body.includes('"tenant"'), 'no tenant field in entries');
});

test('limit and before page through the log, newest first', async (t) => {
  const app = await buildTestApp(t);
  for (let i = 0; i < 5; i++) {
    await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: `k${i}`, role: 'readonly' } });
  }
  const first = (await app.call('GET', `${AUDIT}?limit=2`, { key: app.adminKey })).json().items;
  assert.equal(first.length, 2);
  assert.match(first[0].target, /k4/);
  const next = (await app.call('GET', `${AUDIT}?limit=2&before=${first[1].id}`, { key: app.adminKey })).json().items;
  assert.match(next[0].target, /k2/);
  assert.ok(Number(next[0].id) < Number(first[1].id), 'the next page is older');
});

test('filter by action and actor', async (t) => {
  const app = await buildTestApp(t);
  await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'k', role: 'readonly' } });
  await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: 'bob@acme.com', role: 'readonly' } });
  const byAction = (await app.call('GET', `${AUDIT}?action=member.add`, { key: app.adminKey })).json().items;
  assert.deepEqual(byAction.map((e: { action: string }) => e.action), ['member.add']);
  const byActor = (await app.call('GET', `${AUDIT}?actor=operator`, { key: app.adminKey })).json().items;
  assert.ok(byActor.length >= 3 && byActor.every((e: { actor: string }) => e.actor === 'operator'), 'only the operator\'s entries');
  assert.equal((await app.call('GET', `${AUDIT}?action=key.stolen`, { key: app.adminKey })).statusCode, 400);
});

test('bad paging parameters are 400; readonly is 403', async (t) => {
  const app = await buildTestApp(t);
  for (const query of ['limit=0', 'limit=201', 'limit=ten', 'before=abc', 'since=1']) {
    const res = await app.call('GET', `${AUDIT}?${query}`, { key: app.adminKey });
    assert.equal(res.statusCode, 400, query);
  }
  assert.equal((await app.call('GET', `${AUDIT}?since=1`, { key: app.adminKey })).json().error, 'unknown query parameter "since"');
  assert.equal((await app.call('GET', AUDIT, { key: app.readonlyKey })).statusCode, 403);
});
