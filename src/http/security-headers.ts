import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { appendRouteHook } from './route-hooks.ts';

/**
 * The console's Content-Security-Policy: it may load only its own scripts, styles and images and talk only
 * to its own origin; nobody may frame it; forms post nowhere else.
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

/**
 * What an API answer (JSON, or the gateway's empty 200) needs, as OWASP's REST Security Cheat Sheet lists
 * it: never cached, never framed, never sniffed into HTML; `default-src 'none'` also keeps a browser tricked
 * into rendering one from running or loading anything. The page headers (a CSP with sources, referrer,
 * opener and resource policies) concern documents, which an API answer is not: each header costs every
 * answer its bytes and Node's validation (docs/performance.md).
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
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
 * Every answer's own headers, set by the first hook of its route: its request id, then
 * - under `/api/`: the API set above;
 * - the console, the API reference and anything else a browser may show: helmet's set for the options
 *   above (the CSP, nosniff, no referrer, no framing, same-origin opener and resource policies); the API
 *   reference also allows inline styles;
 * - the gateway's verification: GATEWAY_HEADERS below.
 * No Strict-Transport-Security: Kupe speaks plain HTTP behind the TLS terminator, which sets HSTS for its
 * whole domain (docs/deployment.md).
 *
 * helmet itself, not @fastify/helmet: the plugin builds helmet's middleware anew on every request (parsing
 * the CSP directives each time: 9 % of the server's CPU under load, docs/performance.md); the headers never
 * change, so they are made once and set with one call.
 */
export function registerAnswerHeaders(app: FastifyInstance, docsPrefix: string) {
  const pageHeaders = helmetHeaders(OPTIONS);
  const docsHeaders = helmetHeaders({ ...OPTIONS, contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP_DIRECTIVES } });
  const headersFor = (url: string) => (url.startsWith(docsPrefix) ? docsHeaders : url.startsWith('/api/') ? API_HEADERS : pageHeaders);
  // Chosen once per route, when it is registered; requests that match no route choose by their path.
  app.addHook('onRoute', (route) => {
    const headers = route.config?.access === 'gateway' ? GATEWAY_HEADERS : headersFor(route.url);
    appendRouteHook(route, 'onRequest', (request, reply, done) => { void reply.header('x-request-id', request.id).headers(headers); done(); });
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (request.is404) void reply.header('x-request-id', request.id).headers(headersFor(request.url));
    done();
  });
}

/**
 * The gateway's verification answers: an allowed one is read by the gateway alone (nginx, Caddy and Traefik
 * copy only the X-Kupe-* headers they are told to, docs/gateway.md), so it carries no browser headers, only
 * what keeps it out of every cache. A refusal may reach a browser as it is (Caddy passes it on): it gets the
 * whole API set (API_HEADERS) where it is answered (src/http/routes/gateway.ts).
 */
const GATEWAY_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store' };
