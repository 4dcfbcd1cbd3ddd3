import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './domain/time.ts';

/**
 * The loop both outboxes are sent by (webhook deliveries: src/webhook-worker.ts; mail: src/mail-worker.ts),
 * one per instance. Every `pollMs`, and at once when nudged after a change, it claims due items (the store
 * never hands one item to two instances, and holds each until `holdSeconds` from now) and sends them. An
 * instance that dies mid-send leaves its hold to run out: the item is claimed again and sent again.
 */
export interface WorkerSettings {
  pollMs: number;
  /** How long a claimed item is held: longer than one send may take. */
  holdSeconds: number;
  batch: number;
}

export interface Outbox<T> {
  /** What the log calls it. */
  what: string;
  claim(now: Date, holdUntil: Date, batch: number): Promise<T[]>;
  /** Sends one item and records the outcome; a throw is a store fault (the hold runs out, it is sent again). */
  send(item: T): Promise<void>;
}

export class OutboxWorker<T> {
  readonly #outbox: Outbox<T>;
  readonly #clock: Clock;
  readonly #logger: FastifyBaseLogger;
  readonly #settings: WorkerSettings;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #stopped = false;

  constructor(outbox: Outbox<T>, clock: Clock, logger: FastifyBaseLogger, settings: WorkerSettings) {
    this.#outbox = outbox;
    this.#clock = clock;
    this.#logger = logger;
    this.#settings = settings;
  }

  start(): void {
    this.#started = true;
    this.#timer = setInterval(() => this.nudge(), this.#settings.pollMs);
    this.#timer.unref();
    this.nudge();
  }

  /** Looks for due items now (and once more after a pass already running); nothing before start. */
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

  /** Stops claiming; waits for the sends in flight (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  async #pass(): Promise<void> {
    try {
      for (;;) {
        const now = this.#clock();
        const claimed = await this.#outbox.claim(now, new Date(now.getTime() + this.#settings.holdSeconds * 1000), this.#settings.batch);
        if (claimed.length === 0 || this.#stopped) return;
        await Promise.all(claimed.map((item) => this.#outbox.send(item)));
      }
    } catch (err) {
      // A store fault: logged; the next poll tries again (nothing claimed is lost: its hold runs out).
      this.#logger.error({ err }, `${this.#outbox.what}: could not claim or record; will retry`);
    }
  }
}
