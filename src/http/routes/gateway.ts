import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { Type } from 'typebox';
import { actorName } from '../../domain/roles.ts';
import { AUTH_ERRORS, errorResponses } from '../schemas.ts';
import { API_HEADERS } from '../security-headers.ts';
import type { App } from './context.ts';

/** Every method a gateway may use to ask (HEAD comes with GET). */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Gateways that take only 2xx, 401 and 403 from their verifier (nginx's auth_request turns anything else into
 * a 500) ask with `?statuses=401-403`: every other refusal is then a 403, and `X-Kupe-Status` carries the real
 * status for the gateway to answer with (docs/gateway.md has the nginx configuration that does).
 */
const StatusesQuery = Type.Object({
  statuses: Type.Optional(Type.Literal('401-403', { description: 'Answer refusals with 401 or 403 only; the real status is in X-Kupe-Status.' })),
}, {
  // Caddy's forward_auth keeps the original request's query string: whatever else is there is ignored.
  additionalProperties: true,
});

export function gatewayRoutes(app: App) {
  // Documented once, as GET; the other methods answer the same (gateways differ in the method they send).
  for (const method of METHODS) {
    app.route({
      method,
      url: '/api/v1/gateway/verify',
      config: { access: 'gateway' },
      schema: method === 'GET' ? VERIFY_SCHEMA : { hide: true, querystring: StatusesQuery },
      // GET (and HEAD) bodies are never read: only the other methods need their body headers dropped.
      ...(method === 'GET' ? {} : { preParsing: ignoreBody }),
      onSend: describeRefusal,
      handler: allow,
    });
  }
}

/**
 * Documented once, as GET. The original-request headers are described, not declared: declaring them would
 * validate them on every verification, and one pair or the other is what is required.
 */
const VERIFY_SCHEMA = {
  summary: 'Verify a request for a gateway',
  description: 'For nginx `auth_request`, Caddy `forward_auth` and the like: decides, by the gateway policy, whether the '
    + 'caller\'s credential (`Authorization: Bearer`, an API key or an access token) may make the request the gateway '
    + 'describes (`X-Original-Method` and `X-Original-URI`, or `X-Forwarded-Method`, `X-Forwarded-Uri` and '
    + '`X-Forwarded-Host`). Allowed: 200 with an empty body and `X-Kupe-Tenant`, `X-Kupe-Role`, `X-Kupe-Principal` and '
    + '`X-Kupe-Credential` for the upstream (empty on a public path). Refused: the error, its JSON also in `X-Kupe-Error` and '
    + 'its status in `X-Kupe-Status`. Any method; no body is read. See docs/gateway.md.',
  tags: ['gateway'], security: [{ bearer: [] }],
  querystring: StatusesQuery,
  response: { 200: Type.Null({ description: 'Allowed; the X-Kupe-* headers say who and as what.' }), ...errorResponses(...AUTH_ERRORS, 400, 429) },
};

/** The original request's body is the upstream's business: never parsed here. */
function ignoreBody(request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload, done: (err: null, payload: RequestPayload) => void) {
  delete request.headers['content-type'];
  delete request.headers['transfer-encoding'];
  request.headers['content-length'] = '0';
  done(null, payload);
}

/**
 * Past the guard: allowed. Who and as what, for the upstream; never the credential. Each header is sent even
 * when empty (a public path; an access token under a rule that needs no tenant): a gateway that copies them
 * then overwrites whatever a client sent (Caddy 2.6 would otherwise pass its own placeholder text on).
 */
function allow(request: FastifyRequest, reply: FastifyReply) {
  const principal = request.principal;
  const email = request.tokenEmail;
  void reply.headers({
    'x-kupe-tenant': principal?.tenant ?? '', 'x-kupe-role': principal?.role ?? '',
    'x-kupe-principal': principal ? actorName(principal) : email ?? '',
    'x-kupe-credential': principal?.kind === 'apikey' ? 'apikey' : principal || email !== null ? 'token' : '',
  });
  // An empty body with its length: nginx keeps its connection to the verifier only when the answer has one.
  void reply.code(200).header('content-length', 0).send();
}

/**
 * A refusal carries its status and its JSON body in headers too, for gateways that drop a verifier's body;
 * with `?statuses=401-403` any status but 401 and 403 becomes 403. It may reach a browser as it is (Caddy
 * passes a refusal on), so it carries the API's security headers, which an allowed answer does without.
 */
function describeRefusal(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) {
  const status = reply.statusCode;
  if (status < 400) return done(null, payload);
  void reply.headers(API_HEADERS).header('x-kupe-status', status);
  // Header values are Latin-1: anything beyond ASCII is escaped, as JSON allows.
  if (typeof payload === 'string') void reply.header('x-kupe-error', payload.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  if ((request.query as { statuses?: string }).statuses === '401-403' && status !== 401 && status !== 403) void reply.code(403);
  done(null, payload);
}
