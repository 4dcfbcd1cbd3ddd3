import { Type } from 'typebox';
import type { Store } from '../../domain/store.ts';
import { sendError } from '../errors.ts';
import type { App } from './context.ts';

const Status = Type.Object({ status: Type.String({ examples: ['ok'] }) });

/** Unauthenticated and not rate limited: load balancers poll these. */
export function healthRoutes(app: App, store: Store, isDraining: () => boolean) {
  app.get('/healthz', {
    schema: { summary: 'Liveness: the process is up', tags: ['operations'], response: { 200: Status } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: { summary: 'Readiness: the store answers', tags: ['operations'], response: { 200: Status } },
  }, async (request, reply) => {
    if (isDraining()) return sendError(reply, 503, 'not_ready', 'shutting down');
    try {
      await store.ping();
      return { status: 'ok' };
    } catch (err) {
      request.log.error({ err }, 'readiness check: store unreachable');
      return sendError(reply, 503, 'not_ready', 'store unreachable');
    }
  });
}
