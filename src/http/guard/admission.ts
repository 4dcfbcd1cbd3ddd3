import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import type { Admission } from '../../limits/index.ts';
import type { GuardDeps } from './types.ts';

export type Admitted = Extract<Admission, { ok: true }>;

/**
 * The per-address limit: counts the request, sets the RateLimit headers, and answers 429 over the limit (a
 * thrown AppError). At once with the in-process limits; a promise with the shared ones.
 */
export function admit(
  request: FastifyRequest, reply: FastifyReply, deps: Pick<GuardDeps, 'limits' | 'metrics'>, windowSeconds: number, now: Date,
): Admitted | Promise<Admitted> {
  const admission = deps.limits.admit(request.clientAddress, now.getTime());
  return admission instanceof Promise
    ? admission.then((counted) => admitted(reply, deps, windowSeconds, counted))
    : admitted(reply, deps, windowSeconds, admission);
}

function admitted(reply: FastifyReply, deps: Pick<GuardDeps, 'metrics'>, windowSeconds: number, admission: Admission): Admitted {
  const rate = admission.rate;
  if (rate) {
    void reply.headers({
      'ratelimit-limit': rate.limit,
      'ratelimit-remaining': rate.remaining,
      'ratelimit-reset': rate.resetSeconds,
      'ratelimit-policy': `${rate.limit};w=${windowSeconds}`,
    });
  }
  if (!admission.ok) {
    deps.metrics.limited.inc({ reason: admission.reason });
    void reply.header('retry-after', admission.retryAfter);
    throw new AppError('rate_limited', 'rate limit exceeded');
  }
  return admission;
}

/**
 * A failure that looks like guessing: answered 429 while the address is in backoff (and not counted again),
 * otherwise counted (and the caller answers 401).
 */
export async function countGuess(
  request: FastifyRequest, reply: FastifyReply, deps: Pick<GuardDeps, 'limits' | 'metrics'>, admission: Admitted, now: Date,
): Promise<void> {
  refuseInBackoff(reply, deps, admission);
  await deps.limits.recordAuthFailure(request.clientAddress, now.getTime());
}

/** 429 while the address is in backoff (not counted again); nothing otherwise. */
export function refuseInBackoff(reply: FastifyReply, deps: Pick<GuardDeps, 'metrics'>, admission: Admitted): void {
  if (admission.backoffSeconds <= 0) return;
  deps.metrics.limited.inc({ reason: 'auth_backoff' });
  void reply.header('retry-after', admission.backoffSeconds);
  throw new AppError('auth_backoff', 'too many failed authentication attempts from this address; retry later');
}

/** A credential verified: the address's failures are forgotten (only asked, and waited for, when it had some). */
export function forgiveFailures(request: FastifyRequest, deps: Pick<GuardDeps, 'limits'>, admission: Admitted): Promise<void> | undefined {
  return admission.authFailures > 0 ? deps.limits.recordAuthSuccess(request.clientAddress) : undefined;
}
