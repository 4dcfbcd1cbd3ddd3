import { backoffSeconds, secondsUntil, setBounded } from './client-limits.ts';

/** A counter of password attempts, and how many attempts it allows before the waits start. */
export interface AttemptKey {
  key: string;
  allowance: number;
}

/**
 * Password attempts (console sign-in, password change). Each attempt is
 * reserved before the password is checked, as if it were going to fail, so
 * that concurrent attempts cannot all slip in before the first failure is
 * written down; a success gives the counts back (they start over). Once a
 * key has used its allowance it must wait, 1 s doubling up to maxSeconds;
 * attempts refused during the wait do not count. A key quiet for twice
 * maxSeconds starts over.
 */
export interface AttemptLimiter {
  /** Reserves one attempt under every key; refused, with the longest wait, when any key must wait. */
  reserve(keys: AttemptKey[], nowMs: number): Promise<{ ok: true } | { ok: false; retryAfter: number }>;
  /** The attempt succeeded: these keys start over. */
  reset(keys: AttemptKey[]): Promise<void>;
}

interface AttemptState { count: number; blockedUntil: number; last: number }

/** One process's attempt counts: at most MAX_TRACKED_ADDRESSES keys (the least recently used go first). */
export class MemoryAttemptLimiter implements AttemptLimiter {
  readonly #maxSeconds: number;
  readonly #states = new Map<string, AttemptState>();

  constructor(maxSeconds: number) {
    this.#maxSeconds = maxSeconds;
  }

  async reserve(keys: AttemptKey[], nowMs: number) {
    const current = (key: string) => {
      const state = this.#states.get(key);
      return state && nowMs - state.last <= this.#maxSeconds * 2000 ? state : undefined;
    };
    const wait = Math.max(0, ...keys.map(({ key }) => secondsUntil(current(key)?.blockedUntil ?? 0, nowMs)));
    if (wait > 0) return { ok: false as const, retryAfter: wait };
    for (const { key, allowance } of keys) {
      const state = current(key) ?? { count: 0, blockedUntil: 0, last: 0 };
      state.count += 1;
      state.last = nowMs;
      state.blockedUntil = nowMs + backoffSeconds(state.count, { backoffAfter: allowance, backoffMaxSeconds: this.#maxSeconds }) * 1000;
      setBounded(this.#states, key, state);
    }
    return { ok: true as const };
  }

  async reset(keys: AttemptKey[]) {
    for (const { key } of keys) this.#states.delete(key);
  }
}
