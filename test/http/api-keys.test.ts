import assert from 'node:assert/strict';
import { test } from 'node:test';
import { purgeExpiredRecords } from '../../src/domain/retention.ts';
import { buildTestApp, snapshot } from '../helpers.ts';

const KEYS = '/api/v1/tenants/acme/apikeys';

test('create returns the key once, with exact fields; the key works', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('POST', KEYS, {
    key: app.adminKey, body: { displayName: 'CI/CD Pipeline', role: 'readonly', expiresAt: '2099-01-01T01:00:00.250+01:00' },
  });
  assert.equal(res.statusCode, 201);
  const created = res.json();
  assert.deepEqual(Object.keys(created).sort(), ['createdAt', 'createdBy', 'displayName', 'expiresAt', 'id', 'key', 'role']);
  assert.match(created.id, /^ak-[0-9a-f]{8}$/);
  assert.equal(created.key.slice(0, 14), `kupe_${created.id.slice(3)}_`);
  assert.equal(created.expiresAt, '2099-01-01T01:00:00.250+01:00', 'byte for byte as sent');
  assert.equal(created.createdBy, app.adminKeyId, 'a key made by a key records its id');
  assert.match(created.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

  const who = await app.call('GET', '/api/v1/whoami', { key: created.key });
  assert.deepEqual(who.json(), { kind: 'apikey', tenant: 'acme', role: 'readonly', keyId: created.id, displayName: 'CI/CD Pipeline' });
});

test('list shows metadata only: no key, no digest, no nulls; expired keys stay listed', async (t) => {
  const app = await buildTestApp(t);
  const soon = new Date(app.clock().getTime() + 1000).toISOString();
  const created = (await app.call('POST', KEYS, { key: app.adminKey, body: { displayName: 'temp', role: 'readonly', expiresAt: soon } })).json();
  app.clock.advance(5000);
  const res = await app.call('GET', KEYS, { key: app.adminKey });
  assert.equal(res.statusCode, 200);
  const items = res.json().items as Record<string, unknown>[];
  assert.deepEqual(items.map((k) => k.displayName).sort(), ['admin key', 'readonly key', 'temp']);
  assert.ok(!res.body.includes(created.key.slice(14)), 'secret never listed');
  assert.ok(!res.body.includes('null'), 'no null fields');
  for (const item of items) {
    assert.deepEqual(Object.keys(item).filter((k) => !['id', 'displayName', 'role', 'createdBy', 'createdAt', 'expiresAt', 'lastUsedAt'].includes(k)), []);
  }
  const digest = Buffer.from((await app.store.apiKeys.get(created.id))!.digest, 'hex');
  assert.ok(!res.body.includes(digest.toString('hex')) && !res.body.includes(digest.toString('base64')), 'no digest in the answer');
  assert.equal(items.find((k) => k.id === created.id)?.expiresAt, soon);
});

test('lastUsedAt is absent until a key is used, then shows the use before any flush', async (t) => {
  const app = await buildTestApp(t);
  const find = async () => ((await app.call('GET', KEYS, { key: app.adminKey })).json().items as { id: string; lastUsedAt?: string }[])
    .find((k) => k.id === app.readonlyKeyId);
  assert.equal((await find())?.lastUsedAt, undefined);
  app.clock.advance(10_000);
  await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey });
  const expected = app.clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  assert.equal((await find())?.lastUsedAt, expected);
  assert.equal(await app.lastUsed.flush() > 0, true);
  assert.equal((await app.store.apiKeys.get(app.readonlyKeyId))?.lastUsedAt, expected, 'flushed to the store');
});

test('revoke: 204, then 401 api key revoked at once, gone from the list, a second revoke is 404', async (t) => {
  const app = await buildTestApp(t);
  const created = (await app.call('POST', KEYS, { key: app.adminKey, body: { displayName: 'ci', role: 'readonly' } })).json();
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: created.key })).statusCode, 200);
  const res = await app.call('DELETE', `${KEYS}/${created.id}`, { key: app.adminKey });
  assert.equal(res.statusCode, 204);
  assert.equal(res.body, '');
  const after = await app.call('GET', '/api/v1/whoami', { key: created.key });
  assert.deepEqual([after.statusCode, after.json().error, after.json().code], [401, 'api key revoked', 'api_key_revoked']);
  const list = (await app.call('GET', KEYS, { key: app.adminKey })).json().items as { id: string }[];
  assert.ok(!list.some((k) => k.id === created.id), 'the revoked key is not listed');
  const again = await app.call('DELETE', `${KEYS}/${created.id}`, { key: app.adminKey });
  assert.deepEqual([again.statusCode, again.json().error], [404, 'api key not found']);
});

test('revoke checks the id format and the tenant', async (t) => {
  const app = await buildTestApp(t);
  let res = await app.call('DELETE', `${KEYS}/key-1`, { key: app.adminKey });
  assert.deepEqual([res.statusCode, res.json().error, res.json().code], [400, 'invalid api key id format', 'invalid_api_key_id']);
  res = await app.call('DELETE', `${KEYS}/ak-00000000`, { key: app.adminKey });
  assert.equal(res.statusCode, 404);
  // globex's key cannot be revoked through acme's path.
  const globexKey = (await app.store.apiKeys.listActive('globex'))[0]!;
  res = await app.call('DELETE', `${KEYS}/${globexKey.id}`, { key: app.adminKey });
  assert.equal(res.statusCode, 404);
  assert.equal((await app.store.apiKeys.get(globexKey.id))?.revokedAt, undefined);
});

test('DELETE accepts and ignores a JSON body, empty or not', async (t) => {
  const app = await buildTestApp(t);
  for (const payload of ['', '{"reason":"rotated"}']) {
    const created = (await app.call('POST', KEYS, { key: app.adminKey, body: { displayName: 'x', role: 'readonly' } })).json();
    const res = await app.call('DELETE', `${KEYS}/${created.id}`, { key: app.adminKey, body: payload });
    assert.equal(res.statusCode, 204, JSON.stringify(payload));
  }
});

test('a readonly key cannot even list keys', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  for (const [method, url, body] of [['GET', KEYS], ['POST', KEYS, { displayName: 'x', role: 'admin' }], ['DELETE', `${KEYS}/${app.adminKeyId}`]] as const) {
    const res = await app.call(method, url, { key: app.readonlyKey, body });
    assert.deepEqual([res.statusCode, res.json().error], [403, 'admin access required']);
  }
  assert.equal(await snapshot(app.store), before);
});

test('revoked keys stay visible with state=revoked or all: when, by whom, why; the default list and a second revoke are unchanged', async (t) => {
  const app = await buildTestApp(t);
  const make = async (displayName: string) => (await app.call('POST', KEYS, { key: app.adminKey, body: { displayName, role: 'readonly' } })).json();
  const manual = await make('manual');
  const rotated = await make('rotated');
  const kept = await make('kept');
  assert.equal((await app.call('DELETE', `${KEYS}/${manual.id}`, { key: app.adminKey })).statusCode, 204);
  app.clock.advance(1000);
  assert.equal((await app.call('DELETE', `${KEYS}/${rotated.id}?reason=rotation`, { key: app.adminKey })).statusCode, 204);
  const bad = await app.call('DELETE', `${KEYS}/${kept.id}?reason=leaked`, { key: app.adminKey });
  assert.equal(bad.statusCode, 400, 'leaked is for secret-scanning reports, not a caller to claim');
  assert.match(bad.json().error, /reason/);

  // The default list (what the kupe CLI and the Terraform provider read) shows active keys only, without the new fields.
  const active = (await app.call('GET', KEYS, { key: app.adminKey })).json().items as { id: string; revokedAt?: string }[];
  assert.deepEqual(active.map((k) => k.id).filter((id) => [manual.id, rotated.id, kept.id].includes(id)), [kept.id]);
  assert.ok(active.every((k) => k.revokedAt === undefined), 'no revoked fields on active keys');
  assert.deepEqual((await app.call('GET', `${KEYS}?state=active`, { key: app.adminKey })).json().items, active);

  const revoked = (await app.call('GET', `${KEYS}?state=revoked`, { key: app.adminKey })).json().items as Record<string, string>[];
  assert.deepEqual(revoked.map((k) => [k.id, k.revokeReason, k.revokedBy]), [[rotated.id, 'rotation', app.adminKeyId], [manual.id, 'manual', app.adminKeyId]],
    'the latest revoked first');
  assert.match(revoked[0]!.revokedAt!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.ok(revoked.every((k) => !('key' in k) && !('digest' in k)), 'metadata only');
  const all = (await app.call('GET', `${KEYS}?state=all`, { key: app.adminKey })).json().items as { id: string }[];
  assert.deepEqual(all.map((k) => k.id), [...active.map((k) => k.id), rotated.id, manual.id], 'active, then revoked');

  assert.equal((await app.call('DELETE', `${KEYS}/${manual.id}`, { key: app.adminKey })).statusCode, 404, 'a second revoke is still 404');
  assert.equal((await app.call('GET', `${KEYS}?state=everything`, { key: app.adminKey })).statusCode, 400);
  assert.equal((await app.call('GET', `${KEYS}?state=revoked`, { key: app.readonlyKey })).statusCode, 403, 'admins only, as the list');
  const other = (await app.call('GET', '/api/v1/tenants/globex/apikeys?state=revoked', { key: app.otherTenantKey })).json().items as { id: string }[];
  assert.ok(!other.some((k) => [manual.id, rotated.id].includes(k.id)), "another tenant never sees this tenant's revoked keys");
});

test('retention: revoked keys are deleted with the audit entries of their age, active keys never', async (t) => {
  const app = await buildTestApp(t);
  const old = (await app.call('POST', KEYS, { key: app.adminKey, body: { displayName: 'old', role: 'readonly' } })).json();
  const idle = (await app.call('POST', KEYS, { key: app.adminKey, body: { displayName: 'idle', role: 'readonly' } })).json();
  assert.equal((await app.call('DELETE', `${KEYS}/${old.id}`, { key: app.adminKey })).statusCode, 204);
  const sessions = { idleSeconds: 3600, absoluteSeconds: 86_400 };
  const day = 86_400_000;
  const early = await purgeExpiredRecords(app.store, new Date(app.clock().getTime() + 364 * day), { auditDays: 365, endedDays: 30 }, sessions);
  assert.equal(early.revokedKeys, 0, 'kept for a year');
  const late = await purgeExpiredRecords(app.store, new Date(app.clock().getTime() + 366 * day), { auditDays: 365, endedDays: 30 }, sessions);
  assert.equal(late.revokedKeys, 1);
  assert.equal(await app.store.apiKeys.get(old.id), undefined);
  assert.equal((await app.store.apiKeys.get(idle.id))?.displayName, 'idle', 'an active key is never purged');
  assert.equal((await app.call('DELETE', `${KEYS}/${idle.id}`, { key: app.adminKey })).statusCode, 204);
  const never = await purgeExpiredRecords(app.store, new Date(app.clock().getTime() + 9000 * day), { auditDays: 0, endedDays: 30 }, sessions);
  assert.equal(never.revokedKeys, 0, 'audit kept forever: revoked keys too');
  assert.equal((await app.store.apiKeys.get(idle.id))?.revokeReason, 'manual');
});
