import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { createApiKey } from '../../src/domain/api-keys.ts';
import type { Store } from '../../src/domain/store.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openStore } from '../../src/store/index.ts';
import { TEST_CONFIG, TEST_POSTGRES_URL, testDatabaseUrl, until } from '../helpers.ts';
import { BIN, bootstrapDecided, freshIp, type Instance, request, startInstance } from '../processes.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const REDIS = process.env.KUPE_TEST_REDIS_URL;
const skip = TEST_POSTGRES_URL && REDIS ? false
  : 'runs with KUPE_TEST_DATABASE_URL=postgres://... and KUPE_TEST_REDIS_URL (npm run test:postgres after scripts/services.sh)';

const RATE_LIMIT = 100;

interface Cluster { instances: Instance[]; store: Store; adminKey: string; url: string }

/** Three instances started at the same moment on an empty PostgreSQL schema, sharing one Redis. */
async function startCluster(t: TestContext, env: Record<string, string> = {}): Promise<Cluster> {
  const url = await testDatabaseUrl(t);
  const shared = {
    KUPE_DATABASE_URL: url, KUPE_REDIS_URL: REDIS!, KUPE_REDIS_PREFIX: `kupe-test:${randomBytes(6).toString('hex')}:`,
    KUPE_TRUST_PROXY: 'loopback', KUPE_RATE_LIMIT: String(RATE_LIMIT),
    KUPE_LAST_USED_FLUSH_SECONDS: '1', ...env,
  };
  const instances = await Promise.all(['A', 'B', 'C'].map((name) => startInstance(t, name, shared)));
  const { store } = openStore(url, TEST_CONFIG.database);
  t.after(() => store.close());
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, new Date());
  const admin = await createApiKey(store, 'acme', { displayName: 'admin', role: 'admin' }, { actor: 'operator', now: new Date() });
  return { instances, store, adminKey: admin.key, url };
}


test('three instances start together: migrations run once, the demo tenant is made once', { skip }, async (t) => {
  const { url, instances } = await startCluster(t);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.after(() => client.end());
  const migrations = await client.query('select name from kysely_migration order by name');
  assert.deepEqual(migrations.rows.map((r: { name: string }) => r.name), ['0001-initial', '0002-accounts', '0003-pending-members', '0004-revocation-fence', '0005-provider-sessions', '0006-email-proof', '0007-lease-renewals', '0008-revoke-reason', '0009-leak-reports', '0010-webhooks', '0011-expiry-notices', '0012-mail', '0013-kupe-meta', '0014-disabled']);
  const demo = await client.query("select count(*)::int as n from tenants where name = 'demo'");
  assert.equal(demo.rows[0].n, 1);
  // Each instance logs whether it made the demo tenant; once all three have, count the banners.
  await Promise.all(instances.map(bootstrapDecided));
  const banners = instances.filter((i) => i.stderr.join('').includes('one-time password:')).length;
  assert.equal(banners, 1, 'one instance printed the one-time password');
  const migrated = instances.filter((i) => i.log.some((line) => line.includes('"msg":"database migrated"')));
  assert.equal(migrated.length, 1, 'one instance applied the migrations; the others found them applied');
});

test('a key created on A works on B and C; revoked on B, it fails everywhere at once', { skip }, async (t) => {
  const { instances: [a, b, c], adminKey } = await startCluster(t);
  const created = await request(a!.url, 'POST', '/api/v1/tenants/acme/apikeys', { key: adminKey, body: { displayName: 'ci', role: 'readonly' } });
  assert.equal(created.status, 201);
  for (const instance of [b!, c!]) {
    assert.equal((await request(instance.url, 'GET', '/api/v1/whoami', { key: created.body.key })).status, 200, instance.name);
  }

  // Hammer A and C with the key while B revokes it.
  const answers: (Answer & { on: string })[] = [];
  let hammering = true;
  const hammer = async (instance: Instance) => {
    while (hammering) {
      const answer = await request(instance.url, 'GET', '/api/v1/tenants/acme', { key: created.body.key });
      answers.push({ ...answer, on: instance.name });
    }
  };
  const loops = [a!, c!, a!, c!].map((i) => hammer(i));
  await until(() => answers.length > 20, 'the key answered on A and C');
  const revoked = await request(b!.url, 'DELETE', `/api/v1/tenants/acme/apikeys/${created.body.id}`, { key: adminKey });
  const revokedAt = performance.now();
  assert.equal(revoked.status, 204);
  await until(() => answers.filter((x) => x.startedAt > revokedAt).length > 20, 'requests sent after the revoke answered');
  hammering = false;
  await Promise.all(loops);

  // Answered before the DELETE was sent (one sent earlier may still be answered after the revoke).
  const before = answers.filter((x) => x.finishedAt < revoked.startedAt);
  const after = answers.filter((x) => x.startedAt > revokedAt);
  assert.ok(before.length > 10 && before.every((x) => x.status === 200), `the key worked until the revoke: ${JSON.stringify(before.filter((x) => x.status !== 200).slice(0, 3))}`);
  assert.ok(after.length > 10, `hammered after the revoke (${after.length} requests)`);
  assert.deepEqual([...new Set(after.map((x) => `${x.status} ${x.body.error}`))], ['401 api key revoked'],
    'zero successful responses after the DELETE answered');
});

test("kupe-server tenants disable: every instance caching the tenant's keys refuses them before the command returns", { skip }, async (t) => {
  const { instances, adminKey, url } = await startCluster(t);
  const [a, b, c] = instances as [Instance, Instance, Instance];
  for (const instance of instances) assert.equal((await request(instance.url, 'GET', '/api/v1/whoami', { key: adminKey })).status, 200, instance.name);
  const answers: Answer[] = [];
  let hammering = true;
  const hammer = async (instance: Instance) => {
    while (hammering) answers.push(await request(instance.url, 'GET', '/api/v1/tenants/acme', { key: adminKey }));
  };
  const loops = [a, b, c, a, b, c].map((i) => hammer(i));
  await until(() => answers.length > 30, 'the key answered on every instance');
  const operator = (...args: string[]) => promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, KUPE_DATABASE_URL: url } });
  const startedAt = performance.now();
  const disabled = await operator('tenants', 'disable', 'acme', '--output', 'json');
  const disabledAt = performance.now();
  assert.deepEqual(JSON.parse(disabled.stdout), { name: 'acme', disabled: true, changed: true });
  await until(() => answers.filter((x) => x.startedAt > disabledAt).length > 30, 'requests sent after the command returned answered');
  hammering = false;
  await Promise.all(loops);
  const before = answers.filter((x) => x.finishedAt < startedAt);
  const after = answers.filter((x) => x.startedAt > disabledAt);
  assert.ok(before.length > 10 && before.every((x) => x.status === 200), 'the key worked until the command ran');
  assert.deepEqual([...new Set(after.map((x) => `${x.status} ${x.body.code}`))], ['403 tenant_disabled'],
    'no instance answered the key after the command returned');

  await operator('tenants', 'enable', 'acme');
  for (const instance of instances) assert.equal((await request(instance.url, 'GET', '/api/v1/whoami', { key: adminKey })).status, 200, `${instance.name}: enabled again`);
});

type Answer = Awaited<ReturnType<typeof request>>;

test('the per-IP limit and the auth-failure backoff hold across instances', { skip }, async (t) => {
  const { instances, adminKey } = await startCluster(t);
  // The limit counts per one-minute window: a burst that straddled two windows is sent again, from another
  // address, in the window that has just begun (no waiting for one).
  const burst = async () => {
    const ip = freshIp(); // a fresh address: a first burst that straddled two windows left counts on its own
    const window = Math.floor(Date.now() / 60_000);
    const statuses = await Promise.all(Array.from({ length: 150 }, (_, i) =>
      request(instances[i % 3]!.url, 'GET', '/api/v1/whoami', { key: adminKey, ip }).then((r) => r.status)));
    return { statuses, oneWindow: Math.floor(Date.now() / 60_000) === window };
  };
  let sent = await burst();
  if (!sent.oneWindow) sent = await burst();
  const { statuses } = sent;
  const accepted = statuses.filter((s) => s === 200).length;
  assert.ok(accepted <= RATE_LIMIT, `${accepted} accepted over a limit of ${RATE_LIMIT}`);
  assert.ok(accepted >= RATE_LIMIT - 10, `${accepted} accepted: the limit is not far too strict either`);
  assert.equal(statuses.filter((s) => s === 429).length, 150 - accepted);

  const attacker = freshIp();
  for (let i = 0; i < 5; i++) {
    assert.equal((await request(instances[i % 3]!.url, 'GET', '/api/v1/whoami', { key: 'kupe_00000000_guess', ip: attacker })).status, 401);
  }
  for (const instance of instances) {
    const res = await request(instance.url, 'GET', '/api/v1/whoami', { key: 'kupe_00000000_guess', ip: attacker });
    assert.deepEqual([res.status, res.body.code], [429, 'auth_backoff'], instance.name);
  }
  // A key that verifies is never refused by the backoff (docs/behaviour.md, "Authentication backoff"), on any instance.
  assert.equal((await request(instances[1]!.url, 'GET', '/api/v1/whoami', { key: adminKey, ip: attacker })).status, 200);
  assert.equal((await request(instances[0]!.url, 'GET', '/api/v1/whoami', { key: adminKey })).status, 200, 'other IPs unaffected');
});

test('200 concurrent creates over three instances: all succeed, unique ids, every key works', { skip }, async (t) => {
  const { instances, adminKey } = await startCluster(t);
  const created = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    request(instances[i % 3]!.url, 'POST', '/api/v1/tenants/acme/apikeys', { key: adminKey, body: { displayName: `storm-${i}`, role: 'readonly' } })));
  assert.deepEqual([...new Set(created.map((r) => r.status))], [201]);
  assert.equal(new Set(created.map((r) => r.body.id)).size, 200);
  const checks = await Promise.all(created.map((r, i) => request(instances[(i + 1) % 3]!.url, 'GET', '/api/v1/whoami', { key: r.body.key })));
  assert.deepEqual([...new Set(checks.map((r) => r.status))], [200]);
});

test('kill -9 of one instance during a create storm: every acknowledged key works, the others never stop', { skip }, async (t) => {
  const { instances: [a, b, c], adminKey } = await startCluster(t);
  const acknowledged: string[] = [];
  const survivorsFailed: string[] = [];
  const storm = Array.from({ length: 150 }, async (_, i) => {
    const target = [a!, b!, c!][i % 3]!;
    await new Promise((r) => setTimeout(r, i * 4));
    try {
      const res = await request(target.url, 'POST', '/api/v1/tenants/acme/apikeys', { key: adminKey, body: { displayName: `k-${i}`, role: 'readonly' } });
      if (res.status === 201) acknowledged.push(res.body.key as string);
      else if (target !== c) survivorsFailed.push(`${target.name}: ${res.status}`);
    } catch (error) {
      if (target !== c) survivorsFailed.push(`${target.name}: ${String(error)}`);
    }
  });
  await until(() => acknowledged.length >= 10, 'the first creates acknowledged');
  c!.child.kill('SIGKILL');
  await Promise.all(storm);
  assert.deepEqual(survivorsFailed, []);
  assert.ok(acknowledged.length >= 100, `${acknowledged.length} acknowledged`);
  const checks = await Promise.all(acknowledged.map((key, i) => request([a!, b!][i % 2]!.url, 'GET', '/api/v1/whoami', { key })));
  assert.deepEqual([...new Set(checks.map((r) => r.status))], [200]);
});

test('lastUsedAt converges to the latest use across instances', { skip }, async (t) => {
  const { instances: [a, b, c], adminKey, store } = await startCluster(t);
  const key = await createApiKey(store, 'acme', { displayName: 'ci', role: 'readonly' }, { actor: 'operator', now: new Date() });
  const stored = async () => (await store.apiKeys.get(key.record.id))?.lastUsedAt;
  await request(a!.url, 'GET', '/api/v1/whoami', { key: key.key });
  await until(async () => (await stored()) !== undefined, "A's flush (every second)");
  const first = (await stored())!;
  // lastUsedAt counts whole seconds: the second use comes in a later second than the first.
  await until(() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') > first, 'the next second');
  await request(c!.url, 'GET', '/api/v1/whoami', { key: key.key });
  await until(async () => (await stored())! > first, "C's later use flushed");
  const latest = (await stored())!;
  const listed = await request(b!.url, 'GET', '/api/v1/tenants/acme/apikeys', { key: adminKey });
  const found = (listed.body.items as { id: string; lastUsedAt?: string }[]).find((k) => k.id === key.record.id);
  assert.equal(found?.lastUsedAt, latest, 'B lists the latest use');
});

test('SIGTERM: readiness turns 503 first, requests are still served, pending lastUsedAt is flushed, exit 0', { skip }, async (t) => {
  const { store, url, adminKey } = await startCluster(t);
  const d = await startInstance(t, 'D', {
    KUPE_DATABASE_URL: url, KUPE_REDIS_URL: REDIS!, KUPE_REDIS_PREFIX: `kupe-test:${randomBytes(6).toString('hex')}:`, KUPE_TRUST_PROXY: 'loopback',
    KUPE_LAST_USED_FLUSH_SECONDS: '3600', KUPE_SHUTDOWN_DELAY_SECONDS: '2',
  });
  const key = await createApiKey(store, 'acme', { displayName: 'late', role: 'readonly' }, { actor: 'operator', now: new Date() });
  assert.equal((await request(d.url, 'GET', '/api/v1/whoami', { key: key.key })).status, 200);
  assert.equal((await request(d.url, 'GET', '/readyz')).status, 200);
  d.child.kill('SIGTERM');
  await until(async () => (await request(d.url, 'GET', '/readyz')).status === 503, 'readiness 503 (draining)');
  assert.equal((await request(d.url, 'GET', '/api/v1/whoami', { key: adminKey })).status, 200, 'still serving while drained');
  assert.equal(await d.exited, 0);
  assert.ok((await store.apiKeys.get(key.record.id))?.lastUsedAt, 'flushed on the way out');
});
