import { type Kysely, type Migration, sql } from 'kysely';

// Frozen in time: this file never imports application code.
// Why a key was revoked (manual, rotation, leaked, operator), kept with the revoked row so that revoked keys
// stay visible. Every key revoked before this migration was revoked through the API or the console: manual.
export function revokeReason(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_keys').addColumn('revoke_reason', 'text').execute();
      await sql`update api_keys set revoke_reason = 'manual' where revoked_at is not null`.execute(db);
    },
  };
}
