import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateSession, personRole, type SessionSettings } from '../domain/accounts.ts';
import { authenticateApiKey, type AuthFailure } from '../domain/api-keys.ts';
import { AppError } from '../domain/errors.ts';
import type { LastUsedTracker } from '../domain/last-used.ts';
import type { Principal, Role } from '../domain/roles.ts';
import type { Store } from '../domain/store.ts';
import { formatTimestamp, isTenantName } from '../domain/validation.ts';
import type { Admission, ClientLimits } from '../limits/index.ts';
import { ownOrigin, sessionToken } from './cookies.ts';
import type { TokenCheck, TokenFailure } from '../oidc/access-tokens.ts';
import { looksLikeJwt } from '../oidc/token-shape.ts';
import type { Metrics } from './metrics.ts';

/**
 * Who may call a route:
 * - public: anyone (still rate limited);
 * - session: a signed-in person (cookie), even one who must still change their password;
 * - authenticated: any valid credential (API key, or a session past its password change);
 * - member / admin: a credential of the tenant in the path, with that role.
 * Routes without `access` (health, metrics, static files) bypass the guard entirely.
 */
export type Access = 'public' | 'session' | 'authenticated' | 'member' | 'admin';

/** A person signed in to the console through the session cookie. */
export interface Account {
  email: string;
  sessionId: string;
  csrfToken: string;
  mustChangePassword: boolean;
  /** Set when the session was opened through the identity provider. */
  method: 'password' | 'oidc';
  /** The provider's roles by tenant, from its groups claim at sign-in. */
  providerRoles: Readonly<Record<string, Role>>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    account: Account | null;
    /** The person an identity provider's access token names (bearer tokens that are not API keys). */
    tokenEmail: string | null;
    /** What limits count the client as: its IPv4 address, or its IPv6 network (KUPE_IPV6_PREFIX_BITS). */
    readonly clientAddress: string;
  }
}

/** The identity provider's access tokens, when KUPE_OIDC_ISSUER is set (src/oidc/access-tokens.ts). */
export interface BearerTokens {
  verify: (token: string) => Promise<TokenCheck>;
  /** Retry-After when a token's key cannot be fetched: the wait before the keys are fetched again. */
  retryAfterSeconds: number;
}

export interface GuardDeps {
  store: Store;
  limits: ClientLimits;
  lastUsed: LastUsedTracker;
  metrics: Metrics;
  clock: () => Date;
  sessions: SessionSettings;
  oidc?: BearerTokens | undefined;
}

const TOKEN_FAILURE_CODE: Partial<Record<TokenFailure, 'token_expired' | 'token_missing_groups' | 'identity_provider_unavailable'>> = {
  expired: 'token_expired', missing_groups: 'token_missing_groups', provider_unavailable: 'identity_provider_unavailable',
};

const FAILURE_MESSAGE: Record<AuthFailure, { code: 'invalid_api_key' | 'api_key_expired' | 'api_key_revoked'; message: string }> = {
  malformed: { code: 'invalid_api_key', message: 'invalid api key' },
  unknown: { code: 'invalid_api_key', message: 'invalid api key' },
  wrong_secret: { code: 'invalid_api_key', message: 'invalid api key' },
  expired: { code: 'api_key_expired', message: 'api key expired' },
  revoked: { code: 'api_key_revoked', message: 'api key revoked' },
};

/**
 * Only these failures count towards the backoff (docs/behaviour.md, "Authentication backoff"): a genuine
 * key that is revoked or expired is a forgotten pipeline, not a guess, and a
 * missing header guesses nothing. A key that verifies is never refused.
 */
const LOOKS_LIKE_GUESSING = new Set<AuthFailure>(['malformed', 'unknown', 'wrong_secret']);

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const CSRF_HEADER = 'x-kupe-csrf';

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
 * A cookie is sent by the browser whoever asks, so an unsafe request that
 * rides on it must prove it comes from the console: a same-origin Origin (or
 * Sec-Fetch-Site) and the session's CSRF token in a header, which no
 * cross-site form can set.
 */
function checkCsrf(request: FastifyRequest, account: Account) {
  if (!UNSAFE.has(request.method)) return;
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const sameOrigin = origin !== undefined ? origin === ownOrigin(request) : site === undefined || site === 'same-origin';
  if (!sameOrigin || request.headers[CSRF_HEADER] !== account.csrfToken) {
    throw new AppError('csrf_rejected', `cross-site request refused: send the ${CSRF_HEADER} header from the console's own origin`);
  }
}

async function sessionAccount(request: FastifyRequest, deps: GuardDeps, now: Date): Promise<Account | undefined> {
  const token = sessionToken(request);
  if (!token) return undefined;
  const result = await authenticateSession(deps.store, token, now, deps.sessions);
  if (!result.ok) throw new AppError('session_invalid', 'your session has ended; sign in again');
  const oidc = result.session.method === 'oidc';
  return {
    email: result.user.email, sessionId: result.session.id, csrfToken: result.session.csrfToken,
    // The provider vouched for the person: a one-time Kupe password still pending does not stand in the way.
    mustChangePassword: result.user.mustChangePassword && !oidc,
    method: oidc ? 'oidc' : 'password', providerRoles: result.session.providerRoles ?? {},
  };
}

/**
 * The checks every API request passes, in the order docs/behaviour.md states ("The order of the checks"):
 * rate limit and backoff (429), authentication (401), tenant name (400),
 * membership and role (403). Body validation and the action come after.
 */
export function registerGuard(app: FastifyInstance, deps: GuardDeps, windowSeconds: number) {
  app.decorateRequest('principal', null);
  app.decorateRequest('account', null);
  app.decorateRequest('tokenEmail', null);

  /** A failure that looks like guessing: answered 429 while the address is in backoff, otherwise counted. */
  const countGuess = async (request: FastifyRequest, reply: FastifyReply, admission: Extract<Admission, { ok: true }>, now: Date) => {
    // In backoff, a guess is answered 429 (and not counted again); otherwise counted and answered 401.
    if (admission.backoffSeconds > 0) {
      deps.metrics.limited.inc({ reason: 'auth_backoff' });
      void reply.header('retry-after', admission.backoffSeconds);
      throw new AppError('auth_backoff', 'too many failed authentication attempts from this address; retry later');
    }
    await deps.limits.recordAuthFailure(request.clientAddress, now.getTime());
  };

  /** A bearer token that looks like a JWT, with an identity provider configured: a person's access token. */
  const authorizeToken = async (
    request: FastifyRequest, reply: FastifyReply, access: Access, token: string, oidc: BearerTokens,
    admission: Extract<Admission, { ok: true }>, now: Date,
  ) => {
    const check = await oidc.verify(token);
    if (!check.ok) {
      deps.metrics.authentications.inc({ outcome: 'failure', reason: `token_${check.reason}` });
      if (check.reason === 'provider_unavailable') {
        void reply.header('retry-after', oidc.retryAfterSeconds);
      } else if (!check.signatureVerified) {
        // A token whose signature verified is genuine (expired, or for another audience): not a guess.
        await countGuess(request, reply, admission, now);
      }
      throw new AppError(TOKEN_FAILURE_CODE[check.reason] ?? 'invalid_token', check.message);
    }
    deps.metrics.authentications.inc({ outcome: 'success', reason: 'oidc_token' });
    if (admission.authFailures > 0) await deps.limits.recordAuthSuccess(request.clientAddress);
    request.tokenEmail = check.email;
    if (access === 'authenticated') return;
    await authorizePerson(request, access, check.email, (tenant) => check.roles.get(tenant), deps.store);
  };

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) return;
    const now = deps.clock();

    const admission = await deps.limits.admit(request.clientAddress, now.getTime());
    setRateHeaders(reply, admission, windowSeconds);
    if (!admission.ok) {
      deps.metrics.limited.inc({ reason: admission.reason });
      void reply.header('retry-after', admission.retryAfter);
      throw new AppError('rate_limited', 'rate limit exceeded');
    }
    if (access === 'public') return;

    const token = access === 'session' ? undefined : bearerToken(request);
    if (token === undefined) {
      const account = await sessionAccount(request, deps, now);
      if (account) return authorizeAccount(request, access, account, deps);
      deps.metrics.authentications.inc({ outcome: 'failure', reason: 'missing' });
      throw new AppError('authentication_required', access === 'session'
        ? 'sign in first'
        : 'authentication required: send Authorization: Bearer <api key>');
    }
    if (deps.oidc && looksLikeJwt(token)) return authorizeToken(request, reply, access, token, deps.oidc, admission, now);
    const result = await authenticateApiKey(deps.store, token, now);
    if (!result.ok) {
      deps.metrics.authentications.inc({ outcome: 'failure', reason: result.reason });
      if (LOOKS_LIKE_GUESSING.has(result.reason)) await countGuess(request, reply, admission, now);
      const failure = FAILURE_MESSAGE[result.reason];
      throw new AppError(failure.code, failure.message);
    }
    deps.metrics.authenticatedByKey.inc();
    if (admission.authFailures > 0) await deps.limits.recordAuthSuccess(request.clientAddress);
    deps.lastUsed.touch(result.principal.keyId, formatTimestamp(now));
    request.principal = result.principal;
    if (access === 'authenticated') return;
    checkTenant(request, result.principal.tenant, result.principal.role, access);
  });
}

function tenantInPath(request: FastifyRequest): string {
  const tenant = (request.params as { tenant?: string }).tenant ?? '';
  if (!isTenantName(tenant)) throw new AppError('invalid_tenant_name', 'invalid tenant name');
  return tenant;
}

function checkTenant(request: FastifyRequest, memberOf: string | undefined, role: string | undefined, access: Access) {
  const tenant = tenantInPath(request);
  if (memberOf !== tenant) throw new AppError('not_a_member', 'not a member of this tenant');
  if (access === 'admin' && role !== 'admin') throw new AppError('admin_required', 'admin access required');
}

async function authorizeAccount(request: FastifyRequest, access: Access, account: Account, deps: GuardDeps) {
  deps.metrics.authentications.inc({ outcome: 'success', reason: 'session' });
  request.account = account;
  checkCsrf(request, account);
  if (access === 'session') return;
  if (account.mustChangePassword) {
    throw new AppError('password_change_required', 'choose a new password before doing anything else');
  }
  if (access === 'authenticated') return;
  await authorizePerson(request, access, account.email, (tenant) => account.providerRoles[tenant], deps.store);
}

/** A person (session or access token) in the tenant of the path: the provider's groups and Kupe's members list combined. */
async function authorizePerson(
  request: FastifyRequest, access: Access, email: string, providerRoleIn: (tenant: string) => Role | undefined, store: Store,
) {
  const tenant = tenantInPath(request);
  const role = await personRole(store, tenant, email, providerRoleIn(tenant));
  request.principal = role ? { kind: 'member', tenant, role, email } : null;
  checkTenant(request, role && tenant, role, access);
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
