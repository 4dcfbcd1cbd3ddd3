import { isIP } from 'node:net';
import { DEFAULT_TENANT_CAPS } from './domain/tenants.ts';
import { MAX_KEY_CACHE_LEASE_MS } from './store/tuning.ts';

/**
 * Every KUPE_* setting, once: its name, how its text is read and checked, its default, and what it does.
 * src/config.ts reads them into the Config the server runs with; scripts/settings-table.ts renders the
 * tables of README.md ("Configuration") and docs/oidc.md from the same list (test/docs.test.ts checks both).
 */
export interface Setting<T> {
  readonly name: `KUPE_${string}`;
  /** Which table lists it: README.md's, docs/oidc.md's, docs/leaks.md's or docs/notifications.md's. */
  readonly table: 'server' | 'oidc' | 'leaks' | 'mail';
  /** The default, as the tables show it (Markdown). */
  readonly shown: string;
  /** What it does (Markdown, one table cell). */
  readonly doc: string;
  /**
   * The value of the environment's text (trimmed; undefined when unset or blank). A bad text adds a problem
   * naming the setting and what it must be, and gives the default (so that every problem is found at once).
   */
  read(raw: string | undefined, env: Env, problems: string[], name: string): T;
}

export type Env = Record<string, string | undefined>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Asymmetric signature algorithms only: never `none`, never an HMAC (whose key would be the public one). */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

type Reader<T> = Pick<Setting<T>, 'read' | 'shown'>;

const code = (value: string | number | boolean) => `\`${value}\``;
const NONE = '*(none)*';

function integer(fallback: number | ((env: Env) => number), min: number, max: number, shown = code(fallback as number)): Reader<number> {
  return {
    shown,
    read(raw, env, problems, name) {
      const value = Number(raw);
      const byDefault = typeof fallback === 'function' ? fallback(env) : fallback;
      if (raw === undefined) return byDefault;
      if (!/^\d+$/.test(raw) || value < min || value > max) {
        problems.push(`${name}=${JSON.stringify(raw)}: must be a whole number from ${min} to ${max}`);
        return byDefault;
      }
      return value;
    },
  };
}

function text(fallback: string): Reader<string> {
  return { shown: code(fallback), read: (raw) => raw ?? fallback };
}

/** Text with no default: undefined when unset. */
function optional(shown = NONE): Reader<string | undefined> {
  return { shown, read: (raw) => raw };
}

function boolean(fallback: boolean): Reader<boolean> {
  return {
    shown: code(fallback),
    read(raw, _env, problems, name) {
      const value = raw?.toLowerCase();
      if (value === undefined) return fallback;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      problems.push(`${name}=${JSON.stringify(value)}: must be true or false`);
      return fallback;
    },
  };
}

/** Text the setting's own check approves; `check` names the problem, if any. */
function checked<T extends string | undefined>(fallback: T, shown: string, check: (value: string, env: Env) => string | undefined): Reader<T | string> {
  return {
    shown,
    read(raw, env, problems) {
      if (raw === undefined) return fallback;
      const problem = check(raw, env);
      if (problem !== undefined) problems.push(problem);
      return problem === undefined ? raw : fallback;
    },
  };
}

function list(fallback: string, shown = code(fallback)): Reader<string[]> {
  return { shown, read: (raw) => (raw ?? fallback).split(',').map((s) => s.trim()).filter(Boolean) };
}

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

const trustProxy: Reader<false | string[]> = {
  shown: NONE,
  read(raw, _env, problems) {
    if (raw === undefined || raw === 'false') return false;
    if (/^\d+$/.test(raw)) {
      // A hop count trusts whatever the nearest N hops say, so any client that reaches Kupe directly could
      // choose its own address (and so escape the per-IP limit and the backoff, and forge the audit log).
      problems.push(`KUPE_TRUST_PROXY=${JSON.stringify(raw)}: a hop count lets any direct client choose its IP; ` +
        'name the proxies instead (IP addresses, CIDR ranges, loopback, linklocal or uniquelocal)');
      return false;
    }
    const entries = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = entries.filter((e) => !isProxyAddress(e));
    if (bad.length > 0) {
      problems.push(`KUPE_TRUST_PROXY: ${bad.map((b) => JSON.stringify(b)).join(', ')} ` +
        'not an IP address, CIDR range, loopback, linklocal or uniquelocal');
    }
    return entries;
  },
};

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

/** A mail server's URL: smtp (STARTTLS) or smtps, with a host. */
function smtpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'KUPE_SMTP_URL: not a URL (smtp://USER:PASSWORD@HOST:587 or smtps://USER:PASSWORD@HOST:465)';
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return `KUPE_SMTP_URL: must start with smtp:// or smtps://, not ${url.protocol}//`;
  if (url.hostname === '') return 'KUPE_SMTP_URL: names no host';
  return undefined;
}

/** Whether a proxy is trusted: then the direct peer is the proxy, and a per-address cap would cap the proxy. */
const behindProxy = (env: Env) => {
  const raw = env.KUPE_TRUST_PROXY?.trim() ?? '';
  return raw !== '' && raw !== 'false';
};

function define<T>(name: `KUPE_${string}`, table: Setting<T>['table'], reader: Reader<T>, doc: string, shown = reader.shown): Setting<T> {
  return { ...reader, name, table, shown, doc };
}

const server = <T>(name: `KUPE_${string}`, reader: Reader<T>, doc: string, shown?: string) => define(name, 'server', reader, doc, shown);
const oidc = <T>(name: `KUPE_${string}`, reader: Reader<T>, doc: string, shown?: string) => define(name, 'oidc', reader, doc, shown);
const mail = <T>(name: `KUPE_${string}`, reader: Reader<T>, doc: string, shown?: string) => define(name, 'mail', reader, doc, shown);
const leaks = <T>(name: `KUPE_${string}`, reader: Reader<T>, doc: string, shown?: string) => define(name, 'leaks', reader, doc, shown);

/** Where GitHub publishes the keys that sign its secret-scanning reports. */
export const GITHUB_SCANNING_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';
/** The shortest GitLab revocation token taken: a guessable one would let anyone revoke the keys they hold. */
const MIN_REVOCATION_TOKEN_LENGTH = 32;

/** The settings, in the order the tables list them. */
export const SETTINGS = {
  host: server('KUPE_HOST', text('127.0.0.1'), 'Address to listen on. Use `0.0.0.0` to accept connections from other machines.'),
  port: server('KUPE_PORT', integer(8080, 0, 65535), 'Port to listen on (`0`: any free port).'),
  tlsCertFile: server('KUPE_TLS_CERT_FILE', optional('*(none: plain HTTP)*'), 'A PEM certificate chain: Kupe serves HTTPS itself (with `KUPE_TLS_KEY_FILE`), for clients that insist on it such as the `kupe` CLI, without a proxy in front. Both files are read again on `SIGHUP` (a renewed certificate), without dropping a connection; a reload that fails is logged and the old pair kept ([docs/deployment.md](docs/deployment.md), "TLS"). Unset: plain HTTP, the default for loopback and behind a TLS-terminating proxy.'),
  tlsKeyFile: server('KUPE_TLS_KEY_FILE', optional(), "The certificate's private key (PEM), with `KUPE_TLS_CERT_FILE`; keep it mode 0600."),
  databaseUrl: server('KUPE_DATABASE_URL', checked('sqlite:./data/kupe.db', '`sqlite:./data/kupe.db`', (value) =>
    /^sqlite:.+/.test(value) || /^postgres(ql)?:\/\/.+/.test(value) ? undefined
      : `KUPE_DATABASE_URL=${JSON.stringify(value.replace(/\/\/[^@]*@/, '//***@'))}: ` +
        'must be sqlite:PATH (e.g. sqlite:./data/kupe.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE'),
  '`sqlite:PATH`: the SQLite file (folder created if missing; WAL mode). `postgres://USER:PASSWORD@HOST:PORT/DB`: PostgreSQL, for several instances ([docs/deployment.md](docs/deployment.md)).'),
  poolSize: server('KUPE_DB_POOL_SIZE', integer(10, 1, 1000), 'PostgreSQL connections per instance.'),
  connectTimeoutMs: server('KUPE_DB_CONNECT_TIMEOUT_MS', integer(5000, 100, 600_000), 'PostgreSQL: longest wait to open a connection (or for a free one) before the request answers 503.'),
  statementTimeoutMs: server('KUPE_DB_STATEMENT_TIMEOUT_MS', integer(5000, 100, 600_000), "PostgreSQL: `statement_timeout`, and one second later the client's own deadline for a server that answers nothing. SQLite: how long a write waits for another process's lock (without blocking other requests) before answering 503."),
  idleInTransactionTimeoutMs: server('KUPE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', integer(10_000, 100, 3_600_000), 'PostgreSQL: `idle_in_transaction_session_timeout`.'),
  keyCacheSize: server('KUPE_KEY_CACHE_SIZE', integer(10_000, 0, 10_000_000), 'How many valid API keys verification keeps in memory per instance (the least recently used go first; `0`: none). Revocation is still in force on every instance before the DELETE answers: see docs/performance.md, "The key cache".'),
  keyCacheLeaseMs: server('KUPE_KEY_CACHE_LEASE_MS', integer(3000, 300, MAX_KEY_CACHE_LEASE_MS), "PostgreSQL: an instance's lease on the revocation channel, renewed every third of it. An instance that stops renewing (frozen, partitioned, dead) stops using its cache when its lease ends; a DELETE waits at most this long (and a second) for an instance that does not acknowledge."),
  requestTimeoutSeconds: server('KUPE_REQUEST_TIMEOUT_SECONDS', integer(30, 1, 3600), "A request's headers and body must arrive within this (else 408 and the connection closes); a connection silent this long mid-request is closed."),
  keepAliveTimeoutSeconds: server('KUPE_KEEP_ALIVE_TIMEOUT_SECONDS', integer(65, 1, 3600), "Idle keep-alive connections are closed after this; keep it above your load balancer's idle timeout."),
  maxConnections: server('KUPE_MAX_CONNECTIONS', integer(1024, 1, 1_000_000), 'Open connections at most; more are closed at accept (counted in `/metrics`).'),
  maxConnectionsPerAddress: server('KUPE_MAX_CONNECTIONS_PER_ADDRESS', integer((env) => behindProxy(env) ? 0 : 100, 0, 1_000_000, '`100`; `0` (off) when `KUPE_TRUST_PROXY` is set'),
    'Open connections at most from one client address (IPv6: its network, `KUPE_IPV6_PREFIX_BITS`); more are closed at accept (counted in `/metrics`), so one address holding slow connections cannot take every slot. Behind a proxy the direct peer is the proxy: leave it off there and cap clients at the proxy ([docs/deployment.md](docs/deployment.md)).'),
  headersTimeoutSeconds: server('KUPE_HEADERS_TIMEOUT_SECONDS', integer(10, 1, 3600), "A request's headers must arrive within this (at most `KUPE_REQUEST_TIMEOUT_SECONDS`), else 408 and the connection closes."),
  ipv6PrefixBits: server('KUPE_IPV6_PREFIX_BITS', integer(64, 32, 128), 'IPv6 clients are counted per network of this many leading bits (32-128) by the rate limit, the backoff, the sign-in throttle and the per-address connection cap: one host is usually given a whole /64.'),
  maxApiKeys: server('KUPE_MAX_API_KEYS_PER_TENANT', integer(DEFAULT_TENANT_CAPS.maxApiKeys, 1, 1_000_000), 'Active (not revoked) keys one tenant may hold; a create over it is 409 `api_key_limit_reached`. Bounds the cost of a list and what one tenant can take from the others.'),
  maxMembers: server('KUPE_MAX_MEMBERS_PER_TENANT', integer(DEFAULT_TENANT_CAPS.maxMembers, 1, 1_000_000), 'Members one tenant may have; an add over it is 409 `member_limit_reached`.'),
  auditDays: server('KUPE_AUDIT_RETENTION_DAYS', integer(365, 0, 36_500), 'Audit entries older than this are deleted (hourly, in batches), and keys revoked longer ago. `0` keeps both forever.'),
  endedDays: server('KUPE_ENDED_RETENTION_DAYS', integer(30, 1, 3650), 'Ended sessions and used or expired invites are deleted this long after they ended.'),
  metricsToken: server('KUPE_METRICS_TOKEN', optional(), 'When set, `GET /metrics` wants `Authorization: Bearer <token>` (401 otherwise). The metrics are rendered at most once a second, however often they are asked for.'),
  redisUrl: server('KUPE_REDIS_URL', checked(undefined, NONE, (value) => /^rediss?:\/\/.+/.test(value) ? undefined : 'KUPE_REDIS_URL: must be redis://HOST:PORT (or rediss:// for TLS)'),
    '`redis://HOST:PORT`: share the per-IP rate limit and the authentication backoff between instances. Unset: counted in memory. If Redis is unreachable, limits fail open (logged, counted in `/metrics`).'),
  logLevel: server('KUPE_LOG_LEVEL', checked('info', '`info`', (value) => (LOG_LEVELS as readonly string[]).includes(value) ? undefined
    : `KUPE_LOG_LEVEL=${JSON.stringify(value)}: must be one of ${LOG_LEVELS.join(', ')}`) as Reader<LogLevel>,
  '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. JSON lines on stdout; secrets are redacted.'),
  trustProxy: server('KUPE_TRUST_PROXY', trustProxy, 'Proxies allowed to set the client IP through `X-Forwarded-For`: a comma-separated list of IPs, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`. A hop count is refused at start (it would let any direct client choose its IP). Unset: the client IP is the socket\'s.'),
  rateLimit: server('KUPE_RATE_LIMIT', integer(600, 0, 1_000_000), 'Requests per minute per client IP on `/api/v1`. `0` turns the per-IP limit off (benchmarks).'),
  authBackoffAfter: server('KUPE_AUTH_BACKOFF_AFTER', integer(5, 1, 1000), 'Failed authentications from one IP before backoff starts.'),
  authBackoffMaxSeconds: server('KUPE_AUTH_BACKOFF_MAX_SECONDS', integer(300, 1, 86_400), "Ceiling of the backoff's `Retry-After` (it doubles from 1 s)."),
  lastUsedFlushSeconds: server('KUPE_LAST_USED_FLUSH_SECONDS', integer(30, 1, 3600), 'How often pending `lastUsedAt` values are written to the store.'),
  redisPrefix: server('KUPE_REDIS_PREFIX', text('kupe:'), 'Prefix of every Redis key Kupe writes, so several deployments can share one Redis.'),
  shutdownDelaySeconds: server('KUPE_SHUTDOWN_DELAY_SECONDS', integer(5, 0, 300), 'On SIGTERM, how long `/readyz` answers 503 (requests still served) before the instance stops accepting.'),
  sessionIdleMinutes: server('KUPE_SESSION_IDLE_MINUTES', integer(480, 1, 43_200), 'A console session ends after this long without a request.'),
  sessionMaxHours: server('KUPE_SESSION_MAX_HOURS', integer(168, 1, 8760), 'A console session ends this long after sign-in, whatever happens.'),
  passwordSignIn: server('KUPE_PASSWORD_SIGN_IN', boolean(true), '`false`: the console takes no Kupe passwords (sign-in through the identity provider only). Needs `KUPE_OIDC_ISSUER` and `KUPE_OIDC_CLIENT_ID`, else nobody could sign in; Kupe refuses to start.'),
  gatewayPolicyFile: server('KUPE_GATEWAY_POLICY', optional('*(the default policy)*'), 'A JSON file: what `/api/v1/gateway/verify` asks of the requests gateways (nginx, Caddy) send it, by method and path, and where their tenant comes from ([docs/gateway.md](docs/gateway.md)). Checked at start, every problem named. Default: tenant from `/api/v1/tenants/{tenant}/...`, `GET` and `HEAD` need readonly, every other method admin.'),
  plansFile: server('KUPE_PLANS_FILE', optional('*(display names only)*'), 'A JSON file describing the plans `GET /api/v1/plans` lists (display name, platform fee, resource and observability pools, cluster limit: what the `kupe` CLI and the Terraform provider read; [docs/behaviour.md](docs/behaviour.md), "Plans"). Checked at start, every problem named. Unset: each plan with its display name only.'),
  webhookAllowPrivate: server('KUPE_WEBHOOK_ALLOW_PRIVATE', boolean(false), '`true`: webhook endpoints may be `http` and may resolve to loopback, private, link-local and other reserved addresses (a closed network; the tests). Off: `https` only, and such destinations are refused when connecting, on the address actually connected to ([docs/notifications.md](docs/notifications.md)).'),
  webhookTimeoutSeconds: server('KUPE_WEBHOOK_TIMEOUT_SECONDS', integer(10, 1, 60), 'How long one webhook delivery may take (connect, send, answer) before it counts as failed and is retried.'),
  tenantAdminsChangePlan: server('KUPE_TENANT_ADMINS_CHANGE_PLAN', boolean(false), "`true`: tenant admins may move their tenant to another plan through `PATCH /api/v1/tenants/{tenant}`. Off: plans are the operator's (billing's) decision, `kupe-server tenants set-plan`; a PATCH with another plan is 403 `plan_change_forbidden`, and the console shows the plan read-only."),

  issuer: oidc('KUPE_OIDC_ISSUER', checked(undefined, '*(none: OIDC off)*', (value) => urlProblem('KUPE_OIDC_ISSUER', value)),
    "The issuer, exactly as the provider's discovery document states it (trailing slash included). Kupe reads `<issuer>/.well-known/openid-configuration` and refuses a document that names another issuer. Must be `https`; `http` is allowed only for `localhost`, `127.0.0.1` and `[::1]` (a provider on the same machine, for development and the tests)."),
  clientId: oidc('KUPE_OIDC_CLIENT_ID', optional(), "The console's client at the provider. Unset: no console sign-in through the provider; access tokens are still accepted."),
  clientSecret: oidc('KUPE_OIDC_CLIENT_SECRET', optional(), "The client's secret, for a confidential client (sent with HTTP Basic when the provider supports it, else in the body). Unset: a public client, protected by PKCE alone."),
  audience: oidc('KUPE_OIDC_AUDIENCE', { shown: 'the client id', read: (raw, env, problems, name) => list(env.KUPE_OIDC_CLIENT_ID?.trim() ?? '').read(raw, env, problems, name) },
    "Comma-separated: an access token's `aud` must name one of these. Required when there is no client id."),
  redirectUri: oidc('KUPE_OIDC_REDIRECT_URI', checked(undefined, '*(this request\'s origin)*`/oidc/callback`', (value) => urlProblem('KUPE_OIDC_REDIRECT_URI', value)),
    'Where the provider sends the browser back; register exactly this URL at the provider. Set it when Kupe is behind a proxy that rewrites the host or scheme.'),
  providerName: oidc('KUPE_OIDC_PROVIDER_NAME', text('your identity provider'), "The name on the console's button."),
  scopes: oidc('KUPE_OIDC_SCOPES', text('openid email profile'), 'Scopes the console asks for. Add `groups` for providers that want it (Dex).'),
  groupsClaim: oidc('KUPE_OIDC_GROUPS_CLAIM', text('groups'), "The claim holding the person's groups, in access tokens and ID tokens."),
  adminGroup: oidc('KUPE_OIDC_ADMIN_GROUP', text('{tenant}-admins'), 'The group name that makes its member an admin of a tenant. Holds `{tenant}` exactly once; the rest is literal text.'),
  readonlyGroup: oidc('KUPE_OIDC_READONLY_GROUP', text('{tenant}-readonly'), 'The same, for readonly.'),
  algorithms: oidc('KUPE_OIDC_ALGORITHMS', {
    shown: '`RS256,PS256,ES256,EdDSA`',
    read(raw, env, problems, name) {
      const algorithms = list('RS256,PS256,ES256,EdDSA').read(raw, env, problems, name);
      const unknown = algorithms.filter((a) => !(OIDC_ALGORITHMS as readonly string[]).includes(a));
      if (unknown.length > 0) {
        problems.push(`KUPE_OIDC_ALGORITHMS: ${unknown.join(', ')} not allowed (asymmetric only: ${OIDC_ALGORITHMS.join(', ')})`);
      }
      return algorithms;
    },
  }, 'Signature algorithms accepted. Asymmetric only: `none` and the HMAC algorithms (`HS256`...) are refused at start, because with HMAC the "key" would be the provider\'s public key, which anyone has.'),
  clockToleranceSeconds: oidc('KUPE_OIDC_CLOCK_SKEW_SECONDS', integer(60, 0, 300), 'Leeway for `exp` and `nbf` (0-300).'),
  jwksRefreshSeconds: oidc('KUPE_OIDC_JWKS_REFRESH_SECONDS', integer(300, 30, 86_400), "How often the provider's keys are fetched again in the background (30 s to a day)."),
  acceptMissingEmailVerified: oidc('KUPE_OIDC_ACCEPT_MISSING_EMAIL_VERIFIED', boolean(false), '`true`: an access token **without** `email_verified` is taken (for a provider that never sends it, and whose addresses you trust). A claim that is there must be the JSON `true` either way: `false`, `"false"`, `0` or `"true"` are refused.'),
  githubScanningKeysUrl: leaks('KUPE_GITHUB_SCANNING_KEYS_URL', checked(GITHUB_SCANNING_KEYS_URL, `\`${GITHUB_SCANNING_KEYS_URL}\``,
    (value) => value === 'off' ? undefined : urlProblem('KUPE_GITHUB_SCANNING_KEYS_URL', value)),
  "Where the keys that sign GitHub's secret-scanning reports are read (`POST /api/v1/secret-scanning/github`): GitHub's own document by default, fetched when the first report arrives, again when a report names a key not held (at most every 10 s) and when the keys held are an hour old. `https`; `http` only on `localhost`, `127.0.0.1`, `[::1]` (tests). `off`: the route answers 404 `leak_reports_off`."),
  gitlabRevocationToken: leaks('KUPE_GITLAB_REVOCATION_TOKEN', checked(undefined, '*(none: the GitLab routes are off)*',
    (value) => value.length >= MIN_REVOCATION_TOKEN_LENGTH ? undefined
      : `KUPE_GITLAB_REVOCATION_TOKEN: must be at least ${MIN_REVOCATION_TOKEN_LENGTH} characters (for example the output of: openssl rand -hex 32)`),
  "The token GitLab's secret detection sends (the raw token in `Authorization`, GitLab's `secret_detection_token_revocation_token`) to `/api/v1/secret-scanning/gitlab/v1/...`. At least 32 characters. Unset: those routes answer 404 `leak_reports_off`."),

  smtpUrl: mail('KUPE_SMTP_URL', checked(undefined, '*(none: email off)*', (value) => smtpUrlProblem(value)),
    '`smtp://USER:PASSWORD@HOST:587` (STARTTLS, required unless the host is loopback) or `smtps://USER:PASSWORD@HOST:465` (TLS from the start): the mail server Kupe sends through. Unset: email is off; invite links are shown to the admin who adds a member, as before. Set: `KUPE_MAIL_FROM` and `KUPE_PUBLIC_URL` are required.'),
  mailFrom: mail('KUPE_MAIL_FROM', optional(), 'The sender of every mail, e.g. `Kupe <kupe@example.com>` (an address your mail server may send as).'),
  publicUrl: mail('KUPE_PUBLIC_URL', checked(undefined, NONE, (value) => urlProblem('KUPE_PUBLIC_URL', value)),
    "The console's address as people reach it, e.g. `https://kupe.example.com`: the links in mails (invites, password resets, the keys page) start with it. Never taken from a request's `Host`, which the sender of a request chooses. `https`; `http` only on `localhost`, `127.0.0.1`, `[::1]`."),

  verifiedTokenCacheSeconds: oidc('KUPE_OIDC_TOKEN_CACHE_SECONDS', integer(300, 0, 3600), 'How long a verified access token is remembered (by its SHA-256), so that its next use costs no signature check: never past its `exp`, nor past this, whatever `exp` the token claims (0: none; at most 3600).'),
} as const;

export type SettingValues = { -readonly [K in keyof typeof SETTINGS]: ReturnType<(typeof SETTINGS)[K]['read']> };

/** Variables the tests, the benchmarks and the scripts read (README.md, "Tests"): not settings, never warned of. */
const HARNESS_VARIABLES = /^KUPE_(?:TEST_[A-Z0-9_]+|CHROMIUM|MAILPIT|SCHEMATHESIS_SEED|BENCH_[A-Z0-9_]+)$/;

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(next[j - 1]! + 1, row[j]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * The KUPE_* variables of the environment that are no setting (a typo such as KUPE_POTR would otherwise be
 * ignored without a word): one warning each, naming the setting it most likely meant.
 */
export function unknownSettingWarnings(env: Env): string[] {
  const names = (Object.values(SETTINGS) as Setting<unknown>[]).map((s) => s.name);
  return Object.keys(env).filter((name) => name.startsWith('KUPE_') && !names.includes(name as `KUPE_${string}`) && !HARNESS_VARIABLES.test(name))
    .sort().map((name) => {
      const closest = [...names].sort((a, b) => editDistance(name, a) - editDistance(name, b))[0]!;
      const near = editDistance(name, closest) <= Math.max(2, Math.floor(name.length / 5));
      return `${name} is not a Kupe setting and is ignored${near ? ` (did you mean ${closest}?)` : ''}; the settings are listed in README.md`;
    });
}

/**
 * Reads the settings of one table into `values`, adding the problems of all of them to `problems`.
 * (The identity provider's are read only when KUPE_OIDC_ISSUER is set: src/config.ts.)
 */
export function readSettings(env: Env, table: Setting<unknown>['table'], values: Partial<SettingValues>, problems: string[]): void {
  for (const [key, setting] of Object.entries(SETTINGS) as [keyof SettingValues, Setting<unknown>][]) {
    if (setting.table !== table) continue;
    const raw = env[setting.name]?.trim();
    (values as Record<string, unknown>)[key] = setting.read(raw === '' ? undefined : raw, env, problems, setting.name);
  }
}

/**
 * A Markdown table of the settings of one table: README.md's (which ends with one row naming the identity
 * provider's settings) or docs/oidc.md's.
 */
export function settingsTable(table: Setting<unknown>['table']): string {
  const of = (t: Setting<unknown>['table']) => (Object.values(SETTINGS) as Setting<unknown>[]).filter((s) => s.table === t);
  const rows = of(table).map((s) => `| \`${s.name}\` | ${s.shown} | ${s.doc} |`);
  if (table === 'server') {
    rows.push(`| ${of('oidc').map((s) => `\`${s.name}\``).join(', ')} | *(none: off)* | An OpenID Connect provider (Authentik, ` +
      'Keycloak, Dex...): its access tokens work as bearer tokens, with tenants from the `groups` claim (`{tenant}-admins`, ' +
      '`{tenant}-readonly`), and the console offers "Sign in with ...". Every setting, how roles combine with Kupe\'s members ' +
      'list, and worked examples: [docs/oidc.md](docs/oidc.md). |');
    rows.push(`| ${of('leaks').map((s) => `\`${s.name}\``).join(', ')} | see [docs/leaks.md](docs/leaks.md) | Leaked keys reported by ` +
      "GitHub's secret scanning (on by default: GitHub's signature is checked against its published keys) and by a self-managed " +
      "GitLab's secret detection (off until its token is set) are revoked at once. Every setting and how to register Kupe's key " +
      'format with each: [docs/leaks.md](docs/leaks.md). |');
    rows.push(`| ${of('mail').map((s) => `\`${s.name}\``).join(', ')} | *(none: email off)* | Email through your mail server: ` +
      'invite links are mailed to the invited address (never shown to the admin), people can reset a forgotten password, and ' +
      "a tenant's admins are warned before keys expire, when one leaks, when admins change and when a webhook fails. Every " +
      'setting and each mail: [docs/notifications.md](docs/notifications.md). |');
  }
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
