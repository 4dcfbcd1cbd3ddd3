import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openStore } from '../../src/store/index.ts';
import { freePort, gatewaysMissing, startNginx, startUpstream, TEST_POLICY } from '../gateway/servers.ts';
import { TEST_CONFIG, TEST_POSTGRES_URL, testDatabaseUrl, until } from '../helpers.ts';
import { request, startInstance } from '../processes.ts';

const skip = gatewaysMissing || (TEST_POSTGRES_URL ? false : 'runs with KUPE_TEST_DATABASE_URL=postgres://... (npm run test:postgres after scripts/services.sh)');

interface Answered { status: number; startedAt: number }

test('nginx over three Kupe instances on PostgreSQL: under load, no request is let through once a revocation has answered', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-nginx-3-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify(TEST_POLICY));
  const url = await testDatabaseUrl(t);
  const env = { KUPE_DATABASE_URL: url, KUPE_GATEWAY_POLICY: policy, KUPE_TRUST_PROXY: 'loopback', KUPE_RATE_LIMIT: '0' };
  const instances = await Promise.all(['A', 'B', 'C'].map((name) => startInstance(t, name, env)));
  const { store } = openStore(url, TEST_CONFIG.database);
  t.after(() => store.close());
  const now = new Date();
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  const admin = await createApiKey(store, 'acme', { displayName: 'admin', role: 'admin' }, { actor: 'operator', now });
  const ci = await createApiKey(store, 'acme', { displayName: 'ci', role: 'readonly' }, { actor: 'operator', now });

  const ports = { gateway: await freePort(), kupe: instances.map((i) => Number(new URL(i.url).port)), upstream: await startUpstream(t) };
  await startNginx(t, dir, ports);

  // Eight callers through nginx, each on a keep-alive connection, as fast as answers come.
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const answers: Answered[] = [];
  let running = true;
  const once = () => new Promise<Answered>((resolve, reject) => {
    const startedAt = performance.now();
    const req = httpRequest({
      host: '127.0.0.1', port: ports.gateway, path: '/api/v1/tenants/acme/clusters', agent, headers: { authorization: `Bearer ${ci.key}` },
    }, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode ?? 0, startedAt })); });
    req.on('error', reject);
    req.end();
  });
  const callers = Array.from({ length: 8 }, async () => { while (running) answers.push(await once()); });

  // Every instance verifies the key (and caches it) before the revocation.
  const verifiedBy = (name: string) => instances.find((i) => i.name === name)!.log
    .filter((line) => line.includes('"url":"/api/v1/gateway/verify') && line.includes('"statusCode":200')).length;
  await until(() => answers.length >= 300 && instances.every((i) => verifiedBy(i.name) > 0), 'load through nginx reaching all three instances');
  assert.ok(answers.every((a) => a.status === 200), `before the revocation, all allowed: ${[...new Set(answers.map((a) => a.status))].join(', ')}`);

  const revoked = await request(instances[1]!.url, 'DELETE', `/api/v1/tenants/acme/apikeys/${ci.record.id}`, { key: admin.key });
  assert.equal(revoked.status, 204);
  const countAfter = () => answers.filter((a) => a.startedAt > revoked.finishedAt).length;
  await until(() => countAfter() >= 300, '300 requests through nginx after the DELETE answered');
  running = false;
  await Promise.all(callers);

  const after = answers.filter((a) => a.startedAt > revoked.finishedAt);
  const letThrough = after.filter((a) => a.status !== 401);
  assert.equal(letThrough.length, 0, `${letThrough.length} of ${after.length} requests started after the 204 were not refused (statuses ${[...new Set(letThrough.map((a) => a.status))].join(', ')})`);
  const before = answers.filter((a) => a.startedAt < revoked.startedAt);
  assert.ok(before.length >= 300 && before.every((a) => a.status === 200), 'the key worked until the DELETE');
});
