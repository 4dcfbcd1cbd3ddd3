import { isIP } from 'node:net';
import type { RetentionSettings } from './domain/retention.ts';
import { DEFAULT_TENANT_CAPS, type TenantCaps } from './domain/tenants.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How Kupe uses its database: connections, and how long it waits before answering 503. */
export interface DatabaseTuning {
  /** PostgreSQL connections per instance. */
  poolSize: number;
  /** PostgreSQL: how long opening a connection (or waiting for a free one) may take. */
  connectTimeoutMs: number;
  /**
   * How long one statement may take: PostgreSQL's statement_timeout (and, a second later, the client's own
   * deadline for a server that does not answer at all); SQLite: how long a write waits for another
   * process's lock, without blocking the event loop.
   */
  statementTimeoutMs: number;
  /** PostgreSQL: a transaction left idle this long is ended by the server. */
  idleInTransactionTimeoutMs: number;
  /** API keys whose rows verification keeps in memory (0: none); see src/store/fast-paths.ts. */
  keyCacheSize: number;
  /** PostgreSQL: an instance's lease on the revocation channel; also the longest a DELETE waits for a silent instance. */
  keyCacheLeaseMs: number;
}

export const DATABASE_TUNING_DEFAULTS: Readonly<DatabaseTuning> = Object.freeze({
  poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 5000, idleInTransactionTimeoutMs: 10_000, keyCacheSize: 10_000,
  keyCacheLeaseMs: 3000,
});

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  database: DatabaseTuning;
  /** A request's headers and body must arrive within this; a connection silent this long mid-request is closed. */
  requestTimeoutSeconds: number;
  /** An idle keep-alive connection is closed after this (longer than a load balancer's idle timeout). */
  keepAliveTimeoutSeconds: number;
  /** Open connections at most; more are refused at accept. */
  maxConnections: number;
  tenantCaps: TenantCaps;
  retention: RetentionSettings;
  /** When set, GET /metrics wants `Authorization: Bearer <this>`. */
  metricsToken: string | undefined;
  logLevel: LogLevel;
  /** false: client IP is the socket's; a list: those proxies (addresses, CIDR ranges) may set X-Forwarded-For. */
  trustProxy: false | string[];
  /** Requests per minute per client IP; 0 turns the per-IP limit off. */
  rateLimit: number;
  /** Failed authentications from one IP before exponential backoff starts. */
  authBackoffAfter: number;
  /** Ceiling of the backoff's Retry-After, in seconds. */
  authBackoffMaxSeconds: number;
  /** How often pending lastUsedAt values are written to the store. */
  lastUsedFlushSeconds: number;
  /** On SIGTERM, how long readiness reports 503 while requests are still served, before closing. */
  shutdownDelaySeconds: number;
  /** Redis for counters shared by every instance; undefined: in memory. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key, so several deployments can share one Redis. */
  redisPrefix: string;
  /** A console session ends after this long without a request... */
  sessionIdleMinutes: number;
  /** ...and after this long in any case. */
  sessionMaxHours: number;
}

type Env = Record<string, string | undefined>;

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_KEYWORDS.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
}

/**
 * Reads and validates every KUPE_* setting once. Throws one error that lists
 * every bad value; returns a frozen object. Nothing else reads process.env.
 */
export function loadConfig(env: Env): Readonly<Config> {
  const problems: string[] = [];
  const text = (name: string, fallback: string) => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? fallback : value.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name, String(fallback));
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  const host = text('KUPE_HOST', '127.0.0.1');
  const port = integer('KUPE_PORT', 8080, 0, 65535);

  const databaseUrl = text('KUPE_DATABASE_URL', 'sqlite:./data/kupe.db');
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    problems.push(`KUPE_DATABASE_URL=${JSON.stringify(databaseUrl.replace(/\/\/[^@]*@/, '//***@'))}: ` +
      'must be sqlite:PATH (e.g. sqlite:./data/kupe.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }

  const logLevel = text('KUPE_LOG_LEVEL', 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`KUPE_LOG_LEVEL=${JSON.stringify(logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  }

  let trustProxy: Config['trustProxy'] = false;
  const proxies = text('KUPE_TRUST_PROXY', '');
  if (/^\d+$/.test(proxies)) {
    // A hop count trusts whatever the nearest N hops say, so any client that reaches Kupe directly could
    // choose its own address (and so escape the per-IP limit and the backoff, and forge the audit log).
    problems.push(`KUPE_TRUST_PROXY=${JSON.stringify(proxies)}: a hop count lets any direct client choose its IP; ` +
      'name the proxies instead (IP addresses, CIDR ranges, loopback, linklocal or uniquelocal)');
  } else if (proxies !== '' && proxies !== 'false') {
    const entries = proxies.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = entries.filter((e) => !isProxyAddress(e));
    if (bad.length > 0) {
      problems.push(`KUPE_TRUST_PROXY: ${bad.map((b) => JSON.stringify(b)).join(', ')} ` +
        'not an IP address, CIDR range, loopback, linklocal or uniquelocal');
    }
    trustProxy = entries;
  }

  const redisUrl = text('KUPE_REDIS_URL', '') || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\/.+/.test(redisUrl)) {
    problems.push(`KUPE_REDIS_URL: must be redis://HOST:PORT (or rediss:// for TLS)`);
  }

  const tuning = DATABASE_TUNING_DEFAULTS;
  const database: DatabaseTuning = {
    poolSize: integer('KUPE_DB_POOL_SIZE', tuning.poolSize, 1, 1000),
    connectTimeoutMs: integer('KUPE_DB_CONNECT_TIMEOUT_MS', tuning.connectTimeoutMs, 100, 600_000),
    statementTimeoutMs: integer('KUPE_DB_STATEMENT_TIMEOUT_MS', tuning.statementTimeoutMs, 100, 600_000),
    idleInTransactionTimeoutMs: integer('KUPE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', tuning.idleInTransactionTimeoutMs, 100, 3_600_000),
    keyCacheSize: integer('KUPE_KEY_CACHE_SIZE', tuning.keyCacheSize, 0, 10_000_000),
    keyCacheLeaseMs: integer('KUPE_KEY_CACHE_LEASE_MS', tuning.keyCacheLeaseMs, 300, 60_000),
  };

  const config: Config = {
    host, port, databaseUrl, database: Object.freeze(database), logLevel,
    requestTimeoutSeconds: integer('KUPE_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
    keepAliveTimeoutSeconds: integer('KUPE_KEEP_ALIVE_TIMEOUT_SECONDS', 65, 1, 3600),
    maxConnections: integer('KUPE_MAX_CONNECTIONS', 1024, 1, 1_000_000),
    retention: Object.freeze({
      auditDays: integer('KUPE_AUDIT_RETENTION_DAYS', 365, 0, 36_500),
      endedDays: integer('KUPE_ENDED_RETENTION_DAYS', 30, 1, 3650),
    }),
    metricsToken: text('KUPE_METRICS_TOKEN', '') || undefined,
    tenantCaps: Object.freeze({
      maxApiKeys: integer('KUPE_MAX_API_KEYS_PER_TENANT', DEFAULT_TENANT_CAPS.maxApiKeys, 1, 1_000_000),
      maxMembers: integer('KUPE_MAX_MEMBERS_PER_TENANT', DEFAULT_TENANT_CAPS.maxMembers, 1, 1_000_000),
    }),
    trustProxy, redisUrl, redisPrefix: text('KUPE_REDIS_PREFIX', 'kupe:'),
    rateLimit: integer('KUPE_RATE_LIMIT', 600, 0, 1_000_000),
    authBackoffAfter: integer('KUPE_AUTH_BACKOFF_AFTER', 5, 1, 1000),
    authBackoffMaxSeconds: integer('KUPE_AUTH_BACKOFF_MAX_SECONDS', 300, 1, 86_400),
    lastUsedFlushSeconds: integer('KUPE_LAST_USED_FLUSH_SECONDS', 30, 1, 3600),
    shutdownDelaySeconds: integer('KUPE_SHUTDOWN_DELAY_SECONDS', 5, 0, 300),
    sessionIdleMinutes: integer('KUPE_SESSION_IDLE_MINUTES', 480, 1, 43_200),
    sessionMaxHours: integer('KUPE_SESSION_MAX_HOURS', 168, 1, 8760),
  };
  if (problems.length > 0) {
    throw new Error(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return Object.freeze(config);
}
