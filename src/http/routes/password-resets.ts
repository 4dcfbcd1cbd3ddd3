import { Type } from 'typebox';
import { completePasswordReset, describePasswordReset, requestPasswordReset, resetsOff } from '../../domain/password-resets.ts';
import { AppError } from '../../domain/errors.ts';
import type { AttemptLimiter } from '../../limits/index.ts';
import { errorResponses } from '../schemas.ts';
import { type App, notSoonerThan, requestContext, type RouteDeps } from './context.ts';
import { passwordSignInDisabled } from './session.ts';

/** Every request for a link is answered no sooner than this: the answer's timing says nothing about the address. */
export const RESET_REQUEST_FLOOR_MS = 300;
/** Requests for a link one address may make before the waits start (then 1 s, doubling). */
const REQUESTS_PER_ADDRESS = 5;

const Params = Type.Object({ token: Type.String({ description: 'The token from the mailed link' }) });
const tags = ['console session'];

/**
 * "Forgot password" (docs/notifications.md, "Email"): ask for a link by address, look at a link, set the new
 * password with it. Public routes; off (404 `password_reset_off`) without email, and like every password
 * route off without password sign-in.
 */
export function passwordResetRoutes(app: App, deps: RouteDeps, attempts: AttemptLimiter) {
  app.post('/api/v1/password-resets', {
    config: { access: 'public' },
    schema: {
      summary: 'Forgot password: mail a reset link',
      description: 'Answers 202 whether or not the address has an account, no sooner than '
        + `${RESET_REQUEST_FLOOR_MS} ms after the request arrived. If an account with a Kupe password has it, a link that works once for an hour is mailed `
        + 'there (at most one mail per address per 5 minutes). Throttled per client address (429 + Retry-After).',
      tags,
      body: Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false }),
      response: {
        202: Type.Object({ message: Type.String() }),
        ...errorResponses(400, 403, 404, 429),
      },
    },
  }, async (request, reply) => {
    const started = performance.now();
    if (!deps.passwordSignIn) throw passwordSignInDisabled();
    if (!deps.mail) throw resetsOff();
    // Counted and never given back: each request may send a mail.
    const reserved = await attempts.reserve([{ key: `reset-ip:${request.clientAddress}`, allowance: REQUESTS_PER_ADDRESS }], deps.clock().getTime());
    if (!reserved.ok) {
      void reply.header('retry-after', reserved.retryAfter);
      throw new AppError('password_reset_throttled', 'too many password reset requests from this address; wait before asking again');
    }
    await requestPasswordReset(deps.store, request.body.email, requestContext(request, deps));
    await notSoonerThan(started, RESET_REQUEST_FLOOR_MS);
    return reply.code(202).send({
      message: 'If an account with a Kupe password has this address, a link to reset its password is on its way there. It works once, for an hour.',
    });
  });

  app.get('/api/v1/password-resets/:token', {
    config: { access: 'public' },
    schema: {
      summary: 'Look at a password reset link', tags, params: Params,
      response: { 200: Type.Object({ email: Type.String(), expiresAt: Type.String() }), ...errorResponses(403, 404) },
    },
  }, async (request) => {
    if (!deps.passwordSignIn) throw passwordSignInDisabled();
    return describePasswordReset(deps.store, request.params.token, deps.clock());
  });

  app.post('/api/v1/password-resets/:token', {
    config: { access: 'public' },
    schema: {
      summary: 'Set a new password with a reset link',
      description: 'Every session of the account ends and its other reset links stop working; then sign in with the new password.',
      tags, params: Params,
      body: Type.Object({ password: Type.String({ description: 'At least 12 characters', maxLength: 1024 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ email: Type.String() }), ...errorResponses(400, 403, 404) },
    },
  }, async (request) => {
    if (!deps.passwordSignIn) throw passwordSignInDisabled();
    return completePasswordReset(deps.store, request.params.token, request.body.password, deps.clock());
  });
}
