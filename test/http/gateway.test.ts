import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { addAcceptedMember, buildTestApp, snapshot, type TestApp } from '../helpers.ts';

/** What nginx sends for a client's request (docs/gateway.md): the original method and URI in headers. */
const original = (method: string, uri: string) => ({ 'x-original-method': method, 'x-original-uri': uri });

const verify = (app: TestApp, key: string | undefined, method: string, uri: string, extra: { query?: string; headers?: Record<string, string>; remoteAddress?: string } = {}) =>
  app.call('GET', `/api/v1/gateway/verify${extra.query ?? ''}`, { key, headers: { ...original(method, uri), ...extra.headers }, remoteAddress: extra.remoteAddress });

function policyFile(t: TestContext, policy: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'policy.json');
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

test('allowed: 200, an empty body with its length, and who and as what in headers for the upstream (never the key)', async (t) => {
  const app = await buildTestApp(t);
  const res = await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/clusters');
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.body, '');
  assert.equal(res.headers['content-length'], '0');
  assert.deepEqual([res.headers['x-kupe-tenant'], res.headers['x-kupe-role'], res.headers['x-kupe-principal'], res.headers['x-kupe-credential']],
    ['acme', 'readonly', app.readonlyKeyId, 'apikey']);
  assert.ok(!JSON.stringify(res.headers).includes(app.readonlyKey.slice(5)), 'the key is in no header');
  const admin = await verify(app, app.adminKey, 'DELETE', '/api/v1/tenants/acme/clusters/7');
  assert.deepEqual([admin.statusCode, admin.headers['x-kupe-role']], [200, 'admin']);
});

test('refused: 401 without a credential, 403 for the wrong role or tenant; the error also in X-Kupe-Error and X-Kupe-Status', async (t) => {
  const app = await buildTestApp(t);
  const before = await snapshot(app.store);
  const none = await verify(app, undefined, 'GET', '/api/v1/tenants/acme/clusters');
  assert.deepEqual([none.statusCode, none.json().code, none.headers['www-authenticate'], none.headers['x-kupe-status']], [401, 'authentication_required', 'Bearer', '401']);
  assert.deepEqual(JSON.parse(String(none.headers['x-kupe-error'])), none.json());
  const readonlyPost = await verify(app, app.readonlyKey, 'POST', '/api/v1/tenants/acme/clusters');
  assert.deepEqual([readonlyPost.statusCode, readonlyPost.json().code], [403, 'admin_required']);
  const otherTenant = await verify(app, app.otherTenantKey, 'GET', '/api/v1/tenants/acme/clusters');
  assert.deepEqual([otherTenant.statusCode, otherTenant.json().code], [403, 'not_a_member']);
  const noRule = await verify(app, app.adminKey, 'GET', '/internal/admin');
  assert.deepEqual([noRule.statusCode, noRule.json().code], [403, 'gateway_no_rule']);
  const traversal = await verify(app, app.adminKey, 'GET', '/api/v1/tenants/acme/../globex/clusters');
  assert.deepEqual([traversal.statusCode, traversal.json().code], [400, 'gateway_request_invalid']);
  const silent = await app.call('GET', '/api/v1/gateway/verify', { key: app.adminKey });
  assert.deepEqual([silent.statusCode, silent.json().code], [400, 'gateway_request_invalid']);
  assert.match(silent.json().error, /X-Original-URI/);
  assert.equal(await snapshot(app.store), before, 'verification writes nothing, not even an audit entry');
});

test('Caddy and Traefik headers; any method; the original body is never read', async (t) => {
  const app = await buildTestApp(t);
  const caddy = await app.call('GET', '/api/v1/gateway/verify', {
    key: app.readonlyKey, headers: { 'x-forwarded-method': 'HEAD', 'x-forwarded-uri': '/api/v1/tenants/acme/x', 'x-forwarded-host': 'api.example.com' },
  });
  assert.equal(caddy.statusCode, 200, caddy.body);
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
    const res = await app.call(method, '/api/v1/gateway/verify', {
      key: app.adminKey, headers: { ...original('PUT', '/api/v1/tenants/acme/x'), 'content-type': 'application/json' }, body: '{"not json',
    });
    assert.equal(res.statusCode, 200, `${method}: ${res.body}`);
  }
});

test('a revoked key is refused at the gateway on the next request; lastUsedAt moves', async (t) => {
  const app = await buildTestApp(t);
  assert.equal((await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/x')).statusCode, 200);
  await app.lastUsed.flush();
  assert.ok((await app.store.apiKeys.get(app.readonlyKeyId))?.lastUsedAt, 'lastUsedAt written');
  assert.equal((await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${app.readonlyKeyId}`, { key: app.adminKey })).statusCode, 204);
  const revoked = await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/x');
  assert.deepEqual([revoked.statusCode, revoked.json().code], [401, 'api_key_revoked']);
});

test('?statuses=401-403 (nginx): a 429 or a 400 becomes a 403 that says its real status, with Retry-After', async (t) => {
  const app = await buildTestApp(t, { config: { rateLimit: 2 } });
  const nginx = { query: '?statuses=401-403', remoteAddress: '192.0.2.9' };
  assert.equal((await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/x', nginx)).statusCode, 200);
  const bad = await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/%2e%2e/x', nginx);
  assert.deepEqual([bad.statusCode, bad.headers['x-kupe-status'], bad.json().code], [403, '400', 'gateway_request_invalid']);
  const limited = await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/x', nginx);
  assert.deepEqual([limited.statusCode, limited.headers['x-kupe-status'], limited.json().code], [403, '429', 'rate_limited']);
  assert.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After');
  const plain = await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/x', { remoteAddress: '192.0.2.9' });
  assert.deepEqual([plain.statusCode, plain.headers['x-kupe-status']], [429, '429'], 'without the option, the status itself');
});

test('guesses through the gateway count towards the backoff, once per request', async (t) => {
  const app = await buildTestApp(t, { config: { authBackoffAfter: 3 } });
  const attacker = { remoteAddress: '198.51.100.7' };
  for (let i = 0; i < 3; i++) {
    assert.equal((await verify(app, 'kupe_00000000_guess', 'GET', '/api/v1/tenants/acme/x', attacker)).statusCode, 401, `guess ${i + 1}`);
  }
  const held = await verify(app, 'kupe_00000000_guess', 'GET', '/api/v1/tenants/acme/x', attacker);
  assert.deepEqual([held.statusCode, held.json().code], [429, 'auth_backoff']);
  assert.equal((await verify(app, app.readonlyKey, 'GET', '/api/v1/tenants/acme/x', attacker)).statusCode, 200, 'a key that verifies is never held back');
});

test('an operator policy: public paths need nothing, the tenant from a header, members by their role', async (t) => {
  const file = policyFile(t, {
    tenant: { header: 'X-Tenant' }, public: ['GET /status'],
    rules: [{ match: 'GET /me', role: 'authenticated' }, { match: 'GET /**', role: 'readonly' }, { match: '/**', role: 'admin' }],
  });
  const app = await buildTestApp(t, { config: { gatewayPolicyFile: file } });
  const open = await verify(app, undefined, 'GET', '/status');
  assert.deepEqual([open.statusCode, open.headers['x-kupe-tenant'], open.headers['x-kupe-credential']], [200, '', ''], 'empty: nothing to tell the upstream');
  const me = await verify(app, app.otherTenantKey, 'GET', '/me');
  assert.deepEqual([me.statusCode, me.headers['x-kupe-tenant']], [200, 'globex'], 'a key names its own tenant');
  const byHeader = await verify(app, app.readonlyKey, 'GET', '/clusters', { headers: { 'x-tenant': 'acme' } });
  assert.deepEqual([byHeader.statusCode, byHeader.headers['x-kupe-tenant']], [200, 'acme']);
  assert.equal((await verify(app, app.readonlyKey, 'GET', '/clusters', { headers: { 'x-tenant': 'globex' } })).statusCode, 403);
  // A person's console session is not a gateway credential.
  const { cookie } = await addAcceptedMember(app, 'bob@acme.com', 'admin');
  const session = await verify(app, undefined, 'GET', '/clusters', { headers: { 'x-tenant': 'acme', cookie } });
  assert.deepEqual([session.statusCode, session.json().code], [401, 'authentication_required']);
});

test('a policy file that cannot be read or holds a bad policy stops the app from being built, naming the problem', async (t) => {
  await assert.rejects(buildTestApp(t, { config: { gatewayPolicyFile: '/nonexistent/policy.json' } }), /KUPE_GATEWAY_POLICY="\/nonexistent\/policy.json": ENOENT/);
  const bad = policyFile(t, { tenant: { path: '/t/{tenant}' }, rules: [{ match: '/x', role: 'owner' }] });
  await assert.rejects(buildTestApp(t, { config: { gatewayPolicyFile: bad } }), /invalid gateway policy in .*policy\.json:\n {2}- rules\[0\]: role must be one of/);
});
