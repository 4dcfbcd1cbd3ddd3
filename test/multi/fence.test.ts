import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openStore } from '../../src/store/index.ts';
import { TEST_CONFIG, TEST_POSTGRES_URL, testDatabaseUrl } from '../helpers.ts';
import { type Instance, request, startInstance } from '../processes.ts';

// The key cache on PostgreSQL (src/store/revocation-fence.ts): three instances cache a key; another revokes
// it; whatever happens to the one that cached it, no request is accepted after the DELETE's 204.
const REDIS = process.env.KUPE_TEST_REDIS_URL;
const skip = TEST_POSTGRES_URL && REDIS ? false
  : 'runs with KUPE_TEST_DATABASE_URL=postgres://... and KUPE_TEST_REDIS_URL (npm run test:postgres after scripts/services.sh)';
const LEASE_MS = 1500;

/** Three instances (A, B, C), each with LEASE_MS unless `leases` names another lease for it. */
async function cluster(t: TestContext, leases: Record<string, number> = {}) {
  const url = await testDatabaseUrl(t);
  const env = {
    KUPE_DATABASE_URL: url, KUPE_REDIS_URL: REDIS!, KUPE_REDIS_PREFIX: `kupe-test:${randomBytes(6).toString('hex')}:`,
    KUPE_TRUST_PROXY: 'loopback', KUPE_RATE_LIMIT: '0', KUPE_KEY_CACHE_LEASE_MS: String(LEASE_MS),
  };
  const instances = await Promise.all(['A', 'B', 'C'].map((name) =>
    startInstance(t, name, { ...env, KUPE_KEY_CACHE_LEASE_MS: String(leases[name] ?? LEASE_MS) })));
  const { store } = openStore(url, TEST_CONFIG.database);
  t.after(() => store.close());
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, new Date());
  const ctx = { actor: 'operator', now: new Date() };
  const admin = await createApiKey(store, 'acme', { displayName: 'admin', role: 'admin' }, ctx);
  const ci = await createApiKey(store, 'acme', { displayName: 'ci', role: 'readonly' }, ctx);
  // Every instance holds a lease once it has renewed it (at start), and caches a key once it has used it.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.after(() => client.end());
  for (let i = 0; i < 50; i++) {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from kupe_instances where lease_until > now()');
    if (rows[0]!.n === 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { instances, client, url, adminKey: admin.key, key: ci.key, keyId: ci.record.id };
}

const whoami = (instance: Instance, key: string) => request(instance.url, 'GET', '/api/v1/whoami', { key });
const revoke = (instance: Instance, adminKey: string, id: string) =>
  request(instance.url, 'DELETE', `/api/v1/tenants/acme/apikeys/${id}`, { key: adminKey });

test('all live: the DELETE waits for every instance to hear it, then no instance accepts the key', { skip }, async (t) => {
  const { instances: [a, b, c], adminKey, key, keyId } = await cluster(t);
  for (const instance of [a!, b!, c!]) for (let i = 0; i < 3; i++) assert.equal((await whoami(instance, key)).status, 200);
  const revoked = await revoke(a!, adminKey, keyId);
  assert.equal(revoked.status, 204);
  for (const instance of [a!, b!, c!]) assert.equal((await whoami(instance, key)).status, 401, instance.name);
});

test('one instance frozen (SIGSTOP) while it caches the key: the DELETE answers within the lease, and the thawed instance refuses the key', { skip }, async (t) => {
  const { instances: [a, , c], adminKey, key, keyId } = await cluster(t);
  for (let i = 0; i < 3; i++) assert.equal((await whoami(c!, key)).status, 200, 'C has the key cached');
  c!.child.kill('SIGSTOP');
  t.after(() => { c!.child.kill('SIGCONT'); });
  const revoked = await revoke(a!, adminKey, keyId);
  assert.equal(revoked.status, 204);
  const waited = revoked.finishedAt - revoked.startedAt;
  assert.ok(waited < LEASE_MS + 5000, `the DELETE waited ${waited.toFixed(0)} ms for the frozen instance: no longer than its lease (and slack)`);
  // Requests to the frozen instance wait in its socket; it answers them once thawed.
  const pending = Array.from({ length: 5 }, () => whoami(c!, key));
  await new Promise((r) => setTimeout(r, 100)); // sent: they wait in the frozen instance's socket
  c!.child.kill('SIGCONT');
  const answers = await Promise.all(pending);
  assert.deepEqual(answers.map((x) => x.status), [401, 401, 401, 401, 401], 'every request after the 204 refused');
  assert.equal((await whoami(c!, key)).status, 401);
});

test('frozen and cut off from the channel: the thawed instance never heard the revocation, and refuses the key (its lease ran out)', { skip }, async (t) => {
  const { instances: [a, , c], client, adminKey, key, keyId } = await cluster(t);
  for (let i = 0; i < 3; i++) assert.equal((await whoami(c!, key)).status, 200, 'C has the key cached');
  c!.child.kill('SIGSTOP');
  t.after(() => { c!.child.kill('SIGCONT'); });
  // C's listening connection goes: the notification can never reach it.
  const { rows } = await client.query<{ n: number }>(
    'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where application_name = $1', [`kupe-listen ${c!.child.pid}`]);
  assert.equal(rows[0]!.n, 1);
  const revoked = await revoke(a!, adminKey, keyId);
  assert.equal(revoked.status, 204);
  const pending = Array.from({ length: 5 }, () => whoami(c!, key));
  await new Promise((r) => setTimeout(r, 100)); // sent: they wait in the frozen instance's socket
  c!.child.kill('SIGCONT');
  assert.deepEqual((await Promise.all(pending)).map((x) => x.status), [401, 401, 401, 401, 401]);
});

test("an instance whose listening connection is terminated falls back to the store and never serves a revoked key", { skip }, async (t) => {
  const { instances, client, adminKey, key, keyId } = await cluster(t);
  const [a, b] = instances;
  for (let i = 0; i < 3; i++) assert.equal((await whoami(b!, key)).status, 200, 'B has the key cached');
  // This cluster's listeners only: other test files run their own instances on the same server meanwhile.
  const listeners = instances.map((i) => `kupe-listen ${i.child.pid}`);
  const { rows } = await client.query<{ n: number }>(
    'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where application_name = any($1)', [listeners]);
  assert.equal(rows[0]!.n, 3, "every instance's listening connection terminated");
  const revoked = await revoke(a!, adminKey, keyId);
  assert.equal(revoked.status, 204);
  for (let i = 0; i < 5; i++) assert.equal((await whoami(b!, key)).status, 401);
  // And every instance listens again and renews its lease.
  let live = 0;
  for (let i = 0; i < 50 && live < 3; i++) {
    await new Promise((r) => setTimeout(r, 100));
    live = (await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where application_name = any($1)', [listeners])).rows[0]!.n;
  }
  assert.equal(live, 3, 'listening again');
});

test('kill -9 of an instance during a revoke: the DELETE still answers within the lease', { skip }, async (t) => {
  const { instances: [a, b, c], adminKey, key, keyId } = await cluster(t);
  for (let i = 0; i < 3; i++) assert.equal((await whoami(c!, key)).status, 200);
  const revoking = revoke(a!, adminKey, keyId);
  c!.child.kill('SIGKILL');
  const revoked = await revoking;
  assert.equal(revoked.status, 204);
  assert.ok(revoked.finishedAt - revoked.startedAt < LEASE_MS + 5000, 'within the lease (and slack)');
  for (const instance of [a!, b!]) assert.equal((await whoami(instance, key)).status, 401, instance.name);
});

test('mixed leases: the DELETE waits for the stalled instance\'s own (longer) lease, not its own, and that instance then refuses the key', { skip }, async (t) => {
  const LONG_MS = 8000;
  const { instances: [a, , c], client, url, adminKey, key, keyId } = await cluster(t, { C: LONG_MS });
  for (let i = 0; i < 3; i++) assert.equal((await whoami(c!, key)).status, 200, 'C has the key cached');
  // C's listening connection stalls: its lease renewal waits on a row lock, so it hears no notification (a
  // backend busy in a statement delivers none) and renews nothing, while C itself keeps serving.
  const cId = (await client.query<{ id: string }>('select id from kupe_instances order by lease_until desc limit 1')).rows[0]!.id;
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query('select 1 from kupe_instances where id = $1 for update', [cId]);
    // C's next renewal (every third of its lease) now waits on the lock: from then on it hears nothing.
    let stalled = false;
    for (let i = 0; i < 100 && !stalled; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'", [`kupe-listen ${c!.child.pid}`]);
      stalled = rows[0]!.n === 1;
    }
    assert.ok(stalled, "C's listening connection waits on the lock");
    const revoked = await revoke(a!, adminKey, keyId);
    assert.equal(revoked.status, 204);
    const waited = revoked.finishedAt - revoked.startedAt;
    assert.ok(waited > LEASE_MS + 1000, `the DELETE waited ${waited.toFixed(0)} ms: past A's own lease (${LEASE_MS} ms) and a second, for C's`);
    assert.ok(waited < LONG_MS + 5000, `and no longer than C's lease and slack (${waited.toFixed(0)} ms)`);
    // Every request to C after the 204 is refused, though C never heard the revocation.
    const answers = await Promise.all(Array.from({ length: 10 }, () => whoami(c!, key)));
    assert.deepEqual(answers.map((x) => x.status), Array(10).fill(401));
  } finally {
    await locker.query('rollback');
    await locker.end();
  }
});

test('a revocation in another schema of the same database is not taken for one of this schema (each numbers its own from 1)', { skip }, async (t) => {
  const { instances: [a, b], client, url, adminKey, key, keyId } = await cluster(t);
  for (let i = 0; i < 3; i++) assert.equal((await whoami(b!, key)).status, 200, 'B has the key cached');
  // Another Kupe schema in the same database revokes its first key: revocation number 1 there, as here.
  const other = openStore(await testDatabaseUrl(t), TEST_CONFIG.database);
  t.after(() => other.store.close());
  await other.migrate();
  await createTenant(other.store, { name: 'globex', adminEmail: 'hank@globex.com' }, new Date());
  const ctx = { actor: 'operator', now: new Date() };
  const elsewhere = await createApiKey(other.store, 'globex', { displayName: 'x', role: 'admin' }, ctx);
  await revokeApiKey(other.store, 'globex', elsewhere.record.id, ctx);
  await new Promise((r) => setTimeout(r, 500)); // time for any instance here to hear it and acknowledge
  const acks = await client.query('select seq, instance from kupe_revocation_acks');
  assert.deepEqual(acks.rows, [], 'no instance of this schema acknowledged the other schema\'s revocation');

  // So this schema's revocation number 1 waits for B, though B hears nothing (every lease renewal, and so
  // every listening connection, waits on a lock): until B's lease ends, and B then refuses the key.
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query('select 1 from kupe_instances for update');
    await new Promise((r) => setTimeout(r, LEASE_MS / 2)); // the next renewals are waiting on the lock
    const revoked = await revoke(a!, adminKey, keyId);
    assert.equal(revoked.status, 204);
    const answers = await Promise.all(Array.from({ length: 10 }, () => whoami(b!, key)));
    assert.deepEqual(answers.map((x) => x.status), Array(10).fill(401));
  } finally {
    await locker.query('rollback');
    await locker.end();
  }
});
