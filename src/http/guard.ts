import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { Principal } from '../domain/roles.ts';
import { formatTimestamp } from '../domain/validation.ts';
import { type Admitted, admit, countGuess, forgiveFailures, refuseInBackoff } from './guard/admission.ts';
import { authorize } from './guard/authorize.ts';
import { type Credential, type CredentialCheck, type CredentialFailure, readCredential } from './guard/credentials.ts';
import type { Need } from '../gateway/policy.ts';
import { decideForGateway } from './guard/gateway.ts';
import { appendRouteHook } from './route-hooks.ts';
import type { Access, Account, GuardDeps } from './guard/types.ts';

export type { Access, Account, BearerTokens, GuardDeps } from './guard/types.ts';

/**
 * The checks every API request passes, in the order docs/behaviour.md states ("The order of the checks"),
 * each a part of its own under src/http/guard/:
 * 1. admission: the rate limit and the backoff (429);
 * 2. the credential: an API key, an access token or the session cookie (401);
 * 3. authorization: the tenant name (400), membership and role (403), CSRF for sessions.
 * Body validation and the action come after. The hook calls each part once and keeps the books (metrics,
 * backoff counts, lastUsedAt) between them.
 */
export function registerGuard(app: FastifyInstance, deps: GuardDeps, windowSeconds: number) {
  app.decorateRequest('principal', null);
  app.decorateRequest('account', null);
  app.decorateRequest('tokenEmail', null);
  app.decorateRequest('gatewayDecision', null);

  // Each route with an access rule gets its own guard, made once when the route is registered (it runs after
  // the app-wide onRequest hooks): routes without one (health, metrics, static files) bypass it entirely.
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) return;
    appendRouteHook(route, 'onRequest', (request, reply, done) => {
      const pending = guard(request, reply, access, deps, windowSeconds);
      if (pending) pending.then(() => done(), done);
      else done();
    });
  });
}

/**
 * The checks, each step run at once when what it waits for is at hand (in-process limits, a cached key: the
 * common case, with no promise at all) and after it settles when it is a promise (Redis, the database, the
 * identity provider). A refusal is a thrown AppError, or a rejected promise.
 */
function guard(request: FastifyRequest, reply: FastifyReply, access: Access, deps: GuardDeps, windowSeconds: number): Promise<void> | undefined {
  const now = deps.clock();
  const admission = admit(request, reply, deps, windowSeconds, now);
  return admission instanceof Promise
    ? admission.then((admitted) => identify(request, reply, access, deps, now, admitted))
    : identify(request, reply, access, deps, now, admission);
}

/** What admission said of a request to a `scanner` route, for the route's own check of its sender. */
const scannerAdmissions = new WeakMap<FastifyRequest, Admitted>();

/** The admission of a request that passed the guard of a `scanner` route. */
export function admissionOf(request: FastifyRequest): Admitted {
  const admission = scannerAdmissions.get(request);
  if (!admission) throw new Error(`route ${request.routeOptions.url} is not a scanner route`);
  return admission;
}

/** Past the limits: the gateway policy's decision, then the credential. */
function identify(
  request: FastifyRequest, reply: FastifyReply, access: Access, deps: GuardDeps, now: Date, admission: Admitted,
): Promise<void> | undefined {
  if (access === 'public') return undefined;
  if (access === 'scanner') {
    // A scanner is checked by its signature or token: an address in backoff for failing that check is refused
    // before its body is read or its signature checked (GitHub and GitLab never fail it).
    refuseInBackoff(reply, deps, admission);
    scannerAdmissions.set(request, admission);
    return undefined;
  }
  // The gateway route: the policy decides about the request the gateway describes, before any credential
  // is read (a public path needs none).
  const decision = access === 'gateway' ? decideForGateway(request, deps.gatewayPolicy) : null;
  request.gatewayDecision = decision;
  if (decision?.kind === 'public') return undefined;
  const check = readCredential(request, access, deps, now);
  return check instanceof Promise
    ? check.then((read) => admitCredential(request, reply, access, deps, now, admission, read))
    : admitCredential(request, reply, access, deps, now, admission, check);
}

/** A credential or none: refused (401, or 429 in backoff), or counted and then authorized. */
function admitCredential(
  request: FastifyRequest, reply: FastifyReply, access: Access, deps: GuardDeps, now: Date, admission: Admitted, check: CredentialCheck,
): Promise<void> | undefined {
  if (!check.ok) return refuse(request, reply, deps, admission, check.failure, now);
  const forgiving = accept(request, deps, admission, check.credential, now);
  return forgiving ? forgiving.then(() => authorizeFor(request, access, deps, check.credential)) : authorizeFor(request, access, deps, check.credential);
}

/** What the route (or the gateway policy's rule) asks of the credential: at once for a key. */
function authorizeFor(request: FastifyRequest, access: Access, deps: GuardDeps, credential: Credential): Promise<void> | undefined {
  const decision = request.gatewayDecision;
  if (decision?.kind === 'refused') throw new AppError(decision.code, decision.message);
  return authorize(request, decision?.kind === 'protected' ? GATEWAY_ACCESS[decision.need] : access, credential, deps.store);
}

/** What a gateway policy's rule asks, as the access the other routes declare. */
const GATEWAY_ACCESS: Record<Need, Access> = { authenticated: 'authenticated', readonly: 'member', admin: 'admin' };

/** No credential: counted, a guess counted towards the backoff (or 429 while in it), then 401 (or 503). */
async function refuse(
  request: FastifyRequest, reply: FastifyReply, deps: GuardDeps, admission: Admitted, failure: CredentialFailure, now: Date,
): Promise<never> {
  if (failure.metric !== undefined) deps.metrics.authentications.inc({ outcome: 'failure', reason: failure.metric });
  if (failure.retryAfterSeconds !== undefined) void reply.header('retry-after', failure.retryAfterSeconds);
  if (failure.looksLikeGuessing) await countGuess(request, reply, deps, admission, now);
  throw new AppError(failure.code, failure.message);
}

/**
 * A credential that verified: counted, a key's lastUsedAt noted, the address's failures forgotten (a promise
 * only when it had some to forget).
 */
function accept(request: FastifyRequest, deps: GuardDeps, admission: Admitted, credential: Credential, now: Date): Promise<void> | undefined {
  switch (credential.kind) {
    case 'apikey':
      deps.metrics.authenticatedByKey.inc();
      deps.lastUsed.touch(credential.principal.keyId, formatTimestamp(now));
      return forgiveFailures(request, deps, admission);
    case 'token':
      deps.metrics.authentications.inc({ outcome: 'success', reason: 'oidc_token' });
      return forgiveFailures(request, deps, admission);
    case 'session':
      deps.metrics.authentications.inc({ outcome: 'success', reason: 'session' });
      return undefined;
  }
}

/** The principal of a request that passed the guard. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} has no authenticated principal`);
  return request.principal;
}

/** The signed-in person of a request that passed the guard with access 'session'. */
export function accountOf(request: FastifyRequest): Account {
  if (!request.account) throw new Error(`route ${request.routeOptions.url} has no signed-in account`);
  return request.account;
}
