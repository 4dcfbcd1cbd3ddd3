import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp, snapshot, type TestApp } from '../helpers.ts';

const KEYS = '/api/v1/tenants/acme/apikeys';

/** Sends the request, expects the status and a message matching `message`, and an unchanged store. */
async function refused(app: TestApp, req: { method?: string; url?: string; body?: unknown; headers?: Record<string, string> },
  status: number, message: RegExp) {
  const before = await snapshot(app.store);
  const res = await app.call(req.method ?? 'POST', req.url ?? KEYS, { key: app.adminKey, body: req.body, headers: req.headers });
  const where = `${req.method ?? 'POST'} ${req.url ?? KEYS} ${String(req.body).slice(0, 60)}`;
  assert.equal(res.statusCode, status, `${where}: ${res.body}`);
  assert.match(res.json().error, message, where);
  assert.equal(typeof res.json().code, 'string');
  assert.equal(await snapshot(app.store), before, `${where} changed the store`);
}

test('malformed JSON, wrong types and unknown fields are 400s that name the problem', async (t) => {
  const app = await buildTestApp(t);
  await refused(app, { body: '{"displayName": "ci",' }, 400, /not valid JSON/);
  await refused(app, { body: '[1,2]' }, 400, /request body must be a JSON object/);
  await refused(app, { body: '"text"' }, 400, /request body must be a JSON object/);
  await refused(app, { body: { displayName: 42, role: 'readonly' } }, 400, /"displayName" must be of type string/);
  await refused(app, { body: { displayName: 'ci', role: ['admin'] } }, 400, /"role" must be one of admin, readonly/);
  await refused(app, { body: { displayName: 'ci', role: 'readonly', expiresAt: 1798761600 } }, 400, /"expiresAt" must be of type string/);
  await refused(app, { body: { displayName: 'ci', role: 'readonly', scopes: ['x'] } }, 400, /unknown field "scopes"/);
  await refused(app, { body: { role: 'readonly' } }, 400, /missing required field "displayName"/);
  await refused(app, { body: '' }, 400, /empty/);
});

test('a body that is not JSON is 415; one over the limit is 413', async (t) => {
  const app = await buildTestApp(t);
  await refused(app, { body: 'displayName=ci', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, /unsupported media type/);
  const huge = JSON.stringify({ displayName: 'x'.repeat(1024 * 1024), role: 'readonly' });
  await refused(app, { body: huge }, 413, /too large/);
});

test('expiresAt must be RFC 3339 with a zone, and in the future', async (t) => {
  const app = await buildTestApp(t);
  for (const expiresAt of ['2027-01-01', '2027-01-01T00:00:00', 'next week', '2027-02-30T00:00:00Z', '']) {
    await refused(app, { body: { displayName: 'ci', role: 'readonly', expiresAt } }, 400, /^expiresAt must be an RFC 3339 timestamp/);
  }
  await refused(app, { body: { displayName: 'ci', role: 'readonly', expiresAt: '2020-01-01T00:00:00Z' } }, 400, /^expiresAt must be in the future/);
});

test('display names: control characters, overlong and blank are refused', async (t) => {
  const app = await buildTestApp(t);
  await refused(app, { body: { displayName: 'ci\u0007bell', role: 'readonly' } }, 400, /^displayName must not contain control characters/);
  await refused(app, { body: { displayName: 'line\nbreak', role: 'readonly' } }, 400, /control characters/);
  await refused(app, { body: { displayName: 'x'.repeat(129), role: 'readonly' } }, 400, /^displayName must be at most 128 characters/);
  await refused(app, { body: { displayName: '   ', role: 'readonly' } }, 400, /^displayName must not be empty/);
});

test('tenant names: upper case and encoded slashes are invalid; no trailing-slash variants', async (t) => {
  const app = await buildTestApp(t);
  await refused(app, { method: 'GET', url: '/api/v1/tenants/ACME/apikeys' }, 400, /^invalid tenant name$/);
  await refused(app, { method: 'GET', url: '/api/v1/tenants/ac%2Fme/apikeys' }, 400, /^invalid tenant name$/);
  await refused(app, { method: 'GET', url: '/api/v1/tenants/acme/apikeys/' }, 404, /no route/);
  await refused(app, { method: 'GET', url: '/api/v1/tenants/acme/' }, 404, /no route/);
  await refused(app, { method: 'PUT', url: '/api/v1/tenants/acme' }, 405, /^PUT is not allowed on \/api\/v1\/tenants\/acme; use GET, HEAD, PATCH$/);
  await refused(app, { method: 'PUT', url: '/api/v1/nothing/here' }, 404, /no route/);
});

test('prototype pollution in a body is refused', async (t) => {
  const app = await buildTestApp(t);
  await refused(app, { body: '{"displayName":"ci","role":"readonly","__proto__":{"admin":true}}' }, 400, /.+/);
});

test('a text/plain body is 415, an unknown query parameter is 400 naming it, and neither changes anything', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  const plain = await app.call('POST', '/api/v1/tenants/acme/apikeys', {
    key: app.adminKey, headers: { 'content-type': 'text/plain' }, body: '{"displayName":"x","role":"readonly"}',
  });
  assert.deepEqual([plain.statusCode, plain.json().code], [415, 'unsupported_media_type']);
  const unknown = await app.call('GET', '/api/v1/tenants/acme/apikeys?page=2', { key: app.adminKey });
  assert.deepEqual([unknown.statusCode, unknown.json().code, unknown.json().error], [400, 'unknown_field', 'unknown query parameter "page"']);
  const created = await app.call('POST', '/api/v1/tenants/acme/apikeys?dryRun=true', { key: app.adminKey, body: { displayName: 'x', role: 'readonly' } });
  assert.equal(created.statusCode, 400);
  assert.equal(await snapshot(app.store), before);
});

test('the answer that carries a raw key (and every API answer) is never cached', async (t) => {
  const app = await buildTestApp(t);
  const created = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'x', role: 'readonly' } });
  assert.equal(created.statusCode, 201);
  assert.equal(created.headers['cache-control'], 'no-store');
  assert.equal((await app.call('GET', '/api/v1/session')).headers['cache-control'], 'no-store');
});

test('a deeply nested body is 400 invalid_json naming the depth limit, never a 500, and changes nothing', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  // 30,000 nested arrays in 60 KB: the recursive NUL check overflowed the stack on this (a 500).
  const deep = `{"displayName":"x","role":"readonly","extra":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
  for (const body of [deep, `${'['.repeat(40)}${']'.repeat(40)}`]) {
    const res = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().code, 'invalid_json');
    assert.match(res.json().error, /nested deeper than 32 levels/);
  }
  assert.equal(await snapshot(app.store), before);
});
