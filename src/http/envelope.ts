import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../domain/errors.ts';
import { STATUS_BY_CODE } from './status-codes.ts';

/** The one error envelope: `{ error, code, requestId }`, the status from the catalogue, Bearer on a 401. */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string) {
  const status = STATUS_BY_CODE[code];
  if (status === 401) void reply.header('www-authenticate', 'Bearer');
  return reply
    .code(status)
    .header('x-request-id', reply.request.id)
    .type('application/json; charset=utf-8')
    .send({ error: message, code, requestId: reply.request.id });
}
