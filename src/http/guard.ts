import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey, type AuthFailure } from '../domain/api-keys.ts';
import { AppError } from '../domain/errors.ts';
import type { LastUsedTracker } from '../domain/last-used.ts';
import type { Principal } from '../domain/roles.ts';
import type { Store } from '../domain/store.ts';
import { formatTimestamp, isTenantName } from '../domain/validation.ts';
import type { Admission, ClientLimits } from './client-limits.ts';
import type { Metrics } from './metrics.ts';

/**
 * Who may call a route:
 * - public: anyone (still rate limited);
 * - authenticated: any valid credential;
 * - member / admin: a credential of the tenant in the path, with that role.
 * Routes without `access` (health, metrics) bypass the guard entirely.
 */
export type Access = 'public' | 'authenticated' | 'member' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface GuardDeps {
  store: Store;
  limits: ClientLimits;
  lastUsed: LastUsedTracker;
  metrics: Metrics;
  clock: () => Date;
}

const FAILURE_MESSAGE: Record<AuthFailure, { code: 'invalid_api_key' | 'api_key_expired' | 'api_key_revoked'; message: string }> = {
  malformed: { code: 'invalid_api_key', message: 'invalid api key' },
  unknown: { code: 'invalid_api_key', message: 'invalid api key' },
  wrong_secret: { code: 'invalid_api_key', message: 'invalid api key' },
  expired: { code: 'api_key_expired', message: 'api key expired' },
  revoked: { code: 'api_key_revoked', message: 'api key revoked' },
};

function setRateHeaders(reply: FastifyReply, admission: Admission, windowSeconds: number) {
  const rate = admission.rate;
  if (!rate) return;
  void reply.headers({
    'ratelimit-limit': rate.limit,
    'ratelimit-remaining': rate.remaining,
    'ratelimit-reset': rate.resetSeconds,
    'ratelimit-policy': `${rate.limit};w=${windowSeconds}`,
  });
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/**
 * The checks every API request passes, in the order SPEC.md section 3 fixes:
 * rate limit and backoff (429), authentication (401), tenant name (400),
 * membership and role (403). Body validation and the action come after.
 */
export function registerGuard(app: FastifyInstance, deps: GuardDeps, windowSeconds: number) {
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) return;
    const now = deps.clock();

    const admission = await deps.limits.admit(request.ip, now.getTime());
    setRateHeaders(reply, admission, windowSeconds);
    if (!admission.ok) {
      deps.metrics.limited.inc({ reason: admission.reason });
      void reply.header('retry-after', admission.retryAfter);
      throw admission.reason === 'rate_limited'
        ? new AppError('rate_limited', 'rate limit exceeded')
        : new AppError('auth_backoff', 'too many failed authentication attempts from this address; retry later');
    }
    if (access === 'public') return;

    const token = bearerToken(request);
    if (token === undefined) {
      deps.metrics.authentications.inc({ outcome: 'failure', reason: 'missing' });
      await deps.limits.recordAuthFailure(request.ip, now.getTime());
      throw new AppError('authentication_required', 'authentication required: send Authorization: Bearer <api key>');
    }
    const result = await authenticateApiKey(deps.store, token, now);
    if (!result.ok) {
      deps.metrics.authentications.inc({ outcome: 'failure', reason: result.reason });
      await deps.limits.recordAuthFailure(request.ip, now.getTime());
      const failure = FAILURE_MESSAGE[result.reason];
      throw new AppError(failure.code, failure.message);
    }
    deps.metrics.authenticatedByKey.inc();
    if (admission.authFailures > 0) await deps.limits.recordAuthSuccess(request.ip);
    deps.lastUsed.touch(result.principal.keyId, formatTimestamp(now));
    request.principal = result.principal;
    if (access === 'authenticated') return;

    const tenant = (request.params as { tenant?: string }).tenant ?? '';
    if (!isTenantName(tenant)) throw new AppError('invalid_tenant_name', 'invalid tenant name');
    if (result.principal.tenant !== tenant) throw new AppError('not_a_member', 'not a member of this tenant');
    if (access === 'admin' && result.principal.role !== 'admin') {
      throw new AppError('admin_required', 'admin access required');
    }
  });
}

/** The principal of a request that passed the guard. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} has no authenticated principal`);
  return request.principal;
}
