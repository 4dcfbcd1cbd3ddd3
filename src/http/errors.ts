import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../domain/errors.ts';
import type { StoreFault } from '../domain/store.ts';
import { explainEmail } from '../domain/email.ts';
import { explainDisplayName } from '../domain/validation.ts';
import { DISPLAY_NAME_PATTERN, EMAIL_PATTERN, TIMESTAMP_PATTERN, TIMESTAMP_RULE } from '../domain/vocabulary.ts';
import { FAULT_ANSWERS, type StoreFaults } from './store-faults.ts';

export const BODY_LIMIT_BYTES = 64 * 1024;
export const MAX_PARAM_LENGTH = 300;

/** Every error code's HTTP status. Exhaustive: a new code without a status does not compile. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation_failed: 400,
  unknown_field: 400,
  invalid_json: 400,
  invalid_tenant_name: 400,
  invalid_api_key_id: 400,
  cannot_remove_self: 400,
  authentication_required: 401,
  invalid_api_key: 401,
  api_key_expired: 401,
  api_key_revoked: 401,
  invalid_credentials: 401,
  session_invalid: 401,
  invalid_token: 401,
  token_expired: 401,
  token_missing_groups: 401,
  identity_provider_unavailable: 503,
  password_sign_in_disabled: 403,
  csrf_rejected: 403,
  password_change_required: 403,
  invite_invalid: 404,
  invite_for_another_account: 403,
  account_exists: 409,
  identity_conflict: 409,
  sign_in_throttled: 429,
  not_a_member: 403,
  admin_required: 403,
  plan_change_forbidden: 403,
  route_not_found: 404,
  method_not_allowed: 405,
  tenant_not_found: 404,
  member_not_found: 404,
  user_not_found: 404,
  api_key_not_found: 404,
  tenant_already_exists: 409,
  member_already_exists: 409,
  member_not_pending: 409,
  last_admin: 409,
  api_key_limit_reached: 409,
  member_limit_reached: 409,
  etag_mismatch: 412,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  auth_backoff: 429,
  malformed_request: 400,
  request_timeout: 408,
  url_too_long: 414,
  headers_too_large: 431,
  internal_error: 500,
  store_unavailable: 503,
  not_ready: 503,
};

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  /** The value (Ajv's verbose mode). */
  data?: unknown;
}

/** The domain's own words for the patterns it shares with the schemas. */
const PATTERN_EXPLANATIONS: Record<string, (field: string, value: string) => string> = {
  [DISPLAY_NAME_PATTERN]: explainDisplayName,
  [EMAIL_PATTERN]: (field) => explainEmail(field),
  [TIMESTAMP_PATTERN]: (field) => `${field} must be ${TIMESTAMP_RULE}`,
};

/** `/displayName` in the body becomes `displayName`; `/items/0` becomes `items[0]`. */
function fieldName(part: string | undefined, error: AjvError): string {
  const path = error.instancePath.split('/').filter(Boolean).map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i ? `.${p}` : p));
  const joined = path.join('');
  if (joined) return joined;
  return part === 'body' ? 'body' : `${part ?? 'request'}`;
}

/** Turns the first Ajv error into one sentence that names the field. */
export function describeValidationError(part: string | undefined, error: AjvError): { code: ErrorCode; message: string } {
  const where = part === 'querystring' ? 'query parameter' : 'field';
  const field = fieldName(part, error);
  const p = error.params;
  switch (error.keyword) {
    case 'additionalProperties':
      return { code: 'unknown_field', message: `unknown ${where} ${JSON.stringify(p.additionalProperty)}${part === 'body' ? ' in request body' : ''}` };
    case 'required':
      return { code: 'validation_failed', message: `missing required ${where} ${JSON.stringify(p.missingProperty)}` };
    case 'type':
      return field === 'body'
        ? { code: 'validation_failed', message: `request body must be a JSON ${String(p.type)}` }
        : { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must be of type ${String(p.type)}` };
    case 'enum':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
    case 'const':
    case 'anyOf':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} has an invalid value` };
    case 'minLength':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must not be empty` };
    case 'pattern': {
      const explain = PATTERN_EXPLANATIONS[String(p.pattern)];
      if (explain) return { code: 'validation_failed', message: explain(field, String(error.data)) };
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} has an invalid value` };
    }
    case 'maxLength':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must be at most ${String(p.limit)} characters` };
    default:
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} ${error.message ?? 'is invalid'}` };
  }
}

/** A framework error's status, when it is a client's fault and none of the cases below names it. */
const CODE_BY_CLIENT_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'malformed_request', 408: 'request_timeout', 413: 'body_too_large', 414: 'url_too_long',
  415: 'unsupported_media_type', 431: 'headers_too_large',
};

interface Described { code: ErrorCode; message: string }

function fromFastifyError(error: FastifyError): Described | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported_media_type', message: 'unsupported media type: send Content-Type: application/json' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'body_too_large', message: `request body too large (at most ${BODY_LIMIT_BYTES / 1024} KiB)` };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'invalid_json', message: 'request body is empty; send a JSON object' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'invalid_json', message: `request body is not valid JSON: ${error.message}` };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'invalid_json', message: 'request body does not match its Content-Length' };
    case 'FST_ERR_BAD_URL':
      return { code: 'malformed_request', message: 'the URL is not valid: a percent sign must start a %XX escape of UTF-8 bytes' };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { code: 'url_too_long', message: `a path segment of the URL is longer than ${MAX_PARAM_LENGTH} characters` };
  }
  if (error instanceof SyntaxError) {
    return { code: 'invalid_json', message: `request body is not valid JSON: ${error.message}` };
  }
  const code = error.statusCode === undefined ? undefined : CODE_BY_CLIENT_STATUS[error.statusCode];
  return code && { code, message: error.message };
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string) {
  const status = STATUS_BY_CODE[code];
  if (status === 401) void reply.header('www-authenticate', 'Bearer');
  return reply
    .code(status)
    .header('x-request-id', reply.request.id)
    .type('application/json; charset=utf-8')
    .send({ error: message, code, requestId: reply.request.id });
}

export interface ErrorDeps {
  /** Tells a database fault (answered 503) from a bug (answered 500). */
  describeFault: (error: unknown) => StoreFault | undefined;
  faults: StoreFaults;
}

/** Answers a database fault with 503 store_unavailable and Retry-After. */
export function answerFault(reply: FastifyReply, fault: StoreFault) {
  const answer = FAULT_ANSWERS[fault.kind];
  return sendError(reply.header('retry-after', answer.retryAfter), 'store_unavailable', answer.message);
}

/** Reports a database fault (log, metrics, readiness), then answers it. */
export function sendFault(reply: FastifyReply, faults: StoreFaults, fault: StoreFault, error: unknown) {
  faults.report(fault, error);
  return answerFault(reply, fault);
}

function errorHandler(deps: ErrorDeps) {
  return function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    if (error instanceof AppError) return sendError(reply, error.code, error.message);
    if (error.validation && error.validation.length > 0) {
      const described = describeValidationError(error.validationContext, error.validation[0] as AjvError);
      return sendError(reply, described.code, described.message);
    }
    const known = fromFastifyError(error);
    if (known) return sendError(reply, known.code, known.message);
    const fault = deps.describeFault(error);
    if (fault) return sendFault(reply, deps.faults, fault, error);
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 'internal_error', 'internal server error');
  };
}

/** The one error envelope: { error, code, requestId } for every failure, 404s and 405s included. */
export function registerErrorHandling(app: FastifyInstance, deps: ErrorDeps) {
  app.setErrorHandler(errorHandler(deps));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'route_not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
  answerWrongMethods(app);
}

/**
 * A path that exists, asked with a method it does not take, is 405 with
 * `Allow` (not 404), answered before any body is read.
 */
function answerWrongMethods(app: FastifyInstance) {
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

/** Fastify's own errors before routing (a bad percent-escape, an over-long segment), in our envelope. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known = fromFastifyError(error);
  if (!known) reply.log.error({ err: error }, 'unhandled framework error');
  void sendError(reply, known?.code ?? 'internal_error', known?.message ?? 'internal server error');
}

/** Errors Node's HTTP parser raises before there is a request: the socket gets our envelope, then closes. */
const PARSER_ERRORS: Record<string, Described> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', message: 'request headers are too large (at most 16 KiB in all)' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', message: 'the request did not arrive in time; send headers and body without pausing' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { code: 'malformed_request', message: 'malformed HTTP request: Content-Length and Transfer-Encoding together' },
  HPE_INVALID_METHOD: { code: 'malformed_request', message: 'malformed HTTP request: unknown method' },
};

export function clientErrorHandler(onError: (code: ErrorCode) => void) {
  return function handleClientError(error: Error & { code?: string; reason?: string }, socket: Socket) {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const described = PARSER_ERRORS[error.code ?? ''] ??
      { code: 'malformed_request', message: `malformed HTTP request: ${error.reason ?? error.code ?? 'unreadable'}` };
    onError(described.code);
    // A response already under way cannot be replaced; the socket just closes.
    const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !response?.headersSent) {
      const status = STATUS_BY_CODE[described.code];
      const requestId = randomUUID();
      const body = JSON.stringify({ error: described.message, code: described.code, requestId });
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}
