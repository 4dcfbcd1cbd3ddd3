import type { Kysely, Migration } from 'kysely';

// Frozen in time: this file never imports application code.
// The operator may disable a tenant (its keys and members are refused) or a console account (it cannot sign in,
// and its access tokens are refused): when, or null while it is enabled (docs/behaviour.md, "Disabled tenants and accounts").
export function disabled(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('tenants').addColumn('disabled_at', 'text').execute();
      await db.schema.alterTable('users').addColumn('disabled_at', 'text').execute();
    },
  };
}
