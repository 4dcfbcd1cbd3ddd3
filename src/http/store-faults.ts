import type { FastifyBaseLogger } from 'fastify';
import type { StoreFault, StoreFaultKind } from '../domain/store.ts';
import type { Clock } from '../domain/time.ts';
import type { Metrics } from './metrics.ts';

/** What a client is told (503 store_unavailable), and how soon it may try again. */
export const FAULT_ANSWERS: Record<StoreFaultKind, { message: string; retryAfter: number }> = {
  unavailable: { message: 'the database is unreachable; retry later', retryAfter: 5 },
  timeout: { message: 'the database did not answer in time; retry later', retryAfter: 5 },
  locked: { message: 'the database is busy (locked by another process); retry later', retryAfter: 1 },
  disk_full: { message: "the server's disk is full; nothing was changed", retryAfter: 60 },
  read_only: { message: 'the database is read-only; nothing was changed', retryAfter: 60 },
  corrupt: { message: 'the database file is damaged; the operator must restore it', retryAfter: 60 },
  io_error: { message: 'the database could not be read or written; retry later', retryAfter: 5 },
};

/** Without a fault of its kind for this long, an incident is over; the next fault opens a new one. */
const QUIET_MS = 10_000;
/** During a long incident, one reminder line this often. */
const REMIND_MS = 60_000;

interface Incident { since: number; last: number; logged: number; count: number; fault: StoreFault }

/**
 * Store faults, logged once per incident with their real cause (and a
 * reminder each minute while it lasts), each one counted in /metrics, and
 * remembered for /readyz: while one is going on, the instance is not ready.
 */
export class StoreFaults {
  readonly #incidents = new Map<StoreFaultKind, Incident>();
  readonly #log: FastifyBaseLogger;
  readonly #metrics: Metrics;
  readonly #clock: Clock;

  constructor(log: FastifyBaseLogger, metrics: Metrics, clock: Clock) {
    this.#log = log;
    this.#metrics = metrics;
    this.#clock = clock;
  }

  report(fault: StoreFault, error: unknown): void {
    const now = this.#clock().getTime();
    this.#metrics.storeErrors.inc({ kind: fault.kind });
    const incident = this.#incidents.get(fault.kind);
    if (!incident || now - incident.last > QUIET_MS) {
      this.#incidents.set(fault.kind, { since: now, last: now, logged: now, count: 1, fault });
      this.#log.error({ err: error, fault: fault.kind, cause: fault.detail }, `database fault: ${fault.kind} (${fault.detail})`);
      return;
    }
    incident.last = now;
    incident.count += 1;
    incident.fault = fault;
    if (now - incident.logged >= REMIND_MS) {
      incident.logged = now;
      this.#log.error({ fault: fault.kind, cause: fault.detail, errors: incident.count, sinceSeconds: Math.round((now - incident.since) / 1000) },
        `database fault continues: ${fault.kind} (${fault.detail})`);
    }
  }

  /** The most recent fault of an incident still going on, if any. */
  current(): StoreFault | undefined {
    const now = this.#clock().getTime();
    let latest: Incident | undefined;
    for (const [kind, incident] of this.#incidents) {
      if (now - incident.last > QUIET_MS) this.#close(kind, incident, `no ${kind} error for ${QUIET_MS / 1000} s`);
      else if (!latest || incident.last > latest.last) latest = incident;
    }
    return latest?.fault;
  }

  /** A check just proved these kinds of fault gone (the database answered, the lock could be had). */
  recovered(kinds: readonly StoreFaultKind[]): void {
    for (const kind of kinds) {
      const incident = this.#incidents.get(kind);
      if (incident) this.#close(kind, incident, 'the readiness check passed');
    }
  }

  #close(kind: StoreFaultKind, incident: Incident, why: string) {
    this.#incidents.delete(kind);
    this.#log.info({ fault: kind, errors: incident.count, seconds: Math.round((incident.last - incident.since) / 1000) },
      `database fault over (${kind}): ${why}`);
  }
}
