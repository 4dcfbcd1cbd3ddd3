import { Type } from 'typebox';
import { changePassword, listMemberships, type OpenedSession, signIn, signOut } from '../../domain/accounts.ts';
import { AppError } from '../../domain/errors.ts';
import type { Store } from '../../domain/store.ts';
import type { FastifyReply } from 'fastify';
import type { AttemptKey, AttemptLimiter } from '../../limits/index.ts';
import { clearSessionCookie, ownOrigin, sessionToken, setSessionCookie } from '../cookies.ts';
import { accountOf } from '../guard.ts';
import { errorResponses, SessionSchema } from '../schemas.ts';
import type { App, RouteDeps } from './context.ts';


const tags = ['console session'];

/** The body every session route answers with: who, whether a new password is due, the CSRF token, the tenants. */
export async function sessionBody(store: Store, email: string, mustChangePassword: boolean, csrfToken: string) {
  return { email, mustChangePassword, csrfToken, memberships: await listMemberships(store, email) };
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
  const describe = (email: string, mustChangePassword: boolean, csrfToken: string) =>
    sessionBody(deps.store, email, mustChangePassword, csrfToken);

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
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(request)) {
      throw new AppError('csrf_rejected', 'cross-site sign-in refused');
    }
    // Per account and address, so that nobody elsewhere can lock the owner out; and per address, so that
    // one address cannot try one password on every account.
    const email = request.body.email.trim().toLowerCase();
    const keys = [{ key: `signin:${email}|${request.ip}`, allowance: 5 }, { key: `signin-ip:${request.ip}`, allowance: 20 }];
    await reserveAttempt(reply, keys);
    const result = await signIn(deps.store, email, request.body.password, deps.clock(), deps.sessions);
    await attempts.reset(keys);
    setSessionCookie(request, reply, result.session.token, maxAge);
    return describe(result.user.email, result.user.mustChangePassword, result.session.csrfToken);
  });

  app.get('/api/v1/session', {
    config: { access: 'session' },
    schema: { summary: 'The signed-in person', tags, response: { 200: SessionSchema, ...errorResponses(401) } },
  }, async (request) => {
    const account = accountOf(request);
    return describe(account.email, account.mustChangePassword, account.csrfToken);
  });

  app.delete('/api/v1/session', {
    config: { access: 'session' },
    schema: { summary: 'Sign out', tags, response: { 204: Type.Null(), ...errorResponses(401, 403) } },
  }, async (request, reply) => {
    const token = sessionToken(request);
    if (token) await signOut(deps.store, token);
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
    setSessionCookie(request, reply, session.token, maxAge);
    return describe(account.email, false, session.csrfToken);
  });
}
