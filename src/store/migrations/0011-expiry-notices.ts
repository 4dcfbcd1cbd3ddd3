import type { Kysely, Migration } from 'kysely';

// Frozen in time: this file never imports application code.
// Which expiry warnings each key has had (14d, 7d, 1d, expired): the primary key makes each one happen once,
// however many instances look at the same moment.
export function expiryNotices(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('expiry_notices')
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('notice', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('expiry_notices_pk', ['key_id', 'notice'])
        .execute();
    },
  };
}
