import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { generateRawApiKey } from '../../src/domain/key-format.ts';
import { buildTestApp, type TestApp } from '../helpers.ts';

/**
 * Every tenant route, with a body that would be valid, and whether it needs admin. The first test checks
 * this list against the routes the app registers, so a new tenant route cannot skip these cases.
 */
const ROUTES = [
  { method: 'GET', url: '/api/v1/tenants/acme', admin: false },
  { method: 'PATCH', url: '/api/v1/tenants/acme', admin: true, body: { displayName: 'Acme Two' } },
  { method: 'GET', url: '/api/v1/tenants/acme/members', admin: false },
  { method: 'POST', url: '/api/v1/tenants/acme/members', admin: true, body: { email: 'new@acme.com', role: 'readonly' } },
  { method: 'PATCH', url: '/api/v1/tenants/acme/members/alice@acme.com', admin: true, body: { role: 'admin' } },
  { method: 'DELETE', url: '/api/v1/tenants/acme/members/alice@acme.com', admin: true },
  { method: 'POST', url: '/api/v1/tenants/acme/members/alice@acme.com/invite', admin: true },
  { method: 'GET', url: '/api/v1/tenants/acme/apikeys', admin: true },
  { method: 'POST', url: '/api/v1/tenants/acme/apikeys', admin: true, body: { displayName: 'x', role: 'readonly' } },
  { method: 'DELETE', url: '/api/v1/tenants/acme/apikeys/ak-00000000', admin: true },
  { method: 'POST', url: '/api/v1/tenants/acme/apikeys/ak-00000000/leak-acknowledgement', admin: true },
  { method: 'GET', url: '/api/v1/tenants/acme/auditlog', admin: true },
  { method: 'GET', url: '/api/v1/tenants/acme/webhooks', admin: true },
  { method: 'POST', url: '/api/v1/tenants/acme/webhooks', admin: true, body: { url: 'https://hooks.example.com/', events: ['apikey.created'] } },
  { method: 'PATCH', url: '/api/v1/tenants/acme/webhooks/wh-00000000', admin: true, body: { enabled: false } },
  { method: 'DELETE', url: '/api/v1/tenants/acme/webhooks/wh-00000000', admin: true },
  { method: 'POST', url: '/api/v1/tenants/acme/webhooks/wh-00000000/test', admin: true },
  { method: 'GET', url: '/api/v1/tenants/acme/webhooks/wh-00000000/deliveries', admin: true },
];

async function credentials(app: TestApp) {
  const ctx = { actor: 'operator', now: app.clock() };
  const soon = new Date(app.clock().getTime() + 60_000).toISOString();
  const expiring = await createApiKey(app.store, 'acme', { displayName: 'short', role: 'admin', expiresAt: soon }, ctx);
  const revoked = await createApiKey(app.store, 'acme', { displayName: 'gone', role: 'admin' }, ctx);
  await revokeApiKey(app.store, 'acme', revoked.record.id, ctx);
  app.clock.advance(120_000);
  const wrongSecret = generateRawApiKey(app.adminKeyId); // right id, valid checksum, other secret
  const badChecksum = app.adminKey.slice(0, -1) + (app.adminKey.endsWith('a') ? 'b' : 'a');
  return { expired: expiring.key, revoked: revoked.key, wrongSecret, badChecksum };
}

test('the list above holds every member and admin route the app registers, with its role', async (t) => {
  const app = await buildTestApp(t);
  const registered = app.routes.filter((r) => (r.access === 'member' || r.access === 'admin') && r.method !== 'HEAD');
  const pattern = (url: string) => new RegExp(`^${url.replace(/:[a-z]+/gi, '[^/]+')}$`);
  for (const route of registered) {
    const listed = ROUTES.filter((r) => r.method === route.method && pattern(route.url).test(r.url));
    assert.equal(listed.length, 1, `${route.method} ${route.url} (${route.access}) is in ROUTES once`);
    assert.equal(listed[0]!.admin, route.access === 'admin', `${route.method} ${route.url}: admin as registered`);
  }
  assert.equal(ROUTES.length, registered.length, 'and nothing else');
  // Every other kind of access has its own suite: a new kind fails here until it has one.
  assert.deepEqual([...new Set(app.routes.map((r) => r.access))].sort(), [
    'admin', 'authenticated', // above and below
    'gateway', // test/http/gateway.test.ts
    'member',
    'public', // test/http/session.test.ts, invites.test.ts, mail.test.ts, operations.test.ts
    'scanner', // test/http/leak-reports.test.ts
    'session', // test/http/session.test.ts
  ]);
});

test('every tenant route refuses each bad credential with 401 and the same vague message', async (t) => {
  const app = await buildTestApp(t);
  const c = await credentials(app);
  const cases: [string, Record<string, string>, string][] = [
    ['no header', {}, 'authentication required: send Authorization: Bearer <api key>'],
    ['wrong scheme', { authorization: `Basic ${app.adminKey}` }, 'authentication required: send Authorization: Bearer <api key>'],
    ['malformed', { authorization: 'Bearer kupe_nonsense' }, 'invalid api key'],
    ['not a kupe key', { authorization: 'Bearer eyJhbGciOi.x.y' }, 'invalid api key'],
    ['bad checksum', { authorization: `Bearer ${c.badChecksum}` }, 'invalid api key'],
    ['unknown id', { authorization: `Bearer ${generateRawApiKey('ak-99999999')}` }, 'invalid api key'],
    ['wrong secret', { authorization: `Bearer ${c.wrongSecret}` }, 'invalid api key'],
    ['expired', { authorization: `Bearer ${c.expired}` }, 'api key expired'],
    ['revoked', { authorization: `Bearer ${c.revoked}` }, 'api key revoked'],
  ];
  for (const route of ROUTES) {
    for (const [name, headers, message] of cases) {
      const res = await app.call(route.method, route.url, { body: route.body, headers });
      const where = `${route.method} ${route.url} with ${name}`;
      assert.equal(res.statusCode, 401, where);
      assert.equal(res.headers['www-authenticate'], 'Bearer', where);
      assert.equal(res.json().error, message, where);
      assert.equal(res.json().requestId, res.headers['x-request-id'], where);
    }
  }
});

test('HEAD, which Fastify adds beside every GET, passes the same guard: 401 without a key, 403 in another tenant', async (t) => {
  const app = await buildTestApp(t);
  const gets = ROUTES.filter((r) => r.method === 'GET');
  assert.ok(gets.length > 0, 'there are GET routes');
  for (const route of gets) {
    assert.equal((await app.call('HEAD', route.url)).statusCode, 401, `HEAD ${route.url}`);
    assert.equal((await app.call('HEAD', route.url, { key: app.otherTenantKey })).statusCode, 403, `HEAD ${route.url}, another tenant`);
    // Past the guard: the route's own answer (404 for the made-up webhook id of the deliveries route).
    const admitted = (await app.call('HEAD', route.url, { key: app.adminKey })).statusCode;
    assert.ok(admitted === 200 || (admitted === 404 && route.url.includes('wh-00000000')), `HEAD ${route.url}, admin: ${admitted}`);
  }
});

test('a readonly key reads but gets 403 on every write and every /apikeys route', async (t) => {
  const app = await buildTestApp(t);
  for (const route of ROUTES) {
    const res = await app.call(route.method, route.url, { key: app.readonlyKey, body: route.body });
    if (route.admin) {
      assert.equal(res.statusCode, 403, `${route.method} ${route.url}`);
      assert.deepEqual([res.json().error, res.json().code], ['admin access required', 'admin_required']);
    } else {
      assert.equal(res.statusCode, 200, `${route.method} ${route.url}`);
    }
  }
});

test("another tenant's key gets 403 not a member, whether or not the tenant exists", async (t) => {
  const app = await buildTestApp(t);
  for (const route of ROUTES) {
    for (const url of [route.url, route.url.replace('/acme', '/no-such-tenant')]) {
      const res = await app.call(route.method, url, { key: app.otherTenantKey, body: route.body });
      assert.equal(res.statusCode, 403, `${route.method} ${url}`);
      assert.deepEqual([res.json().error, res.json().code], ['not a member of this tenant', 'not_a_member']);
    }
  }
});

test('checks run in the contract order: 401, then tenant name 400, then 403, then body 400', async (t) => {
  const app = await buildTestApp(t);
  const badBody = { displayName: 5 };
  let res = await app.call('POST', '/api/v1/tenants/Bad_Name/apikeys', { body: badBody });
  assert.equal(res.statusCode, 401, 'authentication before tenant name');
  res = await app.call('POST', '/api/v1/tenants/Bad_Name/apikeys', { key: app.otherTenantKey, body: badBody });
  assert.deepEqual([res.statusCode, res.json().error], [400, 'invalid tenant name']);
  res = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.readonlyKey, body: badBody });
  assert.equal(res.statusCode, 403, 'role before body');
  res = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: badBody });
  assert.equal(res.statusCode, 400);
});

test('the scheme is case-insensitive, as HTTP says', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('GET', '/api/v1/whoami', { headers: { authorization: `bearer ${app.adminKey}` } });
  assert.equal(res.statusCode, 200);
});
