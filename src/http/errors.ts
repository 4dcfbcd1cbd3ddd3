import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../domain/errors.ts';

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
  csrf_rejected: 403,
  password_change_required: 403,
  invite_invalid: 404,
  sign_in_throttled: 429,
  not_a_member: 403,
  admin_required: 403,
  route_not_found: 404,
  tenant_not_found: 404,
  member_not_found: 404,
  api_key_not_found: 404,
  tenant_already_exists: 409,
  member_already_exists: 409,
  last_admin: 409,
  etag_mismatch: 412,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  auth_backoff: 429,
  internal_error: 500,
  not_ready: 503,
};

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

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
    case 'maxLength':
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} must be at most ${String(p.limit)} characters` };
    default:
      return { code: 'validation_failed', message: `${where} ${JSON.stringify(field)} ${error.message ?? 'is invalid'}` };
  }
}

function fromFastifyError(error: FastifyError): { status: number; code: ErrorCode; message: string } | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: 'unsupported media type: send Content-Type: application/json' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'body_too_large', message: 'request body too large' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: 'request body is empty; send a JSON object' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: `request body is not valid JSON: ${error.message}` };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'invalid_json', message: 'request body does not match its Content-Length' };
  }
  if (error instanceof SyntaxError) {
    return { status: 400, code: 'invalid_json', message: `request body is not valid JSON: ${error.message}` };
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, code: 'validation_failed', message: error.message };
  }
  return undefined;
}

export function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string) {
  if (status === 401) void reply.header('www-authenticate', 'Bearer');
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ error: message, code, requestId: reply.request.id });
}

function handleError(this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    return sendError(reply, STATUS_BY_CODE[error.code], error.code, error.message);
  }
  if (error.validation && error.validation.length > 0) {
    const described = describeValidationError(error.validationContext, error.validation[0] as AjvError);
    return sendError(reply, 400, described.code, described.message);
  }
  const known = fromFastifyError(error);
  if (known) return sendError(reply, known.status, known.code, known.message);
  request.log.error({ err: error }, 'unhandled error');
  return sendError(reply, 500, 'internal_error', 'internal server error');
}

/** The one error envelope: { error, code, requestId } for every failure, 404s included. */
export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'route_not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
}
