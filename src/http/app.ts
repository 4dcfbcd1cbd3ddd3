import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Server } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance, type FastifyRequest } from 'fastify';
import { type Config, mailOn } from '../config.ts';
import type { SessionSettings } from '../domain/sessions.ts';
import { AppError } from '../domain/errors.ts';
import type { Store } from '../domain/store.ts';
import type { GatewayPolicy } from '../gateway/policy.ts';
import type { Limits } from '../limits/index.ts';
import type { Clock } from '../domain/time.ts';
import type { LastUsedTracker } from '../domain/last-used.ts';
import type { StoreFaults } from './store-faults.ts';
import { addressKey, RATE_WINDOW_SECONDS } from '../limits/policy.ts';
import cookie from '@fastify/cookie';
import { capConnectionsPerAddress } from './connections.ts';
import { registerConsole } from './console.ts';
import { registerAnswerHeaders } from './security-headers.ts';
import { registerRequestLog, requestLogger } from './request-log.ts';
import { clientErrorHandler } from './client-errors.ts';
import { registerErrorHandling } from './errors.ts';
import { frameworkErrors } from './framework-errors.ts';
import { BODY_LIMIT_BYTES, MAX_PARAM_LENGTH } from './request-limits.ts';
import { type Access, type BearerTokens, registerGuard } from './guard.ts';
import { appendRouteHook } from './route-hooks.ts';
import { type Metrics, registerMetrics } from './metrics.ts';
import { API_DOCS_PREFIX, registerOpenApi } from './openapi.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { auditLogRoutes } from './routes/audit-log.ts';
import type { RouteDeps } from './routes/context.ts';
import { gatewayRoutes } from './routes/gateway.ts';
import { healthRoutes } from './routes/health.ts';
import { passwordResetRoutes } from './routes/password-resets.ts';
import { planRoutes } from './routes/plans.ts';
import type { PlanCatalogue } from '../domain/plans.ts';
import { inviteRoutes } from './routes/invites.ts';
import { leakReportRoutes, type Scanners } from './routes/leak-reports.ts';
import { memberRoutes } from './routes/members.ts';
import { type ProviderSignIn, providerSignInRoutes } from './routes/provider-sign-in.ts';
import { sessionRoutes } from './routes/session.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import type { WebhookWorker } from '../webhook-worker.ts';
import type { MailWorker } from '../mail-worker.ts';
import { whoamiRoutes } from './routes/whoami.ts';
import { compileValidator, MAX_JSON_DEPTH, nestedDeeperThan } from './schema-compiler.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids: this process's random prefix and a counter (`3f9c1a2b7d4e-1a2b`). Unique across instances
 * and restarts without a random draw per request (a UUID each cost about a tenth of a bare route's time);
 * an id only names a request, it grants nothing.
 */
const REQUEST_ID_PREFIX = randomBytes(6).toString('hex');
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter += 1;
  return `${REQUEST_ID_PREFIX}-${requestCounter.toString(36)}`;
}

/** The settings the HTTP app reads. */
export type AppConfig = Pick<Config, 'trustProxy' | 'rateLimit' | 'authBackoffAfter' | 'authBackoffMaxSeconds'
  | 'sessionIdleMinutes' | 'sessionMaxHours' | 'requestTimeoutSeconds' | 'keepAliveTimeoutSeconds' | 'maxConnections'
  | 'tenantCaps' | 'metricsToken' | 'passwordSignIn' | 'maxConnectionsPerAddress' | 'tenantAdminsChangePlan'
  | 'headersTimeoutSeconds' | 'ipv6PrefixBits' | 'webhookAllowPrivate' | 'mail'>;

export interface RouteAccess {
  method: string;
  /** The route's path as registered (`/api/v1/tenants/:tenant`). */
  url: string;
  access: Access;
}

/** The long-lived objects the app uses, made by src/services.ts. */
export interface AppServices {
  clock: Clock;
  logger: FastifyBaseLogger;
  metrics: Metrics;
  /** Database faults, from requests and from background work alike: logged once per incident, read by /readyz. */
  faults: StoreFaults;
  /** lastUsedAt values waiting to be written (flushed by the root's timer and at stop). */
  lastUsed: LastUsedTracker;
  /** The identity provider's access tokens as bearer credentials; null without KUPE_OIDC_ISSUER. */
  accessTokens: BearerTokens | null;
  /** The console's "Sign in with ..."; null without KUPE_OIDC_CLIENT_ID. */
  providerSignIn: ProviderSignIn | null;
  /** What /api/v1/gateway/verify decides by (KUPE_GATEWAY_POLICY, or the default policy). */
  gatewayPolicy: GatewayPolicy;
  /** What GET /api/v1/plans lists (KUPE_PLANS_FILE, or display names only). */
  plans: PlanCatalogue;
  /** Who may report leaked keys (docs/leaks.md): GitHub's signing keys, GitLab's token; null/undefined: off. */
  scanners: Scanners;
  /** Sends the outbox's webhook deliveries (src/webhook-worker.ts); the app only nudges it. */
  webhookWorker: WebhookWorker;
  /** Sends the mail outbox (src/mail-worker.ts); null when email is off. The app only nudges it. */
  mailWorker: MailWorker | null;
}

/**
 * What the app is built from: the settings, the store, the limits and the services, each made by the
 * composition root (src/server.ts) or the tests' helper (test/helpers.ts) through the same src/services.ts.
 * Nothing is optional and nothing is made here in its place.
 */
export interface AppDeps extends AppServices {
  config: AppConfig;
  store: Store;
  /** The per-IP limits and password-attempt waits (src/limits: in memory, or shared through Redis). */
  limits: Limits;
  /** The built console to serve under `/` (console/dist); null: the API only. */
  consoleDir: string | null;
  /** HTTPS: the certificate and key (KUPE_TLS_*_FILE, src/services.ts readTlsFiles); null: plain HTTP. */
  tls: { cert: Buffer; key: Buffer } | null;
}

export interface KupeApp {
  app: FastifyInstance;
  /** Readiness turns false; used by graceful shutdown before closing. */
  drain: () => void;
  /** Every route with its access rule, as registered: the shared authentication tests walk this list. */
  routes: readonly RouteAccess[];
}

/**
 * Builds the HTTP app (no listen, not yet ready: listen or inject make it
 * ready): the one place routes, hooks and plugins are wired.
 */
export async function buildApp(deps: AppDeps): Promise<KupeApp> {
  const { clock, lastUsed, metrics, faults, config } = deps;
  let draining = false;

  const { ipv6PrefixBits } = config;
  const app = Fastify(fastifyOptions(config, deps.logger, metrics, deps.tls)).withTypeProvider<TypeBoxTypeProvider>();
  app.server.maxConnections = config.maxConnections;
  app.server.on('drop', () => metrics.connectionsDropped.inc());
  capConnectionsPerAddress(app.server, config.maxConnectionsPerAddress, (ip) => addressKey(ip, ipv6PrefixBits),
    () => metrics.connectionsRefusedPerAddress.inc());
  // Limits, backoff and throttles count a client by this: its IPv4 address, or its IPv6 network.
  app.decorateRequest('clientAddress', { getter(this: FastifyRequest) { return addressKey(this.ip, ipv6PrefixBits); } });

  // Cookies are parsed when a route asks for one (cookies.ts), not on every request.
  await app.register(cookie, { hook: false });
  registerAnswerHeaders(app, API_DOCS_PREFIX);
  app.setValidatorCompiler(compileValidator);
  // Only JSON bodies: text/plain gets 415 like any other type, instead of a 400 about the body's shape.
  app.removeContentTypeParser('text/plain');
  // No request body of Kupe's nests deeper than a few levels; a deeper one is refused before it is walked
  // (only routes that take a body pay for the check).
  app.addHook('onRoute', (route) => {
    if (route.schema?.body !== undefined) route.preValidation = [refuseDeepBodies, ...[route.preValidation ?? []].flat()];
  });
  refuseUnknownQueryParameters(app);
  const routes: RouteAccess[] = [];
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) return;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
  });
  // A change that answered well may have written webhook events or mails: their workers look at once instead
  // of at their next poll. Only routes that can change something carry the hook (not reads, and not the
  // gateway's verify, every platform request's path).
  app.addHook('onRoute', (route) => {
    if (route.config?.access === 'gateway' || [route.method].flat().every((m) => m === 'GET' || m === 'HEAD')) return;
    appendRouteHook(route, 'onResponse', (_request, reply, done) => {
      if (reply.statusCode < 300) {
        deps.webhookWorker.nudge();
        deps.mailWorker?.nudge();
      }
      done();
    });
  });
  registerErrorHandling(app, { describeFault: (error) => deps.store.describeFault(error), faults });
  acceptEmptyDeleteBodies(app);
  registerMetrics(app, metrics, config.metricsToken, clock);
  registerRequestLog(app, deps.logger);
  const sessions = sessionSettings(deps.config);
  registerGuard(app, {
    store: deps.store, limits: deps.limits.clients, lastUsed, metrics, clock, sessions, accessTokens: deps.accessTokens,
    gatewayPolicy: deps.gatewayPolicy,
  }, RATE_WINDOW_SECONDS);

  await registerOpenApi(app);

  if (deps.consoleDir !== null && !(await registerConsole(app, deps.consoleDir))) {
    app.log.warn({ dir: deps.consoleDir }, 'the console is not built (npm run build:console); serving the API only');
  }

  const routeDeps: RouteDeps = {
    store: deps.store, lastUsed, clock, sessions, caps: config.tenantCaps,
    passwordSignIn: config.passwordSignIn, adminsChangePlan: config.tenantAdminsChangePlan, mail: mailOn(config),
  };
  healthRoutes(app, deps.store, faults, () => draining);
  whoamiRoutes(app);
  planRoutes(app, deps.plans);
  gatewayRoutes(app);
  tenantRoutes(app, routeDeps);
  memberRoutes(app, routeDeps);
  apiKeyRoutes(app, routeDeps);
  auditLogRoutes(app, routeDeps);
  sessionRoutes(app, routeDeps, deps.limits.attempts);
  inviteRoutes(app, routeDeps);
  passwordResetRoutes(app, routeDeps, deps.limits.attempts);
  providerSignInRoutes(app, routeDeps, deps.providerSignIn);
  webhookRoutes(app, { ...routeDeps, webhookUrls: { allowHttp: config.webhookAllowPrivate } });
  await leakReportRoutes(app, { store: deps.store, clock, mail: routeDeps.mail, limits: deps.limits.clients, metrics, scanners: deps.scanners });

  return { app, drain: () => { draining = true; }, routes };
}

/**
 * Fastify's options: the limits on a request (body size, path parameters, headers and request timeouts,
 * idle keep-alive), how framework and parser errors are answered, and the request id.
 */
function fastifyOptions(config: AppConfig, logger: FastifyBaseLogger, metrics: Metrics, tls: AppDeps['tls']): FastifyHttpOptions<Server> {
  const requestTimeoutMs = config.requestTimeoutSeconds * 1000;
  const headersTimeoutMs = Math.min(requestTimeoutMs, config.headersTimeoutSeconds * 1000);
  const server = { headersTimeout: headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) };
  return {
    loggerInstance: logger,
    // One line per answer (request-log.ts), and a request's child logger only when it logs.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLogger,
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: MAX_PARAM_LENGTH },
    // Headers must arrive within the headers timeout and headers and body within the request timeout
    // (checked every second, not Node's 30 s), a connection silent that long mid-request is closed, and idle
    // keep-alive connections outlive a load balancer's own idle timeout, so that the balancer closes them.
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    // HTTPS (KUPE_TLS_*): the same server options, on Node's https server (its secure context replaced on
    // SIGHUP by src/server.ts). The app's type stays an HTTP server's: everything above TLS is the same.
    ...(tls === null ? { http: server } : { https: { ...tls, ...server } } as unknown as object),
    frameworkErrors,
    clientErrorHandler: clientErrorHandler((code) => metrics.clientErrors.inc({ code })),
    // A well-formed X-Request-Id from a proxy is kept, so one id follows a request end to end.
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      // ...unless it looks like a raw key: then it would be logged on every line of the request.
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) && !/^kupe_/i.test(incoming) ? incoming : nextRequestId();
    },
  };
}

async function refuseDeepBodies(request: FastifyRequest) {
  if (typeof request.body === 'object' && request.body !== null && nestedDeeperThan(request.body, MAX_JSON_DEPTH)) {
    throw new AppError('invalid_json', `request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/** The console session lifetimes, in the seconds the domain counts. */
export function sessionSettings(config: Pick<Config, 'sessionIdleMinutes' | 'sessionMaxHours'>): SessionSettings {
  return { idleSeconds: config.sessionIdleMinutes * 60, absoluteSeconds: config.sessionMaxHours * 3600 };
}

/**
 * An API route without a query-string schema takes no query parameters: an
 * unknown one is a 400 that names it (docs/errors.md), never silently ignored.
 */
function refuseUnknownQueryParameters(app: FastifyInstance) {
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined) return;
    route.schema ??= {};
    route.schema.querystring ??= { type: 'object', properties: {}, additionalProperties: false };
  });
}

/** DELETE may carry a JSON body (or an empty one with a JSON content type); it is accepted and ignored. */
function acceptEmptyDeleteBodies(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    if (body === '' && request.method === 'DELETE') {
      done(null, undefined);
      return;
    }
    void parseJson(request, body as string, done);
  });
}
