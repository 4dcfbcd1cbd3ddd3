import type { Admission } from './policy.ts';

/**
 * Per-IP request limits and the authentication-failure backoff. The HTTP layer speaks only to
 * `ClientLimits`, so a shared store (Redis) can replace the in-memory one without touching the routes.
 */
export interface ClientLimits {
  /**
   * Counts one request from ip and says whether the per-IP limit lets it go on: at once when the counts are
   * in this process (no promise on the request path), a promise when they are shared (Redis).
   */
  admit(ip: string, nowMs: number): Admission | Promise<Admission>;
  /** Counts a failure that looks like guessing. */
  recordAuthFailure(ip: string, nowMs: number): Promise<void>;
  /** Called only when admit reported failures, so clean IPs cost nothing. */
  recordAuthSuccess(ip: string): Promise<void>;
}

/** A counter of password attempts, and how many attempts it allows before the waits start. */
export interface AttemptKey {
  key: string;
  allowance: number;
}

/**
 * Password attempts (console sign-in, password change). Each attempt is reserved before the password is
 * checked, as if it were going to fail, so that concurrent attempts cannot all slip in before the first
 * failure is written down; a success gives the counts back (they start over). Once a key has used its
 * allowance it must wait, 1 s doubling up to PASSWORD_BACKOFF_MAX_SECONDS; attempts refused during the
 * wait do not count. A key quiet for twice that long starts over.
 */
export interface AttemptLimiter {
  /** Reserves one attempt under every key; refused, with the longest wait, when any key must wait. */
  reserve(keys: AttemptKey[], nowMs: number): Promise<{ ok: true } | { ok: false; retryAfter: number }>;
  /** The attempt succeeded: these keys start over. */
  reset(keys: AttemptKey[]): Promise<void>;
}

/** Both limiters, on one backing store. */
export interface Limits {
  clients: ClientLimits;
  attempts: AttemptLimiter;
  close(): Promise<void>;
}
