import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import { buildTestApp } from '../helpers.ts';

test('healthz and readyz answer without auth', async (t) => {
  const app = await buildTestApp(t);
  for (const url of ['/healthz', '/readyz']) {
    const res = await app.call('GET', url);
    assert.deepEqual([res.statusCode, res.json()], [200, { status: 'ok' }]);
  }
});

test('readyz turns 503 when the store is gone or the instance drains', async (t) => {
  const app = await buildTestApp(t);
  app.drain();
  let res = await app.call('GET', '/readyz');
  assert.deepEqual([res.statusCode, res.json().code], [503, 'not_ready']);
  const broken = await buildTestApp(t);
  await broken.store.close();
  res = await broken.call('GET', '/readyz');
  assert.deepEqual([res.statusCode, res.json().error], [503, 'store unreachable']);
});

test('every response carries X-Request-Id; a well-formed incoming one is kept', async (t) => {
  const app = await buildTestApp(t);
  const ids = [];
  for (const url of ['/healthz', '/api/v1/whoami', '/nope', '/healthz']) {
    const id = String((await app.call('GET', url)).headers['x-request-id']);
    assert.match(id, /^[0-9a-f]{12}-[0-9a-z]+$/, 'this process\'s random prefix and a counter');
    ids.push(id);
  }
  assert.equal(new Set(ids).size, ids.length, 'every request its own id');
  const res = await app.call('GET', '/api/v1/whoami', { headers: { 'x-request-id': 'lb-1234' } });
  assert.equal(res.headers['x-request-id'], 'lb-1234');
  assert.equal(res.json().requestId, 'lb-1234');
  const evil = await app.call('GET', '/healthz', { headers: { 'x-request-id': 'a b\u0007' } });
  assert.notEqual(evil.headers['x-request-id'], 'a b\u0007');
});

test('unknown routes get the JSON envelope', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('GET', '/api/v2/things');
  assert.equal(res.statusCode, 404);
  assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'error', 'requestId']);
  assert.equal(res.json().code, 'route_not_found');
});

test('/metrics counts requests by route and status, and authentication outcomes by reason', async (t) => {
  const app = await buildTestApp(t);
  await app.call('GET', '/api/v1/whoami', { key: app.adminKey });
  await app.call('GET', '/api/v1/whoami', { key: 'kupe_00000000_bad' });
  await app.call('GET', '/api/v1/tenants/acme', { key: app.readonlyKey });
  const text = (await app.call('GET', '/metrics')).body;
  assert.match(text, /kupe_http_requests_total\{method="GET",route="\/api\/v1\/whoami",status="200"\} 1/);
  assert.match(text, /kupe_http_requests_total\{method="GET",route="\/api\/v1\/whoami",status="401"\} 1/);
  assert.match(text, /kupe_http_requests_total\{method="GET",route="\/api\/v1\/tenants\/:tenant",status="200"\} 1/);
  assert.match(text, /kupe_http_request_duration_seconds_bucket\{le="0\.5",method="GET",route="\/api\/v1\/whoami",status="200"\} 1/);
  assert.match(text, /kupe_authentications_total\{outcome="success",reason="apikey"\} 2/);
  assert.match(text, /kupe_authentications_total\{outcome="failure",reason="malformed"\} 1/);
  // prom-client's process and Node.js metrics, beside Kupe's own.
  assert.match(text, /^process_resident_memory_bytes \d+/m);
  assert.match(text, /^nodejs_eventloop_lag_seconds \d/m);
});

test('every answer carries the security headers: the API set on API answers, the page set elsewhere, the API reference with inline styles', async (t) => {
  const app = await buildTestApp(t);
  const expectHeaders = (res: { headers: Record<string, unknown> }, what: string) => {
    assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
    assert.equal(res.headers['x-frame-options'], 'DENY', what);
    assert.equal(res.headers['strict-transport-security'], undefined, `${what}: HSTS is the TLS terminator's`);
    assert.ok(res.headers['x-request-id'], `${what}: X-Request-Id`);
    return String(res.headers['content-security-policy']);
  };
  // API answers, allowed or refused, routed or not: OWASP's REST set (docs/security.md), no page headers.
  const gateway = { 'x-original-method': 'GET', 'x-original-uri': '/api/v1/tenants/acme/things' };
  for (const [path, key, headers] of [['/api/v1/whoami', app.adminKey], ['/api/v1/whoami', undefined], ['/api/v1/no/such/route', undefined],
    ['/api/v1/gateway/verify', undefined, gateway]] as const) {
    const res = await app.call('GET', path, { key, headers });
    const what = `${path} ${res.statusCode}`;
    assert.equal(expectHeaders(res, what), "default-src 'none'; frame-ancestors 'none'", what);
    assert.equal(res.headers['cache-control'], 'no-store', what);
    assert.equal(res.headers['referrer-policy'], undefined, what);
    assert.equal(res.headers['cross-origin-opener-policy'], undefined, what);
  }
  // The gateway's allowed answer is for the gateway alone: uncacheable, and nothing for a browser.
  const allowed = await app.call('GET', '/api/v1/gateway/verify', { key: app.readonlyKey, headers: gateway });
  assert.equal(allowed.statusCode, 200);
  assert.equal(allowed.headers['cache-control'], 'no-store');
  assert.ok(allowed.headers['x-request-id'], 'X-Request-Id');
  assert.equal(allowed.headers['content-security-policy'], undefined);
  // Anything a browser may show as a page (the console, its 404s): the page set.
  const page = await app.call('GET', '/no/such/route');
  const csp = expectHeaders(page, 'page');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
  const docs = await app.call('GET', '/api/v1/docs/');
  const docsCsp = expectHeaders(docs, 'docs');
  assert.match(docsCsp, /style-src 'self' 'unsafe-inline'/);
  assert.match(docsCsp, /script-src 'self'(;|$)/);
  assert.equal(docs.headers['referrer-policy'], 'no-referrer');
});

test('the OpenAPI 3.1 document lists every route with its schemas; docs are served beside it', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('GET', '/api/v1/openapi.json');
  assert.equal(res.statusCode, 200);
  const doc = res.json();
  assert.equal(doc.openapi, '3.1.0');
  const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  assert.deepEqual(routes, [
    'DELETE /api/v1/tenants/{tenant}/apikeys/{id}', 'DELETE /api/v1/tenants/{tenant}/members/{email}',
    'GET /api/v1/tenants/{tenant}', 'GET /api/v1/tenants/{tenant}/apikeys', 'GET /api/v1/tenants/{tenant}/auditlog',
    'GET /api/v1/tenants/{tenant}/members', 'GET /api/v1/whoami', 'GET /healthz', 'GET /readyz',
    'PATCH /api/v1/tenants/{tenant}', 'PATCH /api/v1/tenants/{tenant}/members/{email}',
    'POST /api/v1/tenants/{tenant}/apikeys', 'POST /api/v1/tenants/{tenant}/members', 'POST /api/v1/tenants/{tenant}/members/{email}/invite',
  ].concat(['DELETE /api/v1/session', 'GET /api/v1/invites/{token}', 'GET /api/v1/session', 'GET /api/v1/sign-in-methods',
    'POST /api/v1/invites/{token}/accept', 'POST /api/v1/invites/{token}/join', 'POST /api/v1/session', 'POST /api/v1/session/password'])
    .concat(['GET /api/v1/plans', 'GET /api/v1/plans/{name}'])
    .concat(['POST /api/v1/password-resets', 'GET /api/v1/password-resets/{token}', 'POST /api/v1/password-resets/{token}'])
    .concat(['GET /api/v1/gateway/verify'])
    .concat(['POST /api/v1/tenants/{tenant}/apikeys/{id}/leak-acknowledgement', 'POST /api/v1/secret-scanning/github',
      'GET /api/v1/secret-scanning/gitlab/v1/revocable_token_types', 'POST /api/v1/secret-scanning/gitlab/v1/revoke_tokens'])
    .concat(['GET /api/v1/tenants/{tenant}/webhooks', 'POST /api/v1/tenants/{tenant}/webhooks', 'PATCH /api/v1/tenants/{tenant}/webhooks/{id}',
      'DELETE /api/v1/tenants/{tenant}/webhooks/{id}', 'POST /api/v1/tenants/{tenant}/webhooks/{id}/test',
      'GET /api/v1/tenants/{tenant}/webhooks/{id}/deliveries']).sort());
  const create = doc.paths['/api/v1/tenants/{tenant}/apikeys'].post;
  const body = create.requestBody.content['application/json'].schema;
  assert.deepEqual(body.required, ['displayName', 'role']);
  assert.equal(body.additionalProperties, false);
  assert.ok(create.responses['201'].content['application/json'].schema.properties.key, 'the create answer documents key');
  assert.ok(create.description && create.summary, 'summary and description');
  const docs = await app.call('GET', '/api/v1/docs');
  assert.equal(docs.statusCode, 200);
  assert.match(String(docs.headers['content-type']), /text\/html/);
});

test('an unexpected failure is a 500 with a generic message; the details go to the log only', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('error', new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
  const app = await buildTestApp(t, { logger });
  await app.store.close(); // every query now fails inside the store
  const res = await app.call('GET', '/api/v1/tenants/acme', { key: app.adminKey });
  assert.equal(res.statusCode, 500);
  assert.deepEqual([res.json().error, res.json().code], ['internal server error', 'internal_error']);
  assert.ok(!res.body.includes('database') && !res.body.includes('stack'), 'no details in a 500');
  const logged = lines.map((l) => JSON.parse(l) as { reqId?: string; err?: { message?: string } });
  assert.ok(logged.some((l) => l.reqId === res.json().requestId && (l.err?.message ?? '').length > 0), lines.join('\n'));
});

test('with KUPE_METRICS_TOKEN, /metrics wants the token', async (t) => {
  const app = await buildTestApp(t, { config: { metricsToken: 'scrape-secret' } });
  const refused = await app.call('GET', '/metrics');
  assert.deepEqual([refused.statusCode, refused.json().code], [401, 'authentication_required']);
  assert.equal((await app.call('GET', '/metrics', { headers: { authorization: 'Bearer scrape-secrex' } })).statusCode, 401);
  const ok = await app.call('GET', '/metrics', { headers: { authorization: 'Bearer scrape-secret' } });
  assert.equal(ok.statusCode, 200);
  assert.match(ok.body, /kupe_http_requests_total/);
});

test('the OpenAPI document states what the server enforces: no NUL in any string, shared patterns, links to follow-up calls', async (t) => {
  const app = await buildTestApp(t);
  const doc = (await app.call('GET', '/api/v1/openapi.json')).json();
  const create = doc.paths['/api/v1/tenants/{tenant}/apikeys'].post;
  const displayName = create.requestBody.content['application/json'].schema.properties.displayName;
  assert.ok(new RegExp(displayName.pattern, 'u').test('  CI/CD Pipeline '), 'a name the API takes matches');
  for (const bad of ['', '\u200B', '\u202Eexe', 'a\u0007b', 'x'.repeat(129)]) {
    assert.ok(!new RegExp(displayName.pattern, 'u').test(bad), JSON.stringify(bad));
    const res = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: bad, role: 'readonly' } });
    assert.equal(res.statusCode, 400, JSON.stringify(bad));
  }
  const role = create.requestBody.content['application/json'].schema.properties.role;
  assert.equal(role.pattern, undefined, 'enums need no NUL rule');
  const actor = doc.paths['/api/v1/tenants/{tenant}/auditlog'].get.parameters.find((p: { name: string }) => p.name === 'actor');
  assert.equal(actor.schema.pattern, '^[^\\u0000]*$');
  assert.deepEqual(Object.keys(create.responses['201'].links), ['revoke']);
  assert.equal(create.responses['201'].links.revoke.operationId, 'revokeApiKey');
});

test('a path asked with a method it does not take is 405 with Allow, before any body is read', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('QUERY', '/api/v1/tenants/acme/apikeys', { key: app.adminKey });
  assert.deepEqual([res.statusCode, res.json().code, res.headers.allow], [405, 'method_not_allowed', 'GET, HEAD, POST']);
  assert.equal((await app.call('TRACE', '/api/v1/session')).statusCode, 405);
  assert.equal((await app.call('PUT', '/api/v1/no/such/path')).json().code, 'route_not_found');
});
