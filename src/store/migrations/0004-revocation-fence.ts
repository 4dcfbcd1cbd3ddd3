import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../schema.ts';

// Frozen in time: this file never imports application code.
// PostgreSQL only: the instances that cache keys, with their leases, and their acknowledgements of
// revocations (src/store/revocation-fence.ts). SQLite has one server per file and needs neither.
export function revocationFence(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect !== 'postgres') return;
      await db.schema
        .createTable('kupe_instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('lease_until', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('kupe_revocation_acks')
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('acked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('kupe_revocation_acks_pk', ['seq', 'instance'])
        .execute();
      await sql`create sequence kupe_revocation_seq`.execute(db);
    },
  };
}
