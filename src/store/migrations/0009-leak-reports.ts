import type { Kysely, Migration } from 'kysely';

// Frozen in time: this file never imports application code.
// A key revoked as leaked keeps where it was found (the URL a scanner reported, or the operator's note) and
// whether a tenant admin has acknowledged the leak (the console's banner shows it until then).
export function leakReports(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_keys').addColumn('leak_source', 'text').execute();
      await db.schema.alterTable('api_keys').addColumn('leak_acknowledged_at', 'text').execute();
      await db.schema.alterTable('api_keys').addColumn('leak_acknowledged_by', 'text').execute();
    },
  };
}
