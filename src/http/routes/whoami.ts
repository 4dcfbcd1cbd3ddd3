import { accountOf } from '../guard.ts';
import { AUTH_ERRORS, errorResponses, WhoamiSchema } from '../schemas.ts';
import type { App } from './context.ts';

export function whoamiRoutes(app: App) {
  app.get('/api/v1/whoami', {
    config: { access: 'authenticated' },
    schema: {
      summary: 'Who am I',
      description: 'Tells the bearer who it is: how a pipeline checks, after a rotation, that its new key works.',
      tags: ['identity'], security: [{ bearer: [] }],
      response: { 200: WhoamiSchema, ...errorResponses(...AUTH_ERRORS) },
    },
  }, async (request) => request.principal ?? { kind: 'member' as const, email: request.tokenEmail ?? accountOf(request).email });
}
