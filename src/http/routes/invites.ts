import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { acceptInvite, describeInvite, joinWithInvite } from '../../domain/invites.ts';
import { accountOf } from '../guard.ts';
import { setSessionCookie } from '../cookies.ts';
import { errorResponses, SessionSchema } from '../schemas.ts';
import { type App, requestContext, type RouteDeps } from './context.ts';
import { passwordSignInDisabled, sessionBody } from './session.ts';

const Params = Type.Object({ token: Type.String({ description: 'The token from the invite link' }) });
const tags = ['console session'];

export function inviteRoutes(app: App, deps: RouteDeps) {
  app.get('/api/v1/invites/:token', {
    config: { access: 'public' },
    schema: {
      summary: 'Look at an invite', tags, params: Params,
      response: {
        200: Type.Object({ email: Type.String(), tenant: Type.String(), expiresAt: Type.String() }),
        ...errorResponses(404),
      },
    },
  }, async (request) => describeInvite(deps.store, request.params.token, deps.clock()));

  app.post('/api/v1/invites/:token/accept', {
    config: { access: 'public' },
    schema: {
      summary: 'Accept an invite: choose a password and sign in',
      description: 'For an email that has no account yet. For one that has, sign in to it and use `/join`.',
      tags, params: Params,
      body: Type.Object({ password: Type.String({ description: 'At least 12 characters', maxLength: 1024 }) }, { additionalProperties: false }),
      response: { 200: SessionSchema, ...errorResponses(400, 404, 409) },
    },
  }, async (request, reply) => {
    if (!deps.passwordSignIn) throw passwordSignInDisabled();
    const { email, session } = await acceptInvite(deps.store, request.params.token, request.body.password, acceptContext(request), deps.sessions);
    setSessionCookie(request, reply, session.token, deps.sessions.absoluteSeconds);
    return sessionBody(deps.store, { email, mustChangePassword: false, csrfToken: session.csrfToken });
  });

  app.post('/api/v1/invites/:token/join', {
    config: { access: 'session' },
    schema: {
      summary: 'Join with an invite, signed in to the invited account',
      description: 'The membership the invite was made for takes effect. Only for the account whose email was invited.',
      tags, params: Params,
      response: { 200: SessionSchema, ...errorResponses(401, 403, 404) },
    },
  }, async (request) => {
    const account = accountOf(request);
    await joinWithInvite(deps.store, request.params.token, account.email, acceptContext(request));
    return sessionBody(deps.store, account);
  });

  function acceptContext(request: FastifyRequest) {
    return requestContext(request, deps);
  }
}
