import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { formatTimestamp } from '../../src/domain/validation.ts';
import {
  cachedSqliteKeyReader, postgresKeyReader, sqliteKeyReader, STATEMENT_CACHE_SIZE, withStatementCache,
} from '../../src/store/fast-paths.ts';
import { lockForServing } from '../../src/store/serve-lock.ts';
import { createSchema } from '../postgres-schema.ts';

const PG = process.env.KUPE_TEST_POSTGRES_URL ?? process.env.KUPE_TEST_DATABASE_URL;

function sqliteWithKeys(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-fast-'));
  const sqlite = new SQLite(join(dir, 'kupe.db'));
  t.after(() => { sqlite.close(); rmSync(dir, { recursive: true, force: true }); });
  sqlite.exec('create table api_keys (id text primary key, tenant text, revoked_at text)');
  sqlite.exec("create table tenants (name text primary key, disabled_at text); insert into tenants values ('acme', null), ('other', null)");
  sqlite.prepare("insert into api_keys values ('ak-00000001', 'acme', null)").run();
  return sqlite;
}

test('the statement cache prepares each SQL text once, never hands out a busy statement, and is bounded', (t) => {
  const sqlite = sqliteWithKeys(t);
  const cached = withStatementCache(sqlite);
  const sql = 'select id from api_keys where id = ?';
  const first = cached.prepare(sql);
  assert.equal(cached.prepare(sql), first, 'the same statement again');
  const iterating = (first as unknown as SQLite.Statement).iterate('ak-00000001');
  iterating.next();
  const other = cached.prepare(sql);
  assert.notEqual(other, first, 'a statement mid-iteration is busy: another is prepared');
  iterating.return?.();
  assert.equal(cached.prepare(sql), first, 'and the cached one comes back once it is free');
  for (let i = 0; i < STATEMENT_CACHE_SIZE; i++) cached.prepare(`select ${i} from api_keys`);
  assert.notEqual(cached.prepare(sql), first, 'the oldest text was evicted past the bound');
});

test('the SQLite key reader finds a key by id and sees a revocation at once', (t) => {
  const sqlite = sqliteWithKeys(t);
  const read = sqliteKeyReader(sqlite);
  assert.deepEqual({ ...(read('ak-00000001') as object) }, { id: 'ak-00000001', tenant: 'acme', revoked_at: null, tenant_disabled_at: null });
  assert.equal(read('ak-ffffffff'), undefined);
  sqlite.prepare("update api_keys set revoked_at = '2026-11-28T00:00:00Z' where id = 'ak-00000001'").run();
  assert.equal((read('ak-00000001') as { revoked_at: string }).revoked_at, '2026-11-28T00:00:00Z');
});

test('the PostgreSQL key reader (a named statement) finds a key by id and sees a revocation at once', { skip: PG ? false : 'KUPE_TEST_POSTGRES_URL is not set' }, async (t) => {
  const { url, drop } = await createSchema(PG!, 'fast');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  t.after(async () => { await pool.end(); await drop(); });
  await pool.query("create table api_keys (id text primary key, tenant text, revoked_at text); insert into api_keys values ('ak-00000001', 'acme', null)");
  await pool.query("create table tenants (name text primary key, disabled_at text); insert into tenants values ('acme', null)");
  const read = postgresKeyReader(pool);
  assert.deepEqual(await read('ak-00000001'), { id: 'ak-00000001', tenant: 'acme', revoked_at: null, tenant_disabled_at: null });
  await pool.query("update tenants set disabled_at = '2026-12-02T00:00:00Z'");
  assert.equal((await read('ak-00000001'))!.tenant_disabled_at, '2026-12-02T00:00:00Z', 'the tenant\'s state, read with the key');
  await pool.query('update tenants set disabled_at = null');
  assert.equal(await read('ak-ffffffff'), undefined);
  await pool.query("update api_keys set revoked_at = 'now' where id = 'ak-00000001'");
  assert.equal(((await read('ak-00000001')) as unknown as { revoked_at: string }).revoked_at, 'now');
});

test('the timestamp text is kept for the current second only', () => {
  const at = (iso: string) => formatTimestamp(new Date(iso));
  assert.equal(at('2026-11-28T10:00:00.100Z'), '2026-11-28T10:00:00Z');
  assert.equal(at('2026-11-28T10:00:00.900Z'), '2026-11-28T10:00:00Z', 'same second: the kept text');
  assert.equal(at('2026-11-28T10:00:01.000Z'), '2026-11-28T10:00:01Z', 'the next second: new text');
  assert.equal(at('2026-11-28T09:59:59.999Z'), '2026-11-28T09:59:59Z', 'an earlier instant too');
});

test('the SQLite key cache: keeps valid rows only, forgets on revocation, and is bounded', (t) => {
  const sqlite = sqliteWithKeys(t);
  sqlite.prepare("insert into api_keys values ('ak-00000002', 'acme', null), ('ak-00000003', 'acme', '2026-11-28T00:00:00Z')").run();
  const keys = cachedSqliteKeyReader(sqlite, 2);
  // Rows changed through this same connection do not move data_version: what read() answers then shows
  // whether it came from the cache.
  const touch = (id: string, tenant: string) => sqlite.prepare('update api_keys set tenant = ? where id = ?').run(tenant, id);
  assert.equal((keys.readForVerification('ak-00000001') as { tenant: string }).tenant, 'acme');
  touch('ak-00000001', 'changed');
  assert.equal((keys.readForVerification('ak-00000001') as { tenant: string }).tenant, 'acme', 'served from the cache');
  keys.forget({ keyId: 'ak-00000001' });
  assert.equal((keys.readForVerification('ak-00000001') as { tenant: string }).tenant, 'changed', 'forgotten: read again');

  void keys.readForVerification('ak-00000003');
  touch('ak-00000003', 'changed');
  assert.equal((keys.readForVerification('ak-00000003') as { tenant: string }).tenant, 'changed', 'a revoked row is never kept');
  assert.equal(keys.readForVerification('ak-ffffffff'), undefined);
  sqlite.prepare("insert into api_keys values ('ak-ffffffff', 'late', null)").run();
  assert.equal((keys.readForVerification('ak-ffffffff') as { tenant: string }).tenant, 'late', 'an unknown id is never kept');

  // Bound 2: ak-00000001 and ak-ffffffff are kept; reading ak-00000002 evicts the least recently used.
  void keys.readForVerification('ak-00000001');
  void keys.readForVerification('ak-00000002');
  touch('ak-ffffffff', 'after');
  assert.equal((keys.readForVerification('ak-ffffffff') as { tenant: string }).tenant, 'after', 'evicted at the bound');
});

test('the SQLite key cache keeps no key of a disabled tenant, and forgets every key of a tenant at once', (t) => {
  const sqlite = sqliteWithKeys(t);
  sqlite.prepare("insert into api_keys values ('ak-00000002', 'acme', null), ('ak-00000003', 'other', null)").run();
  const keys = cachedSqliteKeyReader(sqlite, 10);
  const tenantOf = (id: string) => (keys.readForVerification(id) as { tenant: string }).tenant;
  for (const id of ['ak-00000001', 'ak-00000002', 'ak-00000003']) tenantOf(id);
  const touch = (id: string, tenant: string) => sqlite.prepare('update api_keys set tenant = ? where id = ?').run(tenant, id);
  touch('ak-00000001', 'moved');
  touch('ak-00000003', 'moved');
  keys.forget({ tenant: 'acme' });
  assert.equal(tenantOf('ak-00000001'), 'moved', "the tenant's key was forgotten: read again");
  assert.equal(tenantOf('ak-00000003'), 'other', "another tenant's key is still served from the cache");

  sqlite.exec("update tenants set disabled_at = '2026-12-02T00:00:00Z' where name = 'acme'");
  const row = keys.readForVerification('ak-00000002') as { tenant_disabled_at: string };
  assert.equal(row.tenant_disabled_at, '2026-12-02T00:00:00Z', "the tenant's state comes with the key");
  touch('ak-00000002', 'moved');
  assert.equal(tenantOf('ak-00000002'), 'moved', 'a row of a disabled tenant is never kept');
});

test('one server per SQLite file: a second one is refused (after waiting), the first one\'s release frees it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = `sqlite:${join(dir, 'kupe.db')}`;
  const release = lockForServing(url);
  assert.throws(() => lockForServing(url, 50), /another kupe-server serve is using .*kupe\.db/);
  release();
  lockForServing(url, 50)();
  assert.doesNotThrow(() => lockForServing('postgres://kupe@localhost/kupe')(), 'PostgreSQL: no lock');
});

test('the serve lock makes the data folder (0700), as opening the database would', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = join(dir, 'not', 'yet');
  assert.equal(existsSync(folder), false);
  lockForServing(`sqlite:${join(folder, 'kupe.db')}`)();
  assert.equal(statSync(folder).isDirectory(), true, 'the folder was made');
  assert.equal((statSync(folder).mode & 0o777).toString(8), '700');
});
