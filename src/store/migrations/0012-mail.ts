import type { Kysely, Migration } from 'kysely';

// Frozen in time: this file never imports application code.
// Email (docs/notifications.md): the mail outbox, one row per message, written in the transaction of the
// change it tells of and sent by one instance at a time (its bodies erased once sent or given up); and the
// password resets a person asked for, each a link whose token only its SHA-256 is kept of; and whether an
// invite was mailed.
export function mail(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text')
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text')
        .addColumn('html_body', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('locked_until', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .execute();
      await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['state', 'next_attempt_at']).execute();
      await db.schema.createIndex('mail_outbox_created').on('mail_outbox').columns(['created_at']).execute();

      await db.schema
        .createTable('password_resets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      // An invite mailed to its address (email on): accepting it proves the address is the invitee's.
      await db.schema.alterTable('invites').addColumn('emailed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.createIndex('password_resets_email').on('password_resets').columns(['email', 'created_at']).execute();
    },
  };
}
