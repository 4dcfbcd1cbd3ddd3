import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp, snapshot } from '../helpers.ts';

test('per-tenant caps: keys and members over the cap are 409 with their own codes; other tenants and lists are unaffected', async (t) => {
  // acme starts with 2 keys and 1 member (helpers' seed).
  const app = await buildTestApp(t, { config: { tenantCaps: { maxApiKeys: 4, maxMembers: 3 } } });
  const createKey = (key: string, tenant = 'acme') =>
    app.call('POST', `/api/v1/tenants/${tenant}/apikeys`, { key, body: { displayName: 'k', role: 'readonly' } });
  // Concurrent creates cannot slip past the cap together.
  const created = await Promise.all([1, 2, 3, 4].map(() => createKey(app.adminKey)));
  assert.deepEqual(created.map((r) => r.statusCode).sort(), [201, 201, 409, 409]);
  const over = created.find((r) => r.statusCode === 409)!.json();
  assert.equal(over.code, 'api_key_limit_reached');
  assert.match(over.error, /4 active API keys/);
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: app.adminKey })).json().items.length, 4);
  assert.equal((await createKey(app.otherTenantKey, 'globex')).statusCode, 201, 'another tenant is not limited by acme');

  // A revoked key frees its place.
  const id = created.find((r) => r.statusCode === 201)!.json().id;
  assert.equal((await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${id}`, { key: app.adminKey })).statusCode, 204);
  assert.equal((await createKey(app.adminKey)).statusCode, 201);

  const addMember = (email: string) =>
    app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email, role: 'readonly' } });
  assert.equal((await addMember('b@acme.com')).statusCode, 201);
  assert.equal((await addMember('c@acme.com')).statusCode, 201);
  const before = await snapshot(app.store);
  const full = await addMember('d@acme.com');
  assert.deepEqual([full.statusCode, full.json().code], [409, 'member_limit_reached']);
  assert.match(full.json().error, /3 members/);
  assert.equal(await snapshot(app.store), before, 'a refused add changes nothing');
});
