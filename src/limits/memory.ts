import { Lru } from '../lru.ts';
import type { AttemptKey, AttemptLimiter, ClientLimits, Limits } from './types.ts';
import {
  type Admission, admission, backoffSeconds, backoffSteps, type LimitSettings, PASSWORD_BACKOFF_MAX_SECONDS, secondsUntil,
  windowOf,
} from './policy.ts';

/** Addresses (or attempt keys) each in-memory table remembers at most; the least recently seen go first. */
export const MAX_TRACKED_ADDRESSES = 100_000;

interface FailureState {
  count: number;
  blockedUntil: number;
  last: number;
}

/**
 * One process's counters: a fixed window per IP (cleared wholesale when the window turns, so memory holds
 * only the current window's IPs), and failure counts forgotten after a quiet period twice the longest
 * backoff. Each table holds at most MAX_TRACKED_ADDRESSES addresses.
 */
export class MemoryClientLimits implements ClientLimits {
  readonly #settings: LimitSettings;
  readonly #steps: number[];
  #window = -1;
  readonly #counts = new Lru<string, number>(MAX_TRACKED_ADDRESSES);
  readonly #failures = new Lru<string, FailureState>(MAX_TRACKED_ADDRESSES);

  constructor(settings: LimitSettings) {
    this.#settings = settings;
    this.#steps = backoffSteps(settings.backoffMaxSeconds);
  }

  admit(ip: string, nowMs: number): Admission {
    const window = windowOf(nowMs, this.#settings.windowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts.clear();
      this.#forgetQuietFailures(nowMs);
    }
    let requestsInWindow = 0;
    if (this.#settings.perWindow > 0) {
      requestsInWindow = (this.#counts.peek(ip) ?? 0) + 1;
      this.#counts.set(ip, requestsInWindow);
    }
    const failure = this.#failures.peek(ip);
    return admission(this.#settings, { nowMs, requestsInWindow, failures: failure?.count ?? 0, blockedUntil: failure?.blockedUntil ?? 0 });
  }

  async recordAuthFailure(ip: string, nowMs: number): Promise<void> {
    const state = this.#failures.peek(ip) ?? { count: 0, blockedUntil: 0, last: 0 };
    state.count += 1;
    state.last = nowMs;
    state.blockedUntil = nowMs + backoffSeconds(state.count, this.#settings.backoffAfter, this.#steps) * 1000;
    this.#failures.set(ip, state);
  }

  async recordAuthSuccess(ip: string): Promise<void> {
    this.#failures.delete(ip);
  }

  /** How many addresses each table holds now (bounded by MAX_TRACKED_ADDRESSES). */
  tracked(): { requests: number; failures: number } {
    return { requests: this.#counts.size, failures: this.#failures.size };
  }

  #forgetQuietFailures(nowMs: number) {
    const quietMs = this.#settings.backoffMaxSeconds * 2000;
    for (const [ip, state] of this.#failures.entries()) {
      if (nowMs - state.last > quietMs) this.#failures.delete(ip);
    }
  }
}

/** One process's password-attempt counts: at most MAX_TRACKED_ADDRESSES keys (the least recently used go first). */
export class MemoryAttemptLimiter implements AttemptLimiter {
  readonly #maxSeconds: number;
  readonly #steps: number[];
  readonly #states = new Lru<string, FailureState>(MAX_TRACKED_ADDRESSES);

  constructor(maxSeconds = PASSWORD_BACKOFF_MAX_SECONDS) {
    this.#maxSeconds = maxSeconds;
    this.#steps = backoffSteps(maxSeconds);
  }

  async reserve(keys: AttemptKey[], nowMs: number) {
    const current = (key: string) => {
      const state = this.#states.peek(key);
      return state && nowMs - state.last <= this.#maxSeconds * 2000 ? state : undefined;
    };
    const wait = Math.max(0, ...keys.map(({ key }) => secondsUntil(current(key)?.blockedUntil ?? 0, nowMs)));
    if (wait > 0) return { ok: false as const, retryAfter: wait };
    for (const { key, allowance } of keys) {
      const state = current(key) ?? { count: 0, blockedUntil: 0, last: 0 };
      state.count += 1;
      state.last = nowMs;
      state.blockedUntil = nowMs + backoffSeconds(state.count, allowance, this.#steps) * 1000;
      this.#states.set(key, state);
    }
    return { ok: true as const };
  }

  async reset(keys: AttemptKey[]) {
    for (const { key } of keys) this.#states.delete(key);
  }
}

/** Both limiters in this process's memory (one instance, or tests). */
export function memoryLimits(settings: LimitSettings): Limits {
  return { clients: new MemoryClientLimits(settings), attempts: new MemoryAttemptLimiter(), close: async () => {} };
}
