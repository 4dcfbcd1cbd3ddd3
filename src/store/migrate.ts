import { type Kysely, type Migration, type MigrationResult, Migrator, sql } from 'kysely';
import { initial } from './migrations/0001-initial.ts';
import { accounts } from './migrations/0002-accounts.ts';
import { pendingMembers } from './migrations/0003-pending-members.ts';
import { revocationFence } from './migrations/0004-revocation-fence.ts';
import { providerSessions } from './migrations/0005-provider-sessions.ts';
import { emailProof } from './migrations/0006-email-proof.ts';
import { leaseRenewals } from './migrations/0007-lease-renewals.ts';
import { revokeReason } from './migrations/0008-revoke-reason.ts';
import { leakReports } from './migrations/0009-leak-reports.ts';
import { webhooks } from './migrations/0010-webhooks.ts';
import { expiryNotices } from './migrations/0011-expiry-notices.ts';
import { mail } from './migrations/0012-mail.ts';
import { kupeMeta } from './migrations/0013-kupe-meta.ts';
import { disabled } from './migrations/0014-disabled.ts';
import type { Database, Dialect } from './schema.ts';
import { KUPE_VERSION } from '../version.ts';

/** Every migration, by name (exported for the upgrade tests). */
export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return { '0001-initial': initial(dialect), '0002-accounts': accounts(), '0003-pending-members': pendingMembers(),
    '0004-revocation-fence': revocationFence(dialect), '0005-provider-sessions': providerSessions(),
    '0006-email-proof': emailProof(), '0007-lease-renewals': leaseRenewals(dialect),
    '0008-revoke-reason': revokeReason(), '0009-leak-reports': leakReports(),
    '0010-webhooks': webhooks(dialect), '0011-expiry-notices': expiryNotices(),
    '0012-mail': mail(dialect), '0013-kupe-meta': kupeMeta(), '0014-disabled': disabled() };
}

/**
 * Why a database cannot be used by this Kupe: it holds migrations this version does not know, so a newer Kupe
 * migrated it (docs/upgrading.md). Its message names both versions and what to do.
 */
export class NewerDatabaseError extends Error {
  override name = 'NewerDatabaseError';
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  // Kysely looks for its own tables in every schema; pin them to the one the
  // connection's search_path selects, so several Kupe schemas can share a database.
  const schema = dialect === 'postgres' ? await selectedSchema(db) : undefined;
  const migrations = migrationsFor(dialect);
  await refuseNewerDatabase(db, schema, Object.keys(migrations));
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema !== undefined && { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  // Which Kupe last brought the schema up to date: what an older one names when it refuses the database.
  // (Instances starting together each write it: the same value, and an upsert is safe to race.)
  await sql`insert into kupe_meta (key, value) values ('migrated_by', ${KUPE_VERSION})
    on conflict (key) do update set value = excluded.value`.execute(db);
  return (results ?? [])
    .filter((r: MigrationResult) => r.status === 'Success')
    .map((r: MigrationResult) => r.migrationName);
}

/**
 * PostgreSQL: the schema the connection's search_path selects. When it names a schema that does not exist
 * (docs/deployment.md's `?options=-c search_path=kupe`), Kupe creates it, or says what to run when the role
 * may not.
 */
async function selectedSchema(db: Kysely<Database>): Promise<string> {
  const current = (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
  if (current) return current;
  const path = (await sql<{ path: string }>`select current_setting('search_path') as path`.execute(db)).rows[0]?.path ?? '';
  const wanted = path.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).find((s) => s !== '' && s !== '$user');
  if (wanted === undefined) throw new Error('KUPE_DATABASE_URL: its search_path selects no schema; add ?options=-c search_path=SCHEMA');
  try {
    await sql`create schema if not exists ${sql.id(wanted)}`.execute(db);
  } catch (error) {
    // Instances starting together race to create it ("if not exists" is no lock): one of them made it.
    const made = (await sql<{ n: number }>`select count(*)::int as n from pg_namespace where nspname = ${wanted}`.execute(db)).rows[0]?.n === 1;
    if (made) return wanted;
    throw new Error(`KUPE_DATABASE_URL selects the schema ${wanted} (search_path), which does not exist, and this role may not create it ` +
      `(${(error as Error).message}): run CREATE SCHEMA ${wanted} AUTHORIZATION <Kupe's role> as its owner (docs/deployment.md)`);
  }
  return wanted;
}

async function refuseNewerDatabase(db: Kysely<Database>, schema: string | undefined, known: string[]): Promise<void> {
  const table = (name: string) => sql.table(schema === undefined ? name : `${schema}.${name}`);
  let executed: string[];
  try {
    executed = (await sql<{ name: string }>`select name from ${table('kysely_migration')} order by name`.execute(db)).rows.map((r) => r.name);
  } catch {
    return; // a new database: no migration table yet
  }
  const unknown = executed.filter((name) => !known.includes(name));
  if (unknown.length === 0) return;
  let by: string | undefined;
  try {
    by = (await sql<{ value: string }>`select value from ${table('kupe_meta')} where key = 'migrated_by'`.execute(db)).rows[0]?.value;
  } catch {
    by = undefined;
  }
  throw new NewerDatabaseError(`this database was migrated by ${by === undefined ? 'a newer Kupe' : `Kupe ${by}`}, newer than this one ` +
    `(${KUPE_VERSION}): it holds ${unknown.join(', ')}, which ${KUPE_VERSION} does not know (its newest migration is ${known.at(-1)}). ` +
    `Run ${by === undefined ? 'that version' : `Kupe ${by}`} or newer on it, or restore the backup taken before the upgrade (docs/upgrading.md)`);
}
