import { Type } from 'typebox';
import { acceptInvite, describeInvite } from '../../domain/invites.ts';
import { setSessionCookie } from '../cookies.ts';
import { errorResponses } from '../schemas.ts';
import type { App, RouteDeps } from './context.ts';
import { SessionSchema, sessionBody } from './session.ts';

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
      summary: 'Accept an invite: choose a password and sign in', tags, params: Params,
      body: Type.Object({ password: Type.String({ description: 'At least 12 characters' }) }, { additionalProperties: false }),
      response: { 200: SessionSchema, ...errorResponses(400, 404) },
    },
  }, async (request, reply) => {
    const { email, session } = await acceptInvite(deps.store, request.params.token, request.body.password, deps.clock(), deps.sessions);
    setSessionCookie(request, reply, session.token, deps.sessions.absoluteSeconds);
    return sessionBody(deps.store, email, false, session.csrfToken);
  });
}
