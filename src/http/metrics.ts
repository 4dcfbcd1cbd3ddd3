import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { Clock } from '../domain/time.ts';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one app instance (its own registry, so tests never share counters): Kupe's own,
 * and prom-client's process and Node.js metrics (memory, CPU, event-loop lag, GC, open handles).
 */
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  readonly requests = new Counter({
    name: 'kupe_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'kupe_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly authentications = new Counter({
    name: 'kupe_authentications_total',
    help: 'Authentication attempts by outcome (success or failure) and reason',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });
  /** Pre-bound: counted on every authenticated request. */
  readonly authenticatedByKey = this.authentications.labels('success', 'apikey');
  readonly limitStoreErrors = new Counter({
    name: 'kupe_limit_store_errors_total',
    help: 'Redis failures of the rate limiter; each let a request through unlimited (fail open)',
    registers: [this.registry],
  });
  readonly identityProviderErrors = new Counter({
    name: 'kupe_identity_provider_fetch_failures_total',
    help: "Failed fetches of the identity provider's discovery document or keys; tokens signed by keys already held still verify",
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'kupe_store_errors_total',
    help: 'Database faults by kind (unavailable, timeout, locked, disk_full, read_only, corrupt, io_error); each answered 503',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly clientErrors = new Counter({
    name: 'kupe_http_client_errors_total',
    help: 'Connections closed by the HTTP parser (malformed request, headers too large, request timeout), by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly connectionsDropped = new Counter({
    name: 'kupe_http_connections_dropped_total',
    help: 'Connections refused at accept because KUPE_MAX_CONNECTIONS were open',
    registers: [this.registry],
  });
  readonly connectionsRefusedPerAddress = new Counter({
    name: 'kupe_http_connections_refused_per_address_total',
    help: 'Connections refused at accept because KUPE_MAX_CONNECTIONS_PER_ADDRESS were open from their address',
    registers: [this.registry],
  });
  readonly limited = new Counter({
    name: 'kupe_rate_limited_total',
    help: 'Requests refused with 429, by reason (rate_limited or auth_backoff)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
}

/** Digests compared in constant time, so the token's length and prefix cannot be probed. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** How long one rendering of the metrics is served again: scraping stays cheap however often it is asked. */
const METRICS_CACHE_MS = 1000;

/** The request metrics hook and `GET /metrics`, behind `Authorization: Bearer <token>` when a token is set. */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string | undefined, clock: Clock) {
  // One pair of bound series per method, route pattern (never the raw URL: label sets stay bounded) and
  // status, looked up by a string key: prom-client then hashes no label object per request.
  const series = new Map<string, { count: Counter.Internal; latency: Histogram.Internal<string> }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let bound = series.get(key);
    if (!bound) {
      const labels = [request.method, route, String(reply.statusCode)] as const;
      bound = { count: metrics.requests.labels(...labels), latency: metrics.latency.labels(...labels) };
      series.set(key, bound);
    }
    bound.count.inc();
    bound.latency.observe(reply.elapsedTime / 1000);
    done();
  });
  let cached: { at: number; text: string } | undefined;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token !== undefined && !sameSecret(request.headers.authorization ?? '', `Bearer ${token}`)) {
      throw new AppError('authentication_required', 'metrics need Authorization: Bearer <KUPE_METRICS_TOKEN>');
    }
    const now = clock().getTime();
    if (!cached || now - cached.at >= METRICS_CACHE_MS) cached = { at: now, text: await metrics.registry.metrics() };
    return reply.type(metrics.registry.contentType).send(cached.text);
  });
}
