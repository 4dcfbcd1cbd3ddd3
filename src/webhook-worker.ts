import type { FastifyBaseLogger } from 'fastify';
import type { ClaimedDelivery, Store } from './domain/store.ts';
import type { Clock } from './domain/time.ts';
import { formatTimestamp } from './domain/validation.ts';
import { markEndpointFailing, RETRY_SECONDS } from './domain/webhooks.ts';
import type { MailOn } from './domain/mail.ts';
import { OutboxWorker, type WorkerSettings } from './outbox-worker.ts';
import { type OutboundPolicy, postGuarded } from './outbound/guarded-request.ts';
import { webhookHeaders } from './outbound/standard-webhooks.ts';

/**
 * Sends the outbox's webhook deliveries (docs/notifications.md), one worker per instance. Every `pollMs` it
 * claims due deliveries (src/store/webhooks.ts: one at a time per endpoint, in order; never one another
 * instance holds), signs each per Standard Webhooks with the moment of the attempt, and sends it through the
 * guarded client. A 2xx is delivered; anything else (another status, a refused destination, a timeout) is
 * tried again after RETRY_SECONDS, and after the last wait the delivery has failed and its endpoint is marked
 * failing (its tenant's admins are mailed, with email on). Deliveries are at least once: an instance that
 * dies mid-send leaves its hold to run out, and the delivery is sent again with the same webhook-id.
 */
export class WebhookWorker extends OutboxWorker<ClaimedDelivery> {
  constructor(
    store: Store, policy: OutboundPolicy, clock: Clock, logger: FastifyBaseLogger,
    settings: Partial<WorkerSettings> & { mail?: MailOn | undefined } = {},
  ) {
    const { mail, ...loop } = settings;
    super({
      what: 'webhook delivery',
      claim: (now, holdUntil, batch) => store.webhooks.claimDue(formatTimestamp(now), formatTimestamp(holdUntil), batch),
      send: (delivery) => send(delivery),
    }, clock, logger, { pollMs: 500, holdSeconds: Math.ceil(policy.timeoutMs / 1000) + 5, batch: 10, ...loop });

    async function send(delivery: ClaimedDelivery): Promise<void> {
      const attemptAt = clock();
      const headers = webhookHeaders(delivery.endpoint.secret, delivery.event.id, Math.floor(attemptAt.getTime() / 1000), delivery.event.payload);
      let status: number | undefined;
      let error: string | undefined;
      try {
        status = (await postGuarded(delivery.endpoint.url, delivery.event.payload, { ...headers, 'user-agent': 'Kupe-Webhooks/1' }, policy)).status;
        if (status < 200 || status > 299) error = `HTTP ${status}`;
      } catch (e) {
        error = (e as Error).message;
      }
      const now = clock();
      const at = formatTimestamp(now);
      const { webhooks } = store;
      const { endpoint } = delivery;
      if (error === undefined) {
        await webhooks.recordAttempt(delivery.id, { state: 'delivered', at, nextAttemptAt: at, status });
        if (endpoint.failingSince !== undefined) await webhooks.updateEndpoint(endpoint.tenant, endpoint.id, { failingSince: null });
        return;
      }
      const wait = RETRY_SECONDS[delivery.attempts - 1];
      if (wait === undefined) {
        await webhooks.recordAttempt(delivery.id, { state: 'failed', at, nextAttemptAt: at, status, error });
        if (endpoint.failingSince === undefined) await markEndpointFailing(store, endpoint, error, { now, mail });
        logger.warn({ webhook: endpoint.id, tenant: endpoint.tenant, event: delivery.event.id, error },
          'webhook delivery failed for good after every retry; the endpoint is marked failing');
        return;
      }
      const next = formatTimestamp(new Date(now.getTime() + wait * 1000));
      await webhooks.recordAttempt(delivery.id, { state: 'pending', at, nextAttemptAt: next, status, error });
    }
  }
}
