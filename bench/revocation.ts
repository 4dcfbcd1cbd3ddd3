// PostgreSQL, three `kupe-server serve` processes on one schema (the built package: npm run build first):
//   - table reads per verification in steady state (pg_stat_user_tables on api_keys around many whoami
//     requests, then as many gateway verifications, spread over the three instances, all using a few keys);
//   - how long a DELETE takes when every instance is live and has the key cached (each instance must
//     acknowledge before the 204).
//
//   KUPE_DATABASE_URL=postgres://kupe:kupe@127.0.0.1:5432/kupe node --import tsx bench/revocation.ts [--requests 3000] [--revokes 21]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApiKey } from '../src/domain/api-keys.ts';
import { createTenant } from '../src/domain/tenants.ts';
import { openStore } from '../src/store/index.ts';
import { createSchema } from '../test/postgres-schema.ts';
import { TEST_CONFIG } from '../test/helpers.ts';
import { nginxAsks } from './load.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '3000' }, revokes: { type: 'string', default: '21' } } });
const base = process.env.KUPE_DATABASE_URL;
if (!base?.startsWith('postgres')) throw new Error('set KUPE_DATABASE_URL=postgres://...');
const { url, drop } = await createSchema(base, 'revbench');
const bin = join(import.meta.dirname, '../bin/kupe-server.js');

const servers = await Promise.all(['A', 'B', 'C'].map((name) => new Promise<{ url: string; kill: () => void }>((resolve, reject) => {
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...process.env, KUPE_DATABASE_URL: url, KUPE_PORT: '0', KUPE_LOG_LEVEL: 'info', KUPE_RATE_LIMIT: '0', KUPE_SHUTDOWN_DELAY_SECONDS: '0',
      // lastUsedAt is written once per key and interval, by an UPDATE the statistics would count as a read:
      // not during the measurement.
      KUPE_LAST_USED_FLUSH_SECONDS: '3600' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) resolve({ url: m[1]!, kill: () => child.kill('SIGKILL') });
  });
  child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
})));

const { store } = openStore(url, TEST_CONFIG.database);
await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, new Date());
const ctx = { actor: 'operator', now: new Date() };
const admin = await createApiKey(store, 'acme', { displayName: 'admin', role: 'admin' }, ctx);
const client = new pg.Client({ connectionString: url });
await client.connect();
for (let i = 0; i < 50; i++) {
  const { rows } = await client.query<{ n: number }>('select count(*)::int as n from kupe_instances where lease_until > now()');
  if (rows[0]!.n === 3) break;
  await new Promise((r) => setTimeout(r, 100));
}

const ASKED = nginxAsks('acme');
const call = async (server: { url: string }, method: string, path: string, key: string) => {
  const started = performance.now();
  const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...ASKED } });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
};
const reads = async () => {
  // A busy backend reports its counts at most once a second, an idle one within 10 s (PostgreSQL 15+).
  await new Promise((r) => setTimeout(r, 11_000));
  await client.query('select pg_stat_clear_snapshot()');
  const { rows } = await client.query<{ n: string }>("select (coalesce(idx_scan, 0) + coalesce(seq_scan, 0))::text as n from pg_stat_user_tables where relname = 'api_keys'");
  return Number(rows[0]!.n);
};

// Steady state: a few keys, many requests, round robin over the instances (10 at a time).
const keys = await Promise.all(Array.from({ length: 5 }, (_, i) => createApiKey(store, 'acme', { displayName: `ci-${i}`, role: 'readonly' }, ctx)));
for (const server of servers) for (const k of keys) await call(server, 'GET', '/api/v1/whoami', k.key); // warm
const total = Number(values.requests);
for (const path of ['/api/v1/whoami', '/api/v1/gateway/verify']) {
  const before = await reads();
  for (let i = 0; i < total; i += 10) {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, j) => call(servers[(i + j) % 3]!, 'GET', path, keys[(i + j) % keys.length]!.key)));
    if (answers.some((a) => a.status !== 200)) throw new Error(`${path} answered ${answers.map((a) => a.status).join(', ')}`);
  }
  const after = await reads();
  console.log(`table reads of api_keys per verification (${path}), steady state: ${((after - before) / total).toFixed(3)} (${after - before} reads for ${total} requests on 3 instances)`);
}

// Revocations with every instance live and holding the key.
const latencies: number[] = [];
for (let i = 0; i < Number(values.revokes); i++) {
  const k = await createApiKey(store, 'acme', { displayName: `rev-${i}`, role: 'readonly' }, ctx);
  for (const server of servers) await call(server, 'GET', '/api/v1/whoami', k.key);
  const revoked = await call(servers[i % 3]!, 'DELETE', `/api/v1/tenants/acme/apikeys/${k.record.id}`, admin.key);
  if (revoked.status !== 204) throw new Error(`revoke answered ${revoked.status}`);
  latencies.push(revoked.ms);
  for (const server of servers) {
    const after = await call(server, 'GET', '/api/v1/whoami', k.key);
    if (after.status !== 401) throw new Error(`a revoked key answered ${after.status}`);
  }
}
latencies.sort((x, y) => x - y);
console.log(`DELETE with all three instances live and caching: median ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (${latencies.length} revokes); every revoked key refused on every instance right after`);

for (const server of servers) server.kill();
await client.end();
await store.close();
await drop();
