import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { migrationsFor } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/index.ts';
import pg from 'pg';
import { openTestStore, TEST_CONFIG, TEST_POSTGRES_URL } from '../helpers.ts';
import { KUPE_VERSION } from '../../src/version.ts';

test('upgrading to 0008: keys revoked before it read as revoked manually; active keys have no reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-upgrade-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'kupe.db');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrationsFor('sqlite') } });
  const before = await migrator.migrateTo('0007-lease-renewals');
  assert.equal(before.error, undefined);
  await sql`insert into tenants (name, display_name, contact_email, plan, enforce_metrics_limit, enforce_log_limit, resource_version, created_at, phase)
    values ('acme', 'acme', 'alice@acme.com', 'starter', 0, 0, 1, '2026-11-01T00:00:00Z', 'Ready')`.execute(db);
  for (const [id, revokedAt] of [['ak-00000001', '2026-11-20T00:00:00Z'], ['ak-00000002', null]] as const) {
    await sql`insert into api_keys (id, tenant, display_name, role, digest, created_by, created_at, revoked_at, revoked_by)
      values (${id}, 'acme', ${id}, 'readonly', 'd', 'alice@acme.com', '2026-11-01T00:00:00Z', ${revokedAt}, ${revokedAt && 'alice@acme.com'})`.execute(db);
  }
  await db.destroy();

  const { store, migrate } = openStore(`sqlite:${file}`, TEST_CONFIG.database);
  t.after(() => store.close());
  assert.deepEqual(await migrate(), ['0008-revoke-reason', '0009-leak-reports', '0010-webhooks', '0011-expiry-notices', '0012-mail', '0013-kupe-meta', '0014-disabled']);
  const revoked = await store.apiKeys.get('ak-00000001');
  assert.deepEqual([revoked?.revokedAt, revoked?.revokedBy, revoked?.revokeReason], ['2026-11-20T00:00:00Z', 'alice@acme.com', 'manual']);
  const active = await store.apiKeys.get('ak-00000002');
  assert.deepEqual([active?.revokedAt, active?.revokedBy, active?.revokeReason], [undefined, undefined, undefined]);
  assert.deepEqual([revoked?.leakSource, revoked?.leakAcknowledgedAt], [undefined, undefined], '0009: no leak recorded for them');
});

/** Plain SQL on the test's database, beside the store (as a newer Kupe, or an operator, would reach it). */
async function rawSql(url: string) {
  if (url.startsWith('sqlite:')) {
    const db = new SQLite(url.slice('sqlite:'.length));
    return {
      run: async (statement: string) => { db.exec(statement); },
      names: async () => (db.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name),
      close: async () => { db.close(); },
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    run: async (statement: string) => { await client.query(statement); },
    names: async () => (await client.query<{ name: string }>('select name from kysely_migration order by name')).rows.map((r) => r.name),
    close: () => client.end(),
  };
}

test('a database a newer Kupe migrated is refused, naming both versions and what to do; nothing is changed', async (t) => {
  const { url } = await openTestStore(t);
  const raw = await rawSql(url);
  t.after(() => raw.close());
  // As a newer Kupe would leave it: a migration this one does not know, and its version recorded.
  await raw.run(`insert into kysely_migration (name, timestamp) values ('0099-future', '2027-01-01T00:00:00Z')`);
  await raw.run(`update kupe_meta set value = '9.9.9' where key = 'migrated_by'`);
  const opened = openStore(url, TEST_CONFIG.database);
  t.after(() => opened.store.close());
  const version = KUPE_VERSION.replace(/\./g, '\\.');
  await assert.rejects(opened.migrate(), new RegExp(`^NewerDatabaseError: this database was migrated by Kupe 9\\.9\\.9, newer than this one \\(${version}\\): ` +
    `it holds 0099-future, which ${version} does not know \\(its newest migration is 0014-disabled\\)\\. ` +
    'Run Kupe 9\\.9\\.9 or newer on it, or restore the backup taken before the upgrade \\(docs/upgrading\\.md\\)$'));
  const known = Object.keys(migrationsFor('sqlite'));
  assert.deepEqual(await raw.names(), [...known, '0099-future'].sort(), 'nothing changed');
});

test('PostgreSQL: a search_path naming a schema that does not exist yet: Kupe creates it', { skip: TEST_POSTGRES_URL ? false : 'PostgreSQL only' }, async (t) => {
  const schema = `fresh_${Date.now().toString(36)}`;
  const url = new URL(TEST_POSTGRES_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  t.after(async () => {
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });
  const opened = openStore(url.toString(), TEST_CONFIG.database);
  t.after(() => opened.store.close());
  assert.ok((await opened.migrate()).includes('0001-initial'), 'migrated into it');
  const tables = await admin.query('select count(*)::int as n from information_schema.tables where table_schema = $1', [schema]);
  assert.ok(tables.rows[0].n > 10, `the tables are in ${schema}`);
});
