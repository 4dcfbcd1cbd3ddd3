import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../domain/errors.ts';
import type { Described } from './framework-errors.ts';
import { STATUS_BY_CODE } from './status-codes.ts';

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
