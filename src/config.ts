import { isIP } from 'node:net';
import type { RetentionSettings } from './domain/retention.ts';
import { groupTemplateProblems } from './domain/provider-groups.ts';
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
  /** PostgreSQL: an instance's lease on the revocation channel; a DELETE waits for a silent instance until its own lease ends. */
  keyCacheLeaseMs: number;
}

/**
 * The longest lease KUPE_KEY_CACHE_LEASE_MS takes. Instances may run with different leases; a DELETE waits for
 * each silent one until its own lease ends, and never longer than this and a second.
 */
export const MAX_KEY_CACHE_LEASE_MS = 60_000;

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
  /** Open connections at most from one client address (IPv6: per ipv6PrefixBits); 0: no such cap. */
  maxConnectionsPerAddress: number;
  /** A request's headers must arrive within this (at most the request timeout). */
  headersTimeoutSeconds: number;
  /** IPv6 clients are counted per network of this many leading bits (rate limit, backoff, throttles, connections). */
  ipv6PrefixBits: number;
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
  /** false: the console takes no passwords (sign-in through the identity provider only). */
  passwordSignIn: boolean;
  /** Tenant admins may move their tenant to another plan; false: only the operator (kupe-server tenants set-plan). */
  tenantAdminsChangePlan: boolean;
  /** The OpenID Connect provider whose access tokens the API takes and whose sign-in the console offers. */
  oidc: OidcConfig | undefined;
}

/** Asymmetric signature algorithms only: never `none`, never an HMAC (whose key would be the public one). */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export interface OidcConfig {
  /** Exactly as the provider's discovery document states it (Authentik: https://HOST/application/o/SLUG/). */
  issuer: string;
  /** An access token's `aud` must name one of these (Authentik: the client id of the application that issued it). */
  audience: string[];
  /** The console's client at the provider; undefined: no console sign-in, bearer tokens only. */
  clientId: string | undefined;
  /** undefined: a public client (PKCE alone). */
  clientSecret: string | undefined;
  /** undefined: the request's own origin + /oidc/callback. */
  redirectUri: string | undefined;
  /** Shown on the console's button: "Sign in with <name>". */
  providerName: string;
  scopes: string;
  groupsClaim: string;
  /** Group-name templates holding `{tenant}` once. */
  adminGroup: string;
  readonlyGroup: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  /** How often the provider's keys are fetched again in the background. */
  jwksRefreshSeconds: number;
  /**
   * An access token without `email_verified` is taken (a provider that never sends the claim). Off: the claim
   * must be the JSON `true`. A token that says anything else (false, "false", 0) is refused either way.
   */
  acceptMissingEmailVerified: boolean;
  /**
   * How long a verified access token is kept (by digest) so that its next use is not verified again: never
   * past its `exp`, nor past this (a token that claims to live until 9999 is verified again after it). 0: none.
   */
  verifiedTokenCacheSeconds: number;
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
    keyCacheLeaseMs: integer('KUPE_KEY_CACHE_LEASE_MS', tuning.keyCacheLeaseMs, 300, MAX_KEY_CACHE_LEASE_MS),
  };

  const config: Config = {
    host, port, databaseUrl, database: Object.freeze(database), logLevel,
    requestTimeoutSeconds: integer('KUPE_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
    keepAliveTimeoutSeconds: integer('KUPE_KEEP_ALIVE_TIMEOUT_SECONDS', 65, 1, 3600),
    maxConnections: integer('KUPE_MAX_CONNECTIONS', 1024, 1, 1_000_000),
    // Behind a proxy the direct peer is the proxy: no per-address cap unless one is set.
    maxConnectionsPerAddress: integer('KUPE_MAX_CONNECTIONS_PER_ADDRESS', trustProxy === false ? 100 : 0, 0, 1_000_000),
    headersTimeoutSeconds: integer('KUPE_HEADERS_TIMEOUT_SECONDS', 10, 1, 3600),
    ipv6PrefixBits: integer('KUPE_IPV6_PREFIX_BITS', 64, 32, 128),
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
    passwordSignIn: boolean('KUPE_PASSWORD_SIGN_IN', true, env, problems),
    tenantAdminsChangePlan: boolean('KUPE_TENANT_ADMINS_CHANGE_PLAN', false, env, problems),
    oidc: undefined,
  };
  config.oidc = oidcConfig(text, integer, env, problems);
  if (!config.passwordSignIn && config.oidc?.clientId === undefined) {
    problems.push('KUPE_PASSWORD_SIGN_IN=false needs KUPE_OIDC_ISSUER and KUPE_OIDC_CLIENT_ID: otherwise nobody can sign in to the console');
  }
  if (problems.length > 0) {
    throw new Error(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return Object.freeze(config);
}

function boolean(name: string, fallback: boolean, env: Env, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase() ?? '';
  if (raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  problems.push(`${name}=${JSON.stringify(raw)}: must be true or false`);
  return fallback;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An https URL, or http on this machine's loopback (a provider run for development or tests). */
function urlProblem(name: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name}=${JSON.stringify(value)}: not a URL`;
  }
  if (url.search !== '' || url.hash !== '') return `${name}: no query or fragment allowed`;
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return undefined;
  return `${name}=${JSON.stringify(value)}: must be https (http only on localhost, 127.0.0.1 or [::1])`;
}

/** The KUPE_OIDC_* settings; undefined when KUPE_OIDC_ISSUER is not set (then no other may be). */
function oidcConfig(
  text: (name: string, fallback: string) => string,
  integer: (name: string, fallback: number, min: number, max: number) => number,
  env: Env,
  problems: string[],
): OidcConfig | undefined {
  const issuer = text('KUPE_OIDC_ISSUER', '');
  if (issuer === '') {
    for (const name of ['KUPE_OIDC_CLIENT_ID', 'KUPE_OIDC_CLIENT_SECRET', 'KUPE_OIDC_AUDIENCE']) {
      if (text(name, '') !== '') problems.push(`${name} is set but KUPE_OIDC_ISSUER is not`);
    }
    return undefined;
  }
  const clientId = text('KUPE_OIDC_CLIENT_ID', '') || undefined;
  const audience = text('KUPE_OIDC_AUDIENCE', clientId ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (audience.length === 0) problems.push('KUPE_OIDC_AUDIENCE: required when KUPE_OIDC_CLIENT_ID is not set (the aud access tokens carry)');
  const redirectUri = text('KUPE_OIDC_REDIRECT_URI', '') || undefined;
  const algorithms = text('KUPE_OIDC_ALGORITHMS', 'RS256,PS256,ES256,EdDSA').split(',').map((a) => a.trim()).filter(Boolean);
  const unknown = algorithms.filter((a) => !(OIDC_ALGORITHMS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    problems.push(`KUPE_OIDC_ALGORITHMS: ${unknown.join(', ')} not allowed (asymmetric only: ${OIDC_ALGORITHMS.join(', ')})`);
  }
  const groupsClaim = text('KUPE_OIDC_GROUPS_CLAIM', 'groups');
  const adminGroup = text('KUPE_OIDC_ADMIN_GROUP', '{tenant}-admins');
  const readonlyGroup = text('KUPE_OIDC_READONLY_GROUP', '{tenant}-readonly');
  problems.push(...[
    urlProblem('KUPE_OIDC_ISSUER', issuer),
    redirectUri === undefined ? undefined : urlProblem('KUPE_OIDC_REDIRECT_URI', redirectUri),
    ...groupTemplateProblems({ adminGroup, readonlyGroup }, { adminGroup: 'KUPE_OIDC_ADMIN_GROUP', readonlyGroup: 'KUPE_OIDC_READONLY_GROUP' }),
  ].filter((p): p is string => p !== undefined));
  return Object.freeze({
    issuer, audience, clientId, redirectUri, groupsClaim, adminGroup, readonlyGroup, algorithms,
    clientSecret: text('KUPE_OIDC_CLIENT_SECRET', '') || undefined,
    providerName: text('KUPE_OIDC_PROVIDER_NAME', 'your identity provider'),
    scopes: text('KUPE_OIDC_SCOPES', 'openid email profile'),
    clockToleranceSeconds: integer('KUPE_OIDC_CLOCK_SKEW_SECONDS', 60, 0, 300),
    jwksRefreshSeconds: integer('KUPE_OIDC_JWKS_REFRESH_SECONDS', 300, 30, 86_400),
    acceptMissingEmailVerified: boolean('KUPE_OIDC_ACCEPT_MISSING_EMAIL_VERIFIED', false, env, problems),
    verifiedTokenCacheSeconds: integer('KUPE_OIDC_TOKEN_CACHE_SECONDS', 300, 0, 3600),
  });
}
