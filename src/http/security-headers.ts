import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

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

const OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
  referrerPolicy: { policy: 'no-referrer' },
  frameguard: { action: 'deny' },
  strictTransportSecurity: false,
  // Headers for browsers and plug-ins long gone (IE8's download prompt, the XSS auditor that helmet only
  // switches off, Flash and Acrobat policy files, DNS prefetch of links an API answer never has, and the
  // origin-keyed agent cluster hint): each costs every answer its bytes and Node's validation.
  xDownloadOptions: false,
  xXssProtection: false,
  xPermittedCrossDomainPolicies: false,
  xDnsPrefetchControl: false,
  originAgentCluster: false,
};

/** The headers helmet sets for these options, worked out once (helmet sets the same ones on every answer). */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => { headers[name.toLowerCase()] = String(value); },
    removeHeader: (name: string) => { delete headers[name.toLowerCase()]; },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * Security headers on every answer, as helmet makes them: the CSP above, nosniff, no referrer, no framing,
 * same-origin opener and resource policies. No Strict-Transport-Security: Kupe speaks plain HTTP behind
 * the TLS terminator, which sets HSTS for its whole domain (docs/deployment.md).
 *
 * helmet itself, not @fastify/helmet: the plugin builds helmet's middleware anew on every request
 * (parsing the CSP directives each time: 9 % of the server's CPU under load, docs/performance.md); the
 * headers never change, so they are made once and set with one call.
 */
export function registerSecurityHeaders(app: FastifyInstance, docsPrefix: string) {
  const headers = helmetHeaders(OPTIONS);
  const docsHeaders = helmetHeaders({ ...OPTIONS, contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP_DIRECTIVES } });
  const setDocsHeaders: onRequestHookHandler = (_request, reply, done) => { void reply.headers(docsHeaders); done(); };
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(docsPrefix)) return;
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...own, setDocsHeaders];
  });
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
}
