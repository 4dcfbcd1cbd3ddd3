import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPERATOR_ACTOR } from '../../src/domain/roles.ts';
import { updateTenant } from '../../src/domain/tenants.ts';
import { buildTestApp, snapshot } from '../helpers.ts';

test('GET tenant: exact field types, members, and the ETag', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('GET', '/api/v1/tenants/acme', { key: app.readonlyKey });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['contactEmail', 'createdAt', 'displayName', 'enforceLogLimit',
    'enforceMetricsLimit', 'members', 'name', 'plan', 'resourceVersion', 'status']);
  assert.equal(typeof body.resourceVersion, 'string');
  assert.equal(typeof body.enforceMetricsLimit, 'boolean');
  assert.match(body.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.deepEqual(body.status, { phase: 'Active' });
  assert.deepEqual(body.members, [{ email: 'alice@acme.com', role: 'admin' }]);
  assert.equal(res.headers.etag, `"${body.resourceVersion}"`);
});

test('PATCH tenant changes the fields sent and the resourceVersion', async (t) => {
  const app = await buildTestApp(t, { config: { tenantAdminsChangePlan: true } });
  const before = (await app.call('GET', '/api/v1/tenants/acme', { key: app.adminKey })).json();
  const res = await app.call('PATCH', '/api/v1/tenants/acme', {
    key: app.adminKey, body: { displayName: ' Acme Inc ', plan: 'business', enforceLogLimit: false },
    headers: { 'if-match': `W/"${before.resourceVersion}"` },
  });
  assert.equal(res.statusCode, 200);
  const after = res.json();
  assert.deepEqual([after.displayName, after.plan, after.enforceLogLimit, after.enforceMetricsLimit],
    ['Acme Inc', 'business', false, true]);
  assert.notEqual(after.resourceVersion, before.resourceVersion);
  assert.equal(res.headers.etag, `"${after.resourceVersion}"`);
});

test('a tenant admin cannot move the tenant to another plan (the operator does), unless the operator allows it', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  const res = await app.call('PATCH', '/api/v1/tenants/acme', { key: app.adminKey, body: { displayName: 'Acme Inc', plan: 'enterprise' } });
  assert.equal(res.statusCode, 403, res.body);
  assert.equal(res.json().code, 'plan_change_forbidden');
  assert.match(res.json().error, /changed by the operator .*stays starter/);
  assert.equal(await snapshot(app.store), before, 'nothing changed, the display name neither');
  // The current plan sent back (a client that PATCHes the whole object) is fine.
  const same = await app.call('PATCH', '/api/v1/tenants/acme', { key: app.adminKey, body: { displayName: 'Acme Inc', plan: 'starter' } });
  assert.equal(same.statusCode, 200, same.body);
  // The operator's path.
  const moved = await updateTenant(app.store, 'acme', { plan: 'enterprise' }, undefined, { actor: OPERATOR_ACTOR, now: app.clock() });
  assert.equal(moved.plan, 'enterprise');
});

test('PATCH with the same values changes nothing, not even resourceVersion', async (t) => {
  const app = await buildTestApp(t);
  const before = (await app.call('GET', '/api/v1/tenants/acme', { key: app.adminKey })).json();
  const res = await app.call('PATCH', '/api/v1/tenants/acme', { key: app.adminKey, body: { plan: before.plan } });
  assert.equal(res.json().resourceVersion, before.resourceVersion);
});

test('PATCH with a stale If-Match is 412 and changes nothing', async (t) => {
  const app = await buildTestApp(t);
  const before = (await app.call('GET', '/api/v1/tenants/acme', { key: app.adminKey })).json();
  const res = await app.call('PATCH', '/api/v1/tenants/acme', {
    key: app.adminKey, body: { displayName: 'Acme 2' }, headers: { 'if-match': '"999"' },
  });
  assert.deepEqual([res.statusCode, res.json().error, res.json().code], [412, 'etag mismatch', 'etag_mismatch']);
  const after = (await app.call('GET', '/api/v1/tenants/acme', { key: app.adminKey })).json();
  assert.deepEqual(after, before);
});

test('PATCH refuses bad values and readonly callers', async (t) => {
  const app = await buildTestApp(t);
  let res = await app.call('PATCH', '/api/v1/tenants/acme', { key: app.adminKey, body: { plan: 'gold' } });
  assert.deepEqual([res.statusCode, res.json().error], [400, 'field "plan" must be one of starter, pro, business, enterprise']);
  res = await app.call('PATCH', '/api/v1/tenants/acme', { key: app.adminKey, body: { enforceLogLimit: 'true' } });
  assert.deepEqual([res.statusCode, res.json().error], [400, 'field "enforceLogLimit" must be of type boolean']);
  res = await app.call('PATCH', '/api/v1/tenants/acme', { key: app.adminKey, body: { name: 'x' } });
  assert.deepEqual([res.statusCode, res.json().code], [400, 'unknown_field']);
  res = await app.call('PATCH', '/api/v1/tenants/acme', { key: app.readonlyKey, body: { plan: 'pro' } });
  assert.equal(res.statusCode, 403);
});
