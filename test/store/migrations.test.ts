import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { migrationsFor } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/index.ts';
import { TEST_CONFIG } from '../helpers.ts';

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
  assert.deepEqual(await migrate(), ['0008-revoke-reason', '0009-leak-reports', '0010-webhooks', '0011-expiry-notices', '0012-mail']);
  const revoked = await store.apiKeys.get('ak-00000001');
  assert.deepEqual([revoked?.revokedAt, revoked?.revokedBy, revoked?.revokeReason], ['2026-11-20T00:00:00Z', 'alice@acme.com', 'manual']);
  const active = await store.apiKeys.get('ak-00000002');
  assert.deepEqual([active?.revokedAt, active?.revokedBy, active?.revokeReason], [undefined, undefined, undefined]);
  assert.deepEqual([revoked?.leakSource, revoked?.leakAcknowledgedAt], [undefined, undefined], '0009: no leak recorded for them');
});
