import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../domain/errors.ts';
import { sendError } from './envelope.ts';
import { BODY_LIMIT_BYTES, MAX_PARAM_LENGTH } from './request-limits.ts';

// Fastify's own errors (content type, body size, JSON, URL) as catalogue codes.

/** A framework error's status, when it is a client's fault and none of the cases below names it. */
const CODE_BY_CLIENT_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'malformed_request', 408: 'request_timeout', 413: 'body_too_large', 414: 'url_too_long',
  415: 'unsupported_media_type', 431: 'headers_too_large',
};

export interface Described { code: ErrorCode; message: string }

export function fromFastifyError(error: FastifyError): Described | undefined {
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

/** Fastify's own errors before routing (a bad percent-escape, an over-long segment), in our envelope. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known = fromFastifyError(error);
  if (!known) reply.log.error({ err: error }, 'unhandled framework error');
  void sendError(reply, known?.code ?? 'internal_error', known?.message ?? 'internal server error');
}
