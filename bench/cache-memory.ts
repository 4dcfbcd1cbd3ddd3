// Resident memory of `kupe-server serve` (the built package: npm run build first) on SQLite, after the
// same number of gateway verifications (--used, 15,000; the default policy, nginx's headers): with 10 keys
// in the store (the requests cycle
// through them), and with 1,000,000 (15,000 made as real keys, each used once, so the key cache,
// KUPE_KEY_CACHE_SIZE = 10,000 by default, is full; the rest bulk-inserted rows).
//
//   node --import tsx bench/cache-memory.ts [--keys 1000000] [--used 15000]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { createApiKey } from '../src/domain/api-keys.ts';
import { createTenant } from '../src/domain/tenants.ts';
import { openStore } from '../src/store/index.ts';
import { TEST_CONFIG } from '../test/helpers.ts';
import { nginxAsks } from './load.ts';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '1000000' }, used: { type: 'string', default: '15000' } } });
const bin = join(import.meta.dirname, '../bin/kupe-server.js');
const ASKED = nginxAsks('acme');

async function measure(total: number, used: number): Promise<{ rss: number; ok: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-cachemem-'));
  const file = join(dir, 'kupe.db');
  const { store, migrate } = openStore(`sqlite:${file}`, TEST_CONFIG.database);
  await migrate();
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, new Date());
  const ctx = { actor: 'operator', now: new Date() };
  const raw: string[] = [];
  for (let i = 0; i < used; i++) raw.push((await createApiKey(store, 'acme', { displayName: `k${i}`, role: 'readonly' }, ctx, { maxApiKeys: 10_000_000, maxMembers: 1000 })).key);
  await store.close();
  const sqlite = new SQLite(file);
  const insert = sqlite.prepare("insert or ignore into api_keys (id, tenant, display_name, role, digest, created_by, created_at) values (?, 'acme', 'filler', 'readonly', ?, 'operator', '2026-11-28T00:00:00Z')");
  sqlite.transaction(() => {
    for (let i = used; i < total; i++) insert.run(`ak-${(0x80000000 + i).toString(16)}`, randomBytes(32).toString('hex'));
  })();
  sqlite.close();

  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...process.env, KUPE_DATABASE_URL: `sqlite:${file}`, KUPE_PORT: '0', KUPE_LOG_LEVEL: 'info', KUPE_RATE_LIMIT: '0' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
  });
  let ok = 0;
  const requests = Number(values.used);
  for (let i = 0; i < requests; i += 20) {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, j) => raw[(i + j) % raw.length]!).map((key) => fetch(`${url}/api/v1/gateway/verify`, { headers: { authorization: `Bearer ${key}`, ...ASKED } })));
    ok += answers.filter((a) => a.status === 200).length;
  }
  await new Promise((r) => setTimeout(r, 2000));
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return { rss, ok };
}

const small = await measure(10, 10);
const large = await measure(Number(values.keys), Number(values.used));
console.log(`10 keys in the store, ${small.ok} requests: RSS ${small.rss.toFixed(0)} MB`);
console.log(`${values.keys} keys in the store, ${large.ok} distinct ones used (cache bound 10,000): RSS ${large.rss.toFixed(0)} MB (${((large.rss / small.rss - 1) * 100).toFixed(0)} %)`);
