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
import type { Database, Dialect } from './schema.ts';

/** Every migration, by name (exported for the upgrade tests). */
export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return { '0001-initial': initial(dialect), '0002-accounts': accounts(), '0003-pending-members': pendingMembers(),
    '0004-revocation-fence': revocationFence(dialect), '0005-provider-sessions': providerSessions(),
    '0006-email-proof': emailProof(), '0007-lease-renewals': leaseRenewals(dialect),
    '0008-revoke-reason': revokeReason(), '0009-leak-reports': leakReports(),
    '0010-webhooks': webhooks(dialect), '0011-expiry-notices': expiryNotices(),
    '0012-mail': mail(dialect) };
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  // Kysely looks for its own tables in every schema; pin them to the one the
  // connection's search_path selects, so several Kupe schemas can share a database.
  const schema = dialect === 'postgres'
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrationsFor(dialect) },
    ...(schema !== undefined && { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  return (results ?? [])
    .filter((r: MigrationResult) => r.status === 'Success')
    .map((r: MigrationResult) => r.migrationName);
}
