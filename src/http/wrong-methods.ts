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
  // A plain callback, not an async hook: it runs on every request, and only a 404 has anything to do.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length === 0) return done();
    void reply.header('allow', allowed.join(', '));
    void sendError(reply, 'method_not_allowed', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`);
  });
}
