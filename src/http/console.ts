import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Every answer's Content-Security-Policy: the console may load only its own scripts, styles and images and
 * talk only to its own origin; nobody may frame it; forms post nowhere else. (An API answer is JSON: the
 * policy costs it nothing and covers a browser that is tricked into rendering one.)
 */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], fontSrc: ["'self'"],
  connectSrc: ["'self'"], manifestSrc: ["'self'"], baseUri: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"],
};

/** The API reference page (Swagger UI) sets styles inline: its routes allow that, and nothing else more. */
const DOCS_CSP_DIRECTIVES = { ...CSP_DIRECTIVES, styleSrc: ["'self'", "'unsafe-inline'"] };

/**
 * Security headers on every answer (@fastify/helmet): the CSP above, nosniff, no referrer, no framing,
 * same-origin opener and resource policies. No Strict-Transport-Security: Kupe speaks plain HTTP behind
 * the TLS terminator, which sets HSTS for its whole domain (docs/deployment.md).
 */
export async function registerSecurityHeaders(app: FastifyInstance, docsPrefix: string) {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(docsPrefix)) route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP_DIRECTIVES } };
  });
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    strictTransportSecurity: false,
  });
}

/**
 * Serves the built console (console/dist) under `/`. The console routes in
 * the URL fragment (#/keys), so only the built files themselves are served.
 * Returns false when the console has not been built.
 */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<boolean> {
  if (!existsSync(join(dir, 'index.html'))) return false;
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    index: ['index.html'],
  });
  return true;
}
