import { Type } from 'typebox';
import { changePassword, signIn, signInEmail } from '../../domain/accounts.ts';
import { membershipsWithTenantState, recordSessionEvent } from '../../domain/memberships.ts';
import { type OpenedSession, signOut } from '../../domain/sessions.ts';
import { AppError } from '../../domain/errors.ts';
import type { Store } from '../../domain/store.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AttemptKey, AttemptLimiter } from '../../limits/index.ts';
import { clearSessionCookie, ownOrigin, sessionToken, setSessionCookie } from '../cookies.ts';
import { type Account, accountOf } from '../guard.ts';
import { errorResponses, SessionSchema } from '../schemas.ts';
import { type App, requestContext, type RouteDeps } from './context.ts';


const tags = ['console session'];

export type SessionView = Pick<Account, 'email' | 'mustChangePassword' | 'csrfToken'> & Partial<Pick<Account, 'method' | 'providerRoles'>>;

/** The body every session route answers with: who, how signed in, whether a new password is due, the CSRF token, the tenants. */
export async function sessionBody(store: Store, view: SessionView) {
  return {
    email: view.email, mustChangePassword: view.mustChangePassword, csrfToken: view.csrfToken,
    signedInWith: view.method ?? 'password', memberships: await membershipsWithTenantState(store, view.email, view.providerRoles),
  };
}

/** Password sign-in turned off (KUPE_PASSWORD_SIGN_IN=false): the one answer every password route gives. */
export function passwordSignInDisabled(): AppError {
  return new AppError('password_sign_in_disabled', 'password sign-in is turned off here: sign in through the identity provider');
}

export function sessionRoutes(app: App, deps: RouteDeps, attempts: AttemptLimiter) {
  const maxAge = deps.sessions.absoluteSeconds;
  /** Reserved before the password is checked: concurrent attempts cannot all get in before one fails. */
  const reserveAttempt = async (reply: FastifyReply, keys: AttemptKey[]) => {
    const reserved = await attempts.reserve(keys, deps.clock().getTime());
    if (!reserved.ok) {
      void reply.header('retry-after', reserved.retryAfter);
      throw new AppError('sign_in_throttled', 'too many wrong passwords; wait before trying again');
    }
  };
  const context = (request: FastifyRequest) => requestContext(request, deps);

  app.post('/api/v1/session', {
    config: { access: 'public' },
    schema: {
      summary: 'Sign in to the console',
      description: 'Sets the HttpOnly session cookie. Throttled per account and per client IP (429 + Retry-After).',
      tags,
      body: Type.Object({
        email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 1024 }),
      }, { additionalProperties: false }),
      response: { 200: SessionSchema, ...errorResponses(400, 401, 403, 429) },
    },
  }, async (request, reply) => {
    if (!deps.passwordSignIn) throw passwordSignInDisabled();
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(request)) {
      throw new AppError('csrf_rejected', 'cross-site sign-in refused');
    }
    // Per account and address, so that nobody elsewhere can lock the owner out; and per address, so that
    // one address cannot try one password on every account.
    const email = signInEmail(request.body.email);
    const keys = [{ key: `signin:${email}|${request.clientAddress}`, allowance: 5 }, { key: `signin-ip:${request.clientAddress}`, allowance: 20 }];
    await reserveAttempt(reply, keys);
    const result = await signIn(deps.store, email, request.body.password, deps.clock(), deps.sessions);
    await attempts.reset(keys);
    await recordSessionEvent(deps.store, 'session.signin', { email: result.user.email, method: 'password', ctx: context(request) });
    setSessionCookie(request, reply, result.session.token, maxAge);
    return sessionBody(deps.store, { ...result.user, csrfToken: result.session.csrfToken });
  });

  app.get('/api/v1/session', {
    config: { access: 'session' },
    schema: { summary: 'The signed-in person', tags, response: { 200: SessionSchema, ...errorResponses(401) } },
  }, async (request) => {
    return sessionBody(deps.store, accountOf(request));
  });

  app.delete('/api/v1/session', {
    config: { access: 'session' },
    schema: { summary: 'Sign out', tags, response: { 204: Type.Null(), ...errorResponses(401, 403) } },
  }, async (request, reply) => {
    const account = accountOf(request);
    const token = sessionToken(request);
    if (token) await signOut(deps.store, token);
    await recordSessionEvent(deps.store, 'session.signout', {
      email: account.email, method: account.method, providerRoles: account.providerRoles, ctx: context(request),
    });
    clearSessionCookie(request, reply);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/session/password', {
    config: { access: 'session' },
    schema: {
      summary: 'Change your password',
      description: 'Ends every session of the account, then signs this browser in again (new cookie, new CSRF token).',
      tags,
      body: Type.Object({
        currentPassword: Type.String({ maxLength: 1024 }), newPassword: Type.String({ maxLength: 1024 }),
      }, { additionalProperties: false }),
      response: { 200: SessionSchema, ...errorResponses(400, 401, 403, 429) },
    },
  }, async (request, reply) => {
    const account = accountOf(request);
    const keys = [{ key: `password:${account.email}`, allowance: 5 }];
    await reserveAttempt(reply, keys);
    const session: OpenedSession = await changePassword(
      deps.store, account.email, request.body.currentPassword, request.body.newPassword, deps.clock(), deps.sessions,
    );
    await attempts.reset(keys);
    // In each tenant's audit log, like sign-ins: the first sign-in's change of the one-time password too.
    await recordSessionEvent(deps.store, 'account.password_change', {
      email: account.email, method: account.mustChangePassword ? 'one-time password replaced' : 'password', ctx: context(request),
    });
    setSessionCookie(request, reply, session.token, maxAge);
    return sessionBody(deps.store, { email: account.email, mustChangePassword: false, csrfToken: session.csrfToken });
  });
}
