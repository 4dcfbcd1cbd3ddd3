import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { IssuerKeys } from '../../src/oidc/issuer.ts';
import { buildTestApp, type TestApp, testClock } from '../helpers.ts';
import { startTestProvider, type TestProvider } from '../oidc/provider.ts';
import { call, type Echo, freePort, gatewaysMissing as skip, startCaddy, startNginx, startUpstream, TEST_POLICY } from './servers.ts';

/**
 * The documented gateway configurations (deploy/gateway/), run by Debian's nginx and Caddy on loopback in
 * front of a small upstream that echoes what it received, with Kupe deciding (test/gateway/servers.ts).
 */

/**
 * Kupe on a loopback port, trusting the gateway (loopback) for the client's address, and taking access tokens
 * from a test identity provider whose groups make ro a reader of acme.
 */
async function startKupe(t: TestContext, dir: string): Promise<TestApp & { port: number; provider: TestProvider }> {
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify(TEST_POLICY));
  const provider = await startTestProvider({ users: { ro: { email: 'ro@example.com', email_verified: true, groups: ['acme-readonly'] } } });
  t.after(() => provider.close());
  const clock = testClock(new Date());
  const oidc = loadConfig({ KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_AUDIENCE: provider.audience }).oidc!;
  const issuerKeys = new IssuerKeys({ issuer: provider.issuer, refreshSeconds: 300, clock });
  await issuerKeys.refresh();
  const app = await buildTestApp(t, { config: { trustProxy: ['loopback'], rateLimit: 5, gatewayPolicyFile: policy, oidc }, issuerKeys, clock });
  await app.app.listen({ host: '127.0.0.1', port: 0 });
  return { ...app, port: (app.app.server.address() as AddressInfo).port, provider };
}

const json = (body: string) => JSON.parse(body) as { code?: string; error?: string } & Echo;

for (const gateway of ['nginx', 'caddy'] as const) {
  test(`${gateway} with Kupe deciding: roles, tenants, refusals with Kupe's body, revocation at once, public paths, limits per caller`, { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), `kupe-${gateway}-`));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const kupe = await startKupe(t, dir);
    const ports = { gateway: await freePort(), kupe: kupe.port, upstream: await startUpstream(t) };
    await (gateway === 'nginx' ? startNginx : startCaddy)(t, dir, ports);
    const through = (method: string, path: string, options?: Parameters<typeof call>[3]) => call(ports.gateway, method, path, options);
    let from = 10; // each case from an address of its own: the per-address limit is 5 a minute
    const fresh = () => `127.0.0.${from++}`;

    const none = await through('GET', '/api/v1/tenants/acme/clusters', { from: fresh() });
    assert.equal(none.status, 401, none.body);
    assert.equal(json(none.body).code, 'authentication_required');
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);

    const read = await through('GET', '/api/v1/tenants/acme/clusters?page=2', { key: kupe.readonlyKey, from: fresh() });
    assert.equal(read.status, 200, read.body);
    const seen = json(read.body);
    assert.equal(seen.url, '/api/v1/tenants/acme/clusters?page=2');
    assert.deepEqual([seen.headers['x-kupe-tenant'], seen.headers['x-kupe-role'], seen.headers['x-kupe-principal'], seen.headers['x-kupe-credential']],
      ['acme', 'readonly', kupe.readonlyKeyId, 'apikey']);
    assert.equal(seen.headers.authorization, undefined, 'the key stops at the gateway');

    const write = await through('POST', '/api/v1/tenants/acme/clusters', { key: kupe.readonlyKey, from: fresh() });
    assert.deepEqual([write.status, json(write.body).code], [403, 'admin_required'], write.body);
    assert.equal((await through('POST', '/api/v1/tenants/acme/clusters', { key: kupe.adminKey, from: fresh() })).status, 200);
    const otherTenant = await through('GET', '/api/v1/tenants/acme/clusters', { key: kupe.otherTenantKey, from: fresh() });
    assert.deepEqual([otherTenant.status, json(otherTenant.body).code], [403, 'not_a_member']);
    const traversal = await through('GET', '/api/v1/tenants/globex/%2e%2e/acme/clusters', { key: kupe.otherTenantKey, from: fresh() });
    assert.equal(traversal.status, 400, traversal.body);

    // An access token from the identity provider: its groups give the role, as for a key.
    const token = await kupe.provider.issueAccessToken('ro');
    const byToken = await through('GET', '/api/v1/tenants/acme/clusters', { key: token, from: fresh() });
    assert.equal(byToken.status, 200, byToken.body);
    const tokenSeen = json(byToken.body).headers;
    assert.deepEqual([tokenSeen['x-kupe-tenant'], tokenSeen['x-kupe-role'], tokenSeen['x-kupe-principal'], tokenSeen['x-kupe-credential']],
      ['acme', 'readonly', 'ro@example.com', 'token']);
    const tokenWrite = await through('POST', '/api/v1/tenants/acme/clusters', { key: token, from: fresh() });
    assert.deepEqual([tokenWrite.status, json(tokenWrite.body).code], [403, 'admin_required'], tokenWrite.body);

    // Public: no credential needed, and a client's own X-Kupe-* headers never reach the upstream.
    const open = await through('GET', '/status', { from: fresh(), headers: { 'x-kupe-tenant': 'acme', 'x-kupe-role': 'admin' } });
    assert.equal(open.status, 200, open.body);
    for (const name of ['x-kupe-tenant', 'x-kupe-role']) assert.ok(!json(open.body).headers[name], `${name}: ${json(open.body).headers[name]} (none, or empty)`);

    // Revoked: refused through the gateway on the very next request.
    const address = fresh();
    assert.equal((await through('GET', '/api/v1/tenants/acme/x', { key: kupe.readonlyKey, from: address })).status, 200);
    assert.equal((await kupe.call('DELETE', `/api/v1/tenants/acme/apikeys/${kupe.readonlyKeyId}`, { key: kupe.adminKey })).statusCode, 204);
    const revoked = await through('GET', '/api/v1/tenants/acme/x', { key: kupe.readonlyKey, from: address });
    assert.deepEqual([revoked.status, json(revoked.body).code], [401, 'api_key_revoked']);

    // The per-address limit counts the caller behind the gateway, not the gateway: 5 a minute.
    const busy = fresh();
    for (let i = 0; i < 5; i++) assert.equal((await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: busy })).status, 200, `request ${i + 1}`);
    const limited = await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: busy });
    assert.deepEqual([limited.status, json(limited.body).code], [429, 'rate_limited'], limited.body);
    assert.ok(Number(limited.headers['retry-after']) >= 1, `Retry-After: ${String(limited.headers['retry-after'])}`);
    assert.equal((await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: fresh() })).status, 200, 'another caller is not limited');

    // Kupe gone: the gateway fails closed (nginx 500, Caddy 502), and nothing reaches the upstream.
    await kupe.app.close();
    const down = await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: fresh() });
    assert.ok(down.status >= 500, `${down.status}: ${down.body}`);
    assert.ok(!down.body.includes('"headers"'), 'the upstream did not answer');
  });
}
