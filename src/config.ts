import type { DatabaseTuning } from './store/tuning.ts';
import type { RetentionSettings } from './domain/retention.ts';
import { groupTemplateProblems } from './domain/provider-groups.ts';
import type { TenantCaps } from './domain/tenants.ts';
import type { MailOn } from './domain/mail.ts';
import { type Env, type LogLevel, readSettings, type SettingValues } from './settings.ts';

export { LOG_LEVELS, type LogLevel, OIDC_ALGORITHMS } from './settings.ts';

export interface Config {
  host: string;
  port: number;
  /** HTTPS served by Kupe itself: the PEM files, read at start and on SIGHUP; undefined: plain HTTP. */
  tls: { certFile: string; keyFile: string } | undefined;
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
  /** The gateway policy's file (docs/gateway.md); undefined: the default policy. */
  gatewayPolicyFile: string | undefined;
  /** The plan catalogue's file (docs/behaviour.md, "Plans"); undefined: display names only. */
  plansFile: string | undefined;
  /** The OpenID Connect provider whose access tokens the API takes and whose sign-in the console offers. */
  oidc: OidcConfig | undefined;
  /** Leak reports from secret scanners (docs/leaks.md). */
  leaks: LeakReportConfig;
  /** Webhook endpoints may be http and private addresses (closed networks, tests). */
  webhookAllowPrivate: boolean;
  /** One webhook delivery's deadline. */
  webhookTimeoutSeconds: number;
  /** Email (docs/notifications.md); undefined: off. */
  mail: MailConfig | undefined;
}

export interface MailConfig {
  /** smtp:// (STARTTLS) or smtps://, with its credentials. */
  smtpUrl: string;
  /** The From of every mail. */
  from: string;
  /** The console's public address: where the links in mails point. */
  publicUrl: string;
}

export interface LeakReportConfig {
  /** Where GitHub's secret-scanning keys are read; undefined: GitHub's reports are off. */
  githubKeysUrl: string | undefined;
  /** What GitLab's secret detection sends in Authorization; undefined: GitLab's routes are off. */
  gitlabToken: string | undefined;
}

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

/**
 * Reads and validates every KUPE_* setting once (src/settings.ts lists them). Throws one error that lists
 * every bad value; returns a frozen object. Nothing else reads process.env.
 */
export function loadConfig(env: Env): Readonly<Config> {
  const problems: string[] = [];
  const v: Partial<SettingValues> = {};
  readSettings(env, 'server', v, problems);
  readSettings(env, 'leaks', v, problems);
  readSettings(env, 'mail', v, problems);
  const values = v as SettingValues;
  const config: Config = {
    host: values.host, port: values.port, databaseUrl: values.databaseUrl, logLevel: values.logLevel,
    tls: values.tlsCertFile !== undefined && values.tlsKeyFile !== undefined ? Object.freeze({ certFile: values.tlsCertFile, keyFile: values.tlsKeyFile }) : undefined,
    database: Object.freeze({
      poolSize: values.poolSize, connectTimeoutMs: values.connectTimeoutMs, statementTimeoutMs: values.statementTimeoutMs,
      idleInTransactionTimeoutMs: values.idleInTransactionTimeoutMs, keyCacheSize: values.keyCacheSize, keyCacheLeaseMs: values.keyCacheLeaseMs,
    }),
    requestTimeoutSeconds: values.requestTimeoutSeconds, keepAliveTimeoutSeconds: values.keepAliveTimeoutSeconds,
    maxConnections: values.maxConnections, maxConnectionsPerAddress: values.maxConnectionsPerAddress,
    headersTimeoutSeconds: values.headersTimeoutSeconds, ipv6PrefixBits: values.ipv6PrefixBits,
    retention: Object.freeze({ auditDays: values.auditDays, endedDays: values.endedDays }),
    metricsToken: values.metricsToken,
    tenantCaps: Object.freeze({ maxApiKeys: values.maxApiKeys, maxMembers: values.maxMembers }),
    trustProxy: values.trustProxy, redisUrl: values.redisUrl, redisPrefix: values.redisPrefix,
    rateLimit: values.rateLimit, authBackoffAfter: values.authBackoffAfter, authBackoffMaxSeconds: values.authBackoffMaxSeconds,
    lastUsedFlushSeconds: values.lastUsedFlushSeconds, shutdownDelaySeconds: values.shutdownDelaySeconds,
    sessionIdleMinutes: values.sessionIdleMinutes, sessionMaxHours: values.sessionMaxHours,
    passwordSignIn: values.passwordSignIn, tenantAdminsChangePlan: values.tenantAdminsChangePlan,
    gatewayPolicyFile: values.gatewayPolicyFile, plansFile: values.plansFile,
    webhookAllowPrivate: values.webhookAllowPrivate, webhookTimeoutSeconds: values.webhookTimeoutSeconds,
    oidc: oidcConfig(env, problems),
    mail: mailConfig(values, problems),
    leaks: Object.freeze({
      githubKeysUrl: values.githubScanningKeysUrl === 'off' ? undefined : values.githubScanningKeysUrl,
      gitlabToken: values.gitlabRevocationToken,
    }),
  };
  if ((values.tlsCertFile === undefined) !== (values.tlsKeyFile === undefined)) {
    problems.push('KUPE_TLS_CERT_FILE and KUPE_TLS_KEY_FILE go together: set both (HTTPS) or neither (plain HTTP)');
  }
  if (!config.passwordSignIn && config.oidc?.clientId === undefined) {
    problems.push('KUPE_PASSWORD_SIGN_IN=false needs KUPE_OIDC_ISSUER and KUPE_OIDC_CLIENT_ID: otherwise nobody can sign in to the console');
  }
  if (problems.length > 0) {
    throw new Error(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return Object.freeze(config);
}

/** What the domain is told of email (src/domain/mail.ts): on, and where its links point; undefined: off. */
export function mailOn(config: Pick<Config, 'mail'>): MailOn | undefined {
  return config.mail && { consoleUrl: config.mail.publicUrl };
}

/** Email: on with KUPE_SMTP_URL, which then needs a sender and the console's public address. */
function mailConfig(values: SettingValues, problems: string[]): MailConfig | undefined {
  if (values.smtpUrl === undefined) {
    for (const [name, value] of [['KUPE_MAIL_FROM', values.mailFrom], ['KUPE_PUBLIC_URL', values.publicUrl]] as const) {
      if (value !== undefined) problems.push(`${name} is set but KUPE_SMTP_URL is not (email is off without a mail server)`);
    }
    return undefined;
  }
  if (values.mailFrom === undefined) problems.push('KUPE_SMTP_URL needs KUPE_MAIL_FROM: the sender of every mail, e.g. "Kupe <kupe@example.com>"');
  if (values.publicUrl === undefined) problems.push("KUPE_SMTP_URL needs KUPE_PUBLIC_URL: the console's address as people reach it, where the links in mails point");
  return Object.freeze({ smtpUrl: values.smtpUrl, from: values.mailFrom ?? '', publicUrl: (values.publicUrl ?? '').replace(/\/+$/, '') });
}

/** The KUPE_OIDC_* settings; undefined when KUPE_OIDC_ISSUER is not set (then no other may be). */
function oidcConfig(env: Env, problems: string[]): OidcConfig | undefined {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  if (!set('KUPE_OIDC_ISSUER')) {
    for (const name of ['KUPE_OIDC_CLIENT_ID', 'KUPE_OIDC_CLIENT_SECRET', 'KUPE_OIDC_AUDIENCE']) {
      if (set(name)) problems.push(`${name} is set but KUPE_OIDC_ISSUER is not`);
    }
    return undefined;
  }
  const v: Partial<SettingValues> = {};
  readSettings(env, 'oidc', v, problems);
  const values = v as SettingValues;
  if (values.audience.length === 0) problems.push('KUPE_OIDC_AUDIENCE: required when KUPE_OIDC_CLIENT_ID is not set (the aud access tokens carry)');
  const templates = { adminGroup: values.adminGroup, readonlyGroup: values.readonlyGroup };
  problems.push(...groupTemplateProblems(templates, { adminGroup: 'KUPE_OIDC_ADMIN_GROUP', readonlyGroup: 'KUPE_OIDC_READONLY_GROUP' }));
  return Object.freeze({
    issuer: values.issuer ?? '', audience: values.audience, clientId: values.clientId, clientSecret: values.clientSecret,
    redirectUri: values.redirectUri, providerName: values.providerName, scopes: values.scopes, groupsClaim: values.groupsClaim,
    ...templates, algorithms: values.algorithms, clockToleranceSeconds: values.clockToleranceSeconds,
    jwksRefreshSeconds: values.jwksRefreshSeconds, acceptMissingEmailVerified: values.acceptMissingEmailVerified,
    verifiedTokenCacheSeconds: values.verifiedTokenCacheSeconds,
  });
}
