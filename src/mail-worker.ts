import type { FastifyBaseLogger } from 'fastify';
import type { ClaimedMail, Store } from './domain/store.ts';
import type { Clock } from './domain/time.ts';
import { formatTimestamp } from './domain/validation.ts';
import { MAIL_RETRY_SECONDS } from './domain/mail.ts';
import { OutboxWorker, type WorkerSettings } from './outbox-worker.ts';
import type { SmtpSender } from './outbound/smtp.ts';

/**
 * Sends the mail outbox (docs/notifications.md, "Email"), one worker per instance: due mails are claimed (never
 * one another instance holds: PostgreSQL SKIP LOCKED) and handed to the mail server. One the server refuses
 * or that cannot be handed over (server down, timeout) is tried again after MAIL_RETRY_SECONDS; after the last
 * wait it is given up and logged. A mail sent or given up loses its bodies. At least once: an instance that
 * dies between the server's acceptance and the record sends it again when the hold runs out. Two at a time,
 * as many as the sender's connections (src/outbound/smtp.ts), so that a claimed mail never waits for a
 * connection long enough for its hold to run out.
 */
export class MailWorker extends OutboxWorker<ClaimedMail> {
  readonly #sender: SmtpSender;

  constructor(store: Store, sender: SmtpSender, clock: Clock, logger: FastifyBaseLogger, settings: Partial<WorkerSettings> = {}) {
    super({
      what: 'mail',
      claim: (now, holdUntil, batch) => store.mail.claimDue(formatTimestamp(now), formatTimestamp(holdUntil), batch),
      send: async (mail) => {
        let error: string | undefined;
        try {
          await sender.send(mail);
        } catch (e) {
          error = (e as Error).message;
        }
        const now = clock();
        const at = formatTimestamp(now);
        if (error === undefined) return store.mail.recordAttempt(mail.id, { state: 'sent', at, nextAttemptAt: at });
        const wait = MAIL_RETRY_SECONDS[mail.attempts - 1];
        if (wait === undefined) {
          logger.error({ mail: mail.id, kind: mail.kind, tenant: mail.tenant, error }, 'mail given up after every retry');
          return store.mail.recordAttempt(mail.id, { state: 'failed', at, nextAttemptAt: at, error });
        }
        logger.warn({ mail: mail.id, kind: mail.kind, error, retryInSeconds: wait }, 'mail not sent; will retry');
        return store.mail.recordAttempt(mail.id, { state: 'pending', at, nextAttemptAt: formatTimestamp(new Date(now.getTime() + wait * 1000)), error });
      },
    }, clock, logger, { pollMs: 500, holdSeconds: 120, batch: 2, ...settings });
    this.#sender = sender;
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.#sender.close();
  }
}
