import type { Kysely } from 'kysely';
import type { ClaimedMail, MailRepository, PasswordResetRepository } from '../domain/store.ts';
import type { Database, Dialect } from './schema.ts';

/**
 * The mail outbox. Mails are written in the transaction of the change they tell of; a claim is one
 * transaction that picks due pending mails not held by another instance (PostgreSQL: SKIP LOCKED), holds them
 * until `lockUntil` and counts the attempt. A mail sent or given up loses its bodies at once: a one-time link
 * lives in the database only until it has been handed to the mail server.
 */
export function mailRepository(db: Kysely<Database>, dialect: Dialect): MailRepository {
  return {
    async enqueue(mails) {
      if (mails.length === 0) return;
      await db.insertInto('mail_outbox').values(mails.map((m) => ({
        kind: m.kind, tenant: m.tenant ?? null, recipient: m.to, subject: m.subject, text_body: m.text, html_body: m.html,
        state: 'pending', attempts: 0, next_attempt_at: m.createdAt, locked_until: null, last_error: null, created_at: m.createdAt, sent_at: null,
      }))).execute();
    },
    async claimDue(now, lockUntil, limit) {
      return db.transaction().execute(async (trx) => {
        let candidates = trx.selectFrom('mail_outbox').select('id')
          .where('state', '=', 'pending').where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
          .orderBy('id').limit(limit);
        if (dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
        const ids = (await candidates.execute()).map((r) => r.id);
        if (ids.length === 0) return [];
        await trx.updateTable('mail_outbox').set((eb) => ({ locked_until: lockUntil, attempts: eb('attempts', '+', 1) }))
          .where('id', 'in', ids).execute();
        const rows = await trx.selectFrom('mail_outbox').selectAll().where('id', 'in', ids).orderBy('id').execute();
        return rows.map((r): ClaimedMail => ({
          id: String(r.id), attempts: r.attempts, kind: r.kind, tenant: r.tenant ?? undefined, to: r.recipient, subject: r.subject,
          text: r.text_body ?? '', html: r.html_body ?? '', createdAt: r.created_at,
        }));
      });
    },
    async recordAttempt(id, result) {
      const done = result.state !== 'pending';
      await db.updateTable('mail_outbox').set({
        state: result.state, next_attempt_at: result.nextAttemptAt, locked_until: null, last_error: result.error ?? null,
        ...(result.state === 'sent' && { sent_at: result.at }),
        ...(done && { text_body: null, html_body: null }),
      }).where('id', '=', Number(id)).execute();
    },
    async purgeBefore(time) {
      const result = await db.deleteFrom('mail_outbox').where('state', '!=', 'pending').where('created_at', '<', time).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export function passwordResetRepository(db: Kysely<Database>): PasswordResetRepository {
  return {
    async insert(r) {
      await db.insertInto('password_resets').values({ id: r.id, email: r.email, created_at: r.createdAt, expires_at: r.expiresAt, used_at: null }).execute();
    },
    async get(id) {
      const row = await db.selectFrom('password_resets').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { id: row.id, email: row.email, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at ?? undefined };
    },
    async latestFor(email) {
      const row = await db.selectFrom('password_resets').select('created_at').where('email', '=', email)
        .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
      return row?.created_at;
    },
    async markUsed(id, at) {
      const result = await db.updateTable('password_resets').set({ used_at: at }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async removeFor(email) {
      await db.deleteFrom('password_resets').where('email', '=', email).where('used_at', 'is', null).execute();
    },
    async purgeBefore(time) {
      const result = await db.deleteFrom('password_resets').where('expires_at', '<', time).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
