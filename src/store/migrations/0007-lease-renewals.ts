import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../schema.ts';

// Frozen in time: this file never imports application code.
// PostgreSQL only: when each instance last renewed its lease (the renewal's own statement time). A revocation
// stops waiting for an instance whose renewal started after the revocation committed: that renewal came
// through the listening connection, after the notification (src/store/revocation-fence.ts).
export function leaseRenewals(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect !== 'postgres') return;
      await sql`alter table kupe_instances add column renewed_at timestamptz`.execute(db);
    },
  };
}
