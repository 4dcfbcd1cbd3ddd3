import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_POLICY_SOURCE, decide, type GatewayPolicy, parsePolicy } from '../../src/gateway/policy.ts';

function policy(source: unknown): GatewayPolicy {
  const parsed = parsePolicy(source);
  assert.deepEqual(parsed.problems, []);
  return parsed.policy!;
}

const ask = (p: GatewayPolicy, method: string, uri: string, extra: { host?: string; headers?: Record<string, string> } = {}) =>
  decide(p, { method, uri, host: extra.host, headers: extra.headers ?? {} });

test('the default policy: tenant from the path, GET and HEAD need readonly, the rest admin, nothing else allowed', () => {
  const p = policy(DEFAULT_POLICY_SOURCE);
  assert.deepEqual(ask(p, 'GET', '/api/v1/tenants/acme/clusters?page=2'), { kind: 'protected', need: 'readonly', tenant: 'acme', rule: 'GET,HEAD /api/v1/tenants/*/**' });
  assert.deepEqual(ask(p, 'HEAD', '/api/v1/tenants/acme'), { kind: 'protected', need: 'readonly', tenant: 'acme', rule: 'GET,HEAD /api/v1/tenants/*/**' });
  assert.equal((ask(p, 'DELETE', '/api/v1/tenants/acme/clusters/7') as { need: string }).need, 'admin');
  assert.equal((ask(p, 'POST', '/api/v1/tenants/acme/') as { need: string }).need, 'admin');
  assert.deepEqual(ask(p, 'GET', '/api/v1/other'), { kind: 'refused', code: 'gateway_no_rule', message: 'no gateway rule allows GET /api/v1/other' });
  const long = ask(p, 'GET', `/other/${'a'.repeat(10_000)}`);
  assert.ok(long.kind === 'refused' && long.message.length < 300, 'a message quotes at most 200 characters of the path (it travels in a header)');
  assert.equal(ask(p, 'GET', '/api/v1/tenants/ACME/x').kind === 'refused' && (ask(p, 'GET', '/api/v1/tenants/ACME/x') as { code: string }).code, 'invalid_tenant_name');
});

test('paths that servers could read differently are refused before any rule', () => {
  const p = policy(DEFAULT_POLICY_SOURCE);
  for (const uri of ['/api/v1/tenants/acme/../globex/x', '/api/v1/tenants/acme/./x', '/api/v1/tenants/acme//x', '/api/v1/tenants/acme%2fglobex/x',
    '/api/v1/tenants/acme/%2E%2E/globex', '/api/v1/tenants/acme\\..\\globex', '/api/v1/tenants/acme/x%00', 'api/v1/tenants/acme', '/api/v1/tenants/acme/\u0007']) {
    const decision = ask(p, 'GET', uri);
    assert.equal(decision.kind === 'refused' && decision.code, 'gateway_request_invalid', uri);
  }
});

test('public paths, tenants from the host or a header, and rules that need only a credential', () => {
  const byHost = policy({ tenant: { host: '{tenant}.platform.example.com' }, public: ['GET /healthz', '/docs/**'], rules: [{ match: '/**', role: 'readonly' }] });
  assert.deepEqual(ask(byHost, 'GET', '/healthz'), { kind: 'public' });
  assert.deepEqual(ask(byHost, 'POST', '/docs/a/b'), { kind: 'public' });
  assert.equal((ask(byHost, 'POST', '/healthz') as { tenant?: string }).tenant, undefined, 'POST /healthz is not public');
  assert.deepEqual(ask(byHost, 'GET', '/x', { host: 'Acme.platform.example.com:8443' }), { kind: 'protected', need: 'readonly', tenant: 'acme', rule: '/**' });
  const byHeader = policy({ tenant: { header: 'X-Tenant' }, rules: [{ match: 'GET /whoami', role: 'authenticated' }, { match: '/**', role: 'admin' }] });
  assert.deepEqual(ask(byHeader, 'GET', '/whoami'), { kind: 'protected', need: 'authenticated', tenant: undefined, rule: 'GET /whoami' });
  assert.deepEqual(ask(byHeader, 'PUT', '/a', { headers: { 'x-tenant': 'globex' } }), { kind: 'protected', need: 'admin', tenant: 'globex', rule: '/**' });
  const none = ask(byHeader, 'PUT', '/a');
  assert.equal(none.kind === 'refused' && none.code, 'gateway_no_rule', 'a rule that needs a tenant, and none named');
});

test('a bad policy is refused with every problem named', () => {
  const { policy: none, problems } = parsePolicy({
    tenant: { path: '/api/{tenant}/x' }, public: ['GET'], rules: [{ match: 'get /a/**/b', role: 'owner' }, { match: 7 }, 'x'], extra: true,
  });
  assert.equal(none, undefined);
  for (const expected of [/unknown field "extra"/, /tenant\.path "\/api\/\{tenant\}\/x": must be literal segments ending in \/\{tenant\}/,
    /public\[0\] "GET": must be "PATH" or "METHODS PATH"/, /rules\[0\] "get \/a\/\*\*\/b": "get" not an HTTP method/, /rules\[0\]: role must be one of admin, readonly, authenticated/,
    /rules\[1\]: match must be a string/, /rules\[2\]: must be \{"match"/]) {
    assert.ok(problems.some((p) => expected.test(p)), `${expected} in ${JSON.stringify(problems)}`);
  }
  assert.match(parsePolicy([]).problems[0]!, /JSON object/);
  assert.match(parsePolicy({ tenant: { cookie: 'x' }, rules: [] }).problems.join('\n'), /unknown source "cookie"[\s\S]*at least one rule/);
});
