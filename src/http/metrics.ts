import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { Clock } from '../domain/time.ts';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { appendRouteHook } from './route-hooks.ts';

/**
 * Prometheus metrics of one app instance (its own registry, so tests never share counters): Kupe's own,
 * and prom-client's process and Node.js metrics (memory, CPU, event-loop lag, GC, open handles).
 */
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** `kupe_http_requests_total` and `kupe_http_request_duration_seconds`: counted by the answers' hook. */
  readonly answers = new HttpAnswers(this.registry);
  readonly authentications = new Tally(this.registry, 'kupe_authentications_total',
    'Authentication attempts by outcome (success or failure) and reason', ['outcome', 'reason']);
  /** Pre-bound: counted on every request a key authenticates. */
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
  readonly limited = new Tally(this.registry, 'kupe_rate_limited_total',
    'Requests refused with 429, by reason (rate_limited or auth_backoff)', ['reason']);
}

/** Digests compared in constant time, so the token's length and prefix cannot be probed. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** How long one rendering of the metrics is served again: scraping stays cheap however often it is asked. */
const METRICS_CACHE_MS = 1000;

/** The request metrics hook and `GET /metrics`, behind `Authorization: Bearer <token>` when a token is set. */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string | undefined, clock: Clock) {
  // Each route counts its own answers (a table made once, when the route is registered): no label object,
  // key string or lookup of the route per request. Requests that match no route count as `unmatched`.
  app.addHook('onRoute', (route) => {
    const answers = metrics.answers.route(route.url);
    appendRouteHook(route, 'onResponse', (request, reply, done) => { answers.record(request.method, reply.statusCode, reply.elapsedTime); done(); });
  });
  const unmatched = metrics.answers.route('unmatched');
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched.record(request.method, reply.statusCode, reply.elapsedTime);
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

/** One line of a scrape, as prom-client's registry writes it (metricName: a histogram's _bucket, _sum, _count). */
interface Sample { labels: Record<string, string | number>; value: number; metricName?: string }

/**
 * A metric of Kupe's own counting, in prom-client's registry: its samples are made only when /metrics is
 * scraped (prom-client writes any registered object whose get() answers with them).
 */
function registerScraped(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', samples: () => Sample[]) {
  registry.registerMetric({
    name, help, type,
    get: async () => ({ name, help, type, aggregator: 'sum', values: samples() }),
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}

/**
 * A labelled counter kept as plain numbers, for the counters of the request path (authentications, 429s):
 * prom-client's own Counter hashes and validates its labels on every increment, even through bound series.
 * The label sets are few and fixed by the code (never taken from a request).
 */
export class Tally<Label extends string> {
  readonly #slots = new Map<string, { labels: Record<string, string>; value: number }>();
  readonly #names: readonly Label[];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly Label[]) {
    this.#names = labelNames;
    const slots = this.#slots;
    registerScraped(registry, name, help, 'counter', () => [...slots.values()].map(({ labels, value }) => ({ labels, value })));
  }

  /** The series of these label values, to count without a lookup (values in the order of the label names). */
  labels(...values: string[]): { inc: () => void } {
    const key = values.join('\0');
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = { labels: Object.fromEntries(this.#names.map((name, i) => [name, values[i] ?? ''])), value: 0 };
      this.#slots.set(key, slot);
    }
    const counted = slot;
    return { inc: () => { counted.value += 1; } };
  }

  inc(labels: Record<Label, string>) {
    this.labels(...this.#names.map((name) => labels[name])).inc();
  }
}

/** Latency buckets, in seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

/** One method, route and status: how many answers, their total time, and how many fell in each bucket. */
class Answered {
  count = 0;
  seconds = 0;
  /** Per bucket, not cumulative (the last slot: slower than every bucket); made cumulative when scraped. */
  readonly inBucket = new Float64Array(LATENCY_BUCKETS.length + 1);
}

/** The answers of one route pattern (never a raw URL: the series stay bounded), by method and status. */
export class RouteAnswers {
  readonly byMethod = new Map<string, Map<number, Answered>>();
  constructor(readonly route: string) {}

  /** Counts one answer that took `ms` milliseconds. Allocates only the first time a method and status meet. */
  record(method: string, status: number, ms: number) {
    let byStatus = this.byMethod.get(method);
    if (byStatus === undefined) this.byMethod.set(method, byStatus = new Map<number, Answered>());
    let answered = byStatus.get(status);
    if (answered === undefined) byStatus.set(status, answered = new Answered());
    const seconds = ms / 1000;
    answered.count += 1;
    answered.seconds += seconds;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]!) bucket += 1;
    answered.inBucket[bucket]! += 1;
  }
}

/**
 * The HTTP answers' counter and latency histogram, kept as plain numbers per route (RouteAnswers) and turned
 * into Prometheus series only when /metrics is scraped: prom-client's own Histogram validates and hashes its
 * labels on every observation, even through bound series.
 */
export class HttpAnswers {
  readonly #routes: RouteAnswers[] = [];

  constructor(registry: Registry) {
    const labelsOf = (route: RouteAnswers, method: string, status: number) => ({ method, route: route.route, status: String(status) });
    registerScraped(registry, 'kupe_http_requests_total', 'HTTP requests by method, route and status', 'counter',
      () => this.#samples((route, method, status, answered) => [{ labels: labelsOf(route, method, status), value: answered.count }]));
    registerScraped(registry, 'kupe_http_request_duration_seconds', 'HTTP request latency by method, route and status', 'histogram',
      () => this.#samples((route, method, status, answered) => {
        const labels = labelsOf(route, method, status);
        const values: Sample[] = [];
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += answered.inBucket[i]!;
          values.push({ labels: { le, ...labels }, value: cumulative, metricName: 'kupe_http_request_duration_seconds_bucket' });
        });
        values.push({ labels: { le: '+Inf', ...labels }, value: answered.count, metricName: 'kupe_http_request_duration_seconds_bucket' });
        values.push({ labels, value: answered.seconds, metricName: 'kupe_http_request_duration_seconds_sum' });
        values.push({ labels, value: answered.count, metricName: 'kupe_http_request_duration_seconds_count' });
        return values;
      }));
  }

  /** The table of one route pattern; its answers are counted from then on. */
  route(route: string): RouteAnswers {
    const answers = new RouteAnswers(route);
    this.#routes.push(answers);
    return answers;
  }

  /** The samples of every route, method and status counted so far. */
  #samples(series: (route: RouteAnswers, method: string, status: number, answered: Answered) => Sample[]): Sample[] {
    return this.#routes.flatMap((route) => [...route.byMethod].flatMap(([method, byStatus]) =>
      [...byStatus].flatMap(([status, answered]) => series(route, method, status, answered))));
  }
}
