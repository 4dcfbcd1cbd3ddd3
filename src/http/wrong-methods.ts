import type { FastifyInstance } from 'fastify';
import { sendError } from './envelope.ts';

/**
 * A path that exists, asked with a method it does not take, is 405 with
 * `Allow` (not 404), answered before any body is read.
 */
export function answerWrongMethods(app: FastifyInstance) {
  const routes: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}$`);
    for (const method of [route.method].flat()) routes.push({ pattern, method });
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length === 0) return;
    void reply.header('allow', allowed.join(', '));
    return sendError(reply, 'method_not_allowed', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`);
  });
}
