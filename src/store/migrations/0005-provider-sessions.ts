import type { Kysely, Migration } from 'kysely';

// Frozen in time: this file never imports application code.
// A session opened through the identity provider records so (sign_in_method 'oidc'; null: a password) and the
// roles by tenant its groups claim gave at sign-in, as JSON (null: none).
export function providerSessions(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('sign_in_method', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('provider_roles', 'text').execute();
    },
  };
}
