import { randomUUID } from 'node:crypto';
import Fastify, {} from 'fastify';
import { LastUsedTracker } from "../domain/last-used.js";
import { DEFAULT_TENANT_CAPS } from "../domain/tenants.js";
import { MemoryAttemptLimiter } from "./attempt-limits.js";
import { MemoryClientLimits } from "./client-limits.js";
import { registerConsole } from "./console.js";
import { RedisClientLimits } from "./redis-limits.js";
import { BODY_LIMIT_BYTES, clientErrorHandler, frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandling } from "./errors.js";
import { registerGuard } from "./guard.js";
import { Metrics, registerMetrics } from "./metrics.js";
import { registerOpenApi } from "./openapi.js";
import { apiKeyRoutes } from "./routes/api-keys.js";
import { auditLogRoutes } from "./routes/audit-log.js";
import { healthRoutes } from "./routes/health.js";
import { inviteRoutes } from "./routes/invites.js";
import { memberRoutes } from "./routes/members.js";
import { sessionRoutes } from "./routes/session.js";
import { tenantRoutes } from "./routes/tenants.js";
import { whoamiRoutes } from "./routes/whoami.js";
import { StoreFaults } from "./store-faults.js";
import { compileValidator } from "./validation.js";
const RATE_WINDOW_SECONDS = 60;
/** Password attempts wait at most this long (console sign-in, password change). */
const PASSWORD_BACKOFF_MAX_SECONDS = 900;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * Builds the HTTP app (no listen, not yet ready: listen or inject make it
 * ready): the one place routes, hooks and plugins are wired.
 */
export async function buildApp(deps) {
    const clock = deps.clock ?? (() => new Date());
    const lastUsed = deps.lastUsed ?? new LastUsedTracker(deps.store.apiKeys);
    const metrics = deps.metrics ?? new Metrics();
    const limitSettings = {
        perWindow: deps.config.rateLimit,
        windowMs: RATE_WINDOW_SECONDS * 1000,
        backoffAfter: deps.config.authBackoffAfter,
        backoffMaxSeconds: deps.config.authBackoffMaxSeconds,
    };
    let draining = false;
    const requestTimeoutMs = deps.config.requestTimeoutSeconds * 1000;
    const app = Fastify({
        loggerInstance: deps.logger,
        trustProxy: deps.config.trustProxy,
        bodyLimit: BODY_LIMIT_BYTES,
        routerOptions: { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: MAX_PARAM_LENGTH },
        // Headers and body must arrive within the request timeout (checked every second, not Node's 30 s), a
        // connection silent that long mid-request is closed, and idle keep-alive connections outlive a load
        // balancer's own idle timeout, so that the balancer, not Kupe, closes them.
        requestTimeout: requestTimeoutMs,
        connectionTimeout: requestTimeoutMs,
        keepAliveTimeout: deps.config.keepAliveTimeoutSeconds * 1000,
        http: { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, requestTimeoutMs) },
        frameworkErrors,
        clientErrorHandler: clientErrorHandler((code) => metrics.clientErrors.inc({ code })),
        // A well-formed X-Request-Id from a proxy is kept, so one id follows a request end to end.
        requestIdHeader: false,
        genReqId: (req) => {
            const incoming = req.headers['x-request-id'];
            // ...unless it looks like a raw key: then it would be logged on every line of the request.
            return typeof incoming === 'string' && REQUEST_ID.test(incoming) && !/^kupe_/i.test(incoming) ? incoming : randomUUID();
        },
    }).withTypeProvider();
    app.server.maxConnections = deps.config.maxConnections;
    app.server.on('drop', () => metrics.connectionsDropped.inc());
    const faults = deps.faults ?? new StoreFaults(app.log, metrics);
    let limits;
    let attempts = new MemoryAttemptLimiter(PASSWORD_BACKOFF_MAX_SECONDS);
    if (deps.limits) {
        limits = deps.limits;
    }
    else if (deps.config.redisUrl) {
        const redis = new RedisClientLimits(deps.config.redisUrl, limitSettings, reportLimitStoreError(app, metrics), deps.config.redisPrefix);
        if (!(await redis.waitUntilReady())) {
            app.log.error('Redis did not answer within 2 s: starting anyway; limits fail open until it does');
        }
        limits = redis;
        attempts = redis.attempts(PASSWORD_BACKOFF_MAX_SECONDS);
    }
    else {
        limits = new MemoryClientLimits(limitSettings);
    }
    app.addHook('onClose', async () => { await limits.close?.(); });
    app.setValidatorCompiler(compileValidator);
    app.addHook('onRequest', async (request, reply) => {
        void reply.header('x-request-id', request.id);
        // API answers (a raw key once, sessions, invites) are never for a cache to keep.
        if (request.url.startsWith('/api/'))
            void reply.header('cache-control', 'no-store');
    });
    // Only JSON bodies: text/plain gets 415 like any other type, instead of a 400 about the body's shape.
    app.removeContentTypeParser('text/plain');
    refuseUnknownQueryParameters(app);
    registerErrorHandling(app, { describeFault: (error) => deps.store.describeFault(error), faults });
    acceptEmptyDeleteBodies(app);
    registerMetrics(app, metrics, deps.config.metricsToken);
    const sessions = sessionSettings(deps.config);
    registerGuard(app, { store: deps.store, limits, lastUsed, metrics, clock, sessions }, RATE_WINDOW_SECONDS);
    await registerOpenApi(app);
    if (deps.consoleDir && !(await registerConsole(app, deps.consoleDir))) {
        app.log.warn({ dir: deps.consoleDir }, 'the console is not built (npm run build:console); serving the API only');
    }
    const routeDeps = { store: deps.store, lastUsed, clock, sessions, caps: deps.config.tenantCaps ?? DEFAULT_TENANT_CAPS };
    healthRoutes(app, deps.store, faults, () => draining);
    whoamiRoutes(app);
    tenantRoutes(app, routeDeps);
    memberRoutes(app, routeDeps);
    apiKeyRoutes(app, routeDeps);
    auditLogRoutes(app, routeDeps);
    sessionRoutes(app, routeDeps, attempts);
    inviteRoutes(app, routeDeps);
    return { app, lastUsed, metrics, faults, drain: () => { draining = true; } };
}
/** Logs a Redis failure loudly, at most once every 10 s, and counts every one. */
function reportLimitStoreError(app, metrics) {
    let lastLogged = 0;
    return (error) => {
        metrics.limitStoreErrors.inc();
        if (Date.now() - lastLogged < 10_000)
            return;
        lastLogged = Date.now();
        app.log.error({ err: error }, 'Redis unreachable: rate limits and authentication backoff are NOT enforced (failing open)');
    };
}
/** The console session lifetimes, in the seconds the domain counts. */
export function sessionSettings(config) {
    return { idleSeconds: config.sessionIdleMinutes * 60, absoluteSeconds: config.sessionMaxHours * 3600 };
}
/**
 * An API route without a query-string schema takes no query parameters: an
 * unknown one is a 400 that names it (docs/errors.md), never silently ignored.
 */
function refuseUnknownQueryParameters(app) {
    app.addHook('onRoute', (route) => {
        if (route.config?.access === undefined)
            return;
        route.schema ??= {};
        route.schema.querystring ??= { type: 'object', properties: {}, additionalProperties: false };
    });
}
/** DELETE may carry a JSON body (or an empty one with a JSON content type); it is accepted and ignored. */
function acceptEmptyDeleteBodies(app) {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
        if (body === '' && request.method === 'DELETE') {
            done(null, undefined);
            return;
        }
        void parseJson(request, body, done);
    });
}
