import type { FastifyBaseLogger } from 'fastify';
import type { ClaimedDelivery, Store } from './domain/store.ts';
import type { Clock } from './domain/time.ts';
import { formatTimestamp } from './domain/validation.ts';
import { RETRY_SECONDS } from './domain/webhooks.ts';
import { type OutboundPolicy, postGuarded } from './outbound/guarded-request.ts';
import { webhookHeaders } from './outbound/standard-webhooks.ts';

/**
 * Sends the outbox's webhook deliveries (docs/notifications.md), one worker per instance. Every `pollMs` it
 * claims due deliveries (src/store/webhooks.ts: one at a time per endpoint, in order; never one another
 * instance holds), signs each per Standard Webhooks with the moment of the attempt, and sends it through the
 * guarded client. A 2xx is delivered; anything else (another status, a refused destination, a timeout) is
 * tried again after RETRY_SECONDS, and after the last wait the delivery has failed and its endpoint is marked
 * failing. Deliveries are at least once: an instance that dies mid-send leaves its hold to run out, and the
 * delivery is sent again with the same webhook-id.
 */
export interface WorkerSettings {
  pollMs: number;
  /** How long a claimed delivery is held: longer than the request timeout. */
  holdSeconds: number;
  batch: number;
}

export class WebhookWorker {
  readonly #store: Store;
  readonly #policy: OutboundPolicy;
  readonly #clock: Clock;
  readonly #logger: FastifyBaseLogger;
  readonly #settings: WorkerSettings;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #stopped = false;

  constructor(store: Store, policy: OutboundPolicy, clock: Clock, logger: FastifyBaseLogger, settings: Partial<WorkerSettings> = {}) {
    this.#store = store;
    this.#policy = policy;
    this.#clock = clock;
    this.#logger = logger;
    this.#settings = { pollMs: 500, holdSeconds: Math.ceil(policy.timeoutMs / 1000) + 5, batch: 10, ...settings };
  }

  start(): void {
    this.#started = true;
    this.#timer = setInterval(() => this.nudge(), this.#settings.pollMs);
    this.#timer.unref();
    this.nudge();
  }

  /** Looks for due deliveries now (and once more after a pass already running); nothing before start. */
  nudge(): void {
    if (!this.#started || this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.nudge();
      }
    });
  }

  /** Stops claiming; waits for the sends in flight (each bounded by the request timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  async #pass(): Promise<void> {
    try {
      for (;;) {
        const now = this.#clock();
        const claimed = await this.#store.webhooks.claimDue(formatTimestamp(now),
          formatTimestamp(new Date(now.getTime() + this.#settings.holdSeconds * 1000)), this.#settings.batch);
        if (claimed.length === 0 || this.#stopped) return;
        await Promise.all(claimed.map((delivery) => this.#send(delivery)));
      }
    } catch (err) {
      // A store fault: logged; the next poll tries again (nothing claimed is lost: its hold runs out).
      this.#logger.error({ err }, 'webhook delivery: could not claim or record deliveries; will retry');
    }
  }

  async #send(delivery: ClaimedDelivery): Promise<void> {
    const attemptAt = this.#clock();
    const headers = webhookHeaders(delivery.endpoint.secret, delivery.event.id, Math.floor(attemptAt.getTime() / 1000), delivery.event.payload);
    let status: number | undefined;
    let error: string | undefined;
    try {
      status = (await postGuarded(delivery.endpoint.url, delivery.event.payload, { ...headers, 'user-agent': 'Kupe-Webhooks/1' }, this.#policy)).status;
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    const at = formatTimestamp(this.#clock());
    const { webhooks } = this.#store;
    const { endpoint } = delivery;
    if (error === undefined) {
      await webhooks.recordAttempt(delivery.id, { state: 'delivered', at, nextAttemptAt: at, status });
      if (endpoint.failingSince !== undefined) await webhooks.updateEndpoint(endpoint.tenant, endpoint.id, { failingSince: null });
      return;
    }
    const wait = RETRY_SECONDS[delivery.attempts - 1];
    if (wait === undefined) {
      await webhooks.recordAttempt(delivery.id, { state: 'failed', at, nextAttemptAt: at, status, error });
      if (endpoint.failingSince === undefined) await webhooks.updateEndpoint(endpoint.tenant, endpoint.id, { failingSince: at });
      this.#logger.warn({ webhook: endpoint.id, tenant: endpoint.tenant, event: delivery.event.id, error },
        'webhook delivery failed for good after every retry; the endpoint is marked failing');
      return;
    }
    const next = formatTimestamp(new Date(this.#clock().getTime() + wait * 1000));
    await webhooks.recordAttempt(delivery.id, { state: 'pending', at, nextAttemptAt: next, status, error });
  }
}
