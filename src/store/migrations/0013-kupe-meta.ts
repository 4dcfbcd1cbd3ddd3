import type { Kysely, Migration } from 'kysely';

// Frozen in time: this file never imports application code.
// Facts about the database itself: `migrated_by`, the Kupe version that last brought the schema up to date,
// which an older Kupe names when it refuses a database a newer one migrated (docs/upgrading.md).
export function kupeMeta(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('kupe_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
