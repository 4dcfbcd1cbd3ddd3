// What reading the key's tenant state costs the one query of an authenticated request (a key cache miss, or
// every request with KUPE_KEY_CACHE_SIZE=0): the key's row alone, as before tenants could be disabled, against
// the row with its tenant's `disabled_at` (src/store/fast-paths.ts, KEY_BY_ID), in one run, on a migrated
// database with 100,000 keys in 1,000 tenants. Rounds alternate the two; each reads --reads random keys.
//
//   node --import tsx bench/key-query.ts [--reads 200000] [--rounds 5]
//   KUPE_DATABASE_URL=postgres://... node --import tsx bench/key-query.ts --reads 20000
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { KEY_BY_ID } from '../src/store/fast-paths.ts';
import { openStore } from '../src/store/index.ts';
import { TEST_CONFIG } from '../test/helpers.ts';
import { createSchema } from '../test/postgres-schema.ts';

const { values } = parseArgs({ options: { reads: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const READS = Number(values.reads);
const ROUNDS = Number(values.rounds);
const KEYS = 100_000;
const TENANTS = 1000;
const KEY_ONLY = 'select * from api_keys where id';
const postgresUrl = process.env.KUPE_DATABASE_URL?.startsWith('postgres') ? process.env.KUPE_DATABASE_URL : undefined;

const ids = Array.from({ length: KEYS }, (_, i) => `ak-${(0x10000000 + i).toString(16)}`);
const picks = Array.from({ length: READS }, () => ids[Math.floor(Math.random() * KEYS)]!);

/** Migrates, then fills the tables through `run(sql, params)`. */
async function fill(url: string, run: (sql: string, params: unknown[]) => unknown): Promise<void> {
  const { store, migrate } = openStore(url, TEST_CONFIG.database);
  await migrate();
  await store.close();
  for (let t = 0; t < TENANTS; t++) {
    await run(`insert into tenants (name, display_name, contact_email, plan, enforce_metrics_limit, enforce_log_limit, resource_version, created_at, phase)
      values ($1, $2, 'a@b.co', 'starter', 1, 1, 1, '2026-12-02T00:00:00Z', 'Active')`, [`t${t}`, `t${t}`]);
  }
  for (const [i, id] of ids.entries()) {
    await run(`insert into api_keys (id, tenant, display_name, role, digest, created_by, created_at) values ($1, $2, 'k', 'readonly', $3, 'operator', '2026-12-02T00:00:00Z')`,
      [id, `t${i % TENANTS}`, randomBytes(32).toString('hex')]);
  }
}

async function timed(read: (id: string) => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (const id of picks) await read(id);
  return Number(process.hrtime.bigint() - start) / 1000 / READS;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function compare(readers: { keyOnly: (id: string) => unknown; withTenant: (id: string) => unknown }) {
  const keyOnly: number[] = [];
  const withTenant: number[] = [];
  await timed(readers.keyOnly); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    keyOnly.push(await timed(readers.keyOnly));
    withTenant.push(await timed(readers.withTenant));
  }
  const [a, b] = [median(keyOnly), median(withTenant)];
  console.log(`key row alone:            ${a.toFixed(2)} µs per read (rounds: ${keyOnly.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`key row + tenant's state: ${b.toFixed(2)} µs per read (rounds: ${withTenant.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`difference: ${(b - a).toFixed(2)} µs (${((b / a - 1) * 100).toFixed(1)} %)`);
}

if (postgresUrl) {
  const { url, drop } = await createSchema(postgresUrl, 'bench');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await fill(url, (sql, params) => pool.query(sql, params));
    console.log(`PostgreSQL, ${READS} reads a round, ${ROUNDS} rounds, one connection, named statements`);
    await compare({
      keyOnly: (id) => pool.query({ name: 'key_only', text: `${KEY_ONLY} = $1`, values: [id] }),
      withTenant: (id) => pool.query({ name: 'with_tenant', text: `${KEY_BY_ID} = $1`, values: [id] }),
    });
  } finally {
    await pool.end();
    await drop();
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-keyquery-'));
  const file = join(dir, 'kupe.db');
  try {
    const writer = new SQLite(file);
    writer.exec('begin');
    await fill(`sqlite:${file}`, (sql, params) => writer.prepare(sql.replace(/\$\d/g, '?')).run(...params));
    writer.exec('commit');
    writer.close();
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    const keyOnly = sqlite.prepare(`${KEY_ONLY} = ?`);
    const withTenant = sqlite.prepare(`${KEY_BY_ID} = ?`);
    console.log(`SQLite, ${READS} reads a round, ${ROUNDS} rounds, prepared statements`);
    await compare({ keyOnly: (id) => keyOnly.get(id), withTenant: (id) => withTenant.get(id) });
    sqlite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
