import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { StoreFault } from '../domain/store.ts';
import { fromFastifyError } from './framework-errors.ts';
import { sendError } from './envelope.ts';
import { FAULT_ANSWERS, type StoreFaults } from './store-faults.ts';
import { type AjvError, describeValidationError } from './validation-messages.ts';
import { answerWrongMethods } from './wrong-methods.ts';

// The handler that gives every failure the envelope (envelope.ts): domain errors, validation, framework
// errors, database faults (503), bugs (500), unknown routes (404) and wrong methods (405).

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
