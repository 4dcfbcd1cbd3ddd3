/**
 * Per-IP request limits and the authentication-failure backoff. The HTTP
 * layer speaks only to `ClientLimits`, so a shared store (Redis) can replace
 * the in-memory one without touching the routes.
 */
export interface RateInfo {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * The backoff never refuses a request by itself: a request whose credential
 * verifies is served whatever the address's failures (SPEC section 5: many CI
 * jobs share one NAT address). `backoffSeconds` > 0 says the address is in
 * backoff, so a request from it that fails like a guess answers 429.
 */
export type Admission =
  | { ok: true; rate?: RateInfo | undefined; authFailures: number; backoffSeconds: number }
  | { ok: false; reason: 'rate_limited'; retryAfter: number; rate?: RateInfo | undefined };

export interface ClientLimits {
  /** Counts one request from ip and says whether the per-IP limit lets it go on. */
  admit(ip: string, nowMs: number): Promise<Admission>;
  /** Counts a failure that looks like guessing. */
  recordAuthFailure(ip: string, nowMs: number): Promise<void>;
  /** Called only when admit reported failures, so clean IPs cost nothing. */
  recordAuthSuccess(ip: string): Promise<void>;
  close?(): Promise<void>;
}

export interface LimitSettings {
  /** Requests per window per IP; 0: no per-IP limit. */
  perWindow: number;
  windowMs: number;
  /** Failures tolerated before backoff starts. */
  backoffAfter: number;
  backoffMaxSeconds: number;
}

/** Addresses each in-memory table remembers at most; the least recently seen go first. */
export const MAX_TRACKED_ADDRESSES = 100_000;

/** Sets key (as the most recent) and forgets the oldest entries beyond max. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max = MAX_TRACKED_ADDRESSES): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value!);
}

/** Seconds until blockedUntil, at least 1; 0 when it has passed. */
export function secondsUntil(blockedUntil: number, nowMs: number): number {
  return blockedUntil > nowMs ? Math.max(1, Math.ceil((blockedUntil - nowMs) / 1000)) : 0;
}

interface FailureState {
  count: number;
  blockedUntil: number;
  lastFailure: number;
}

/** Backoff after n failures: 1 s at the threshold, doubling, capped. */
export function backoffSeconds(failures: number, settings: Pick<LimitSettings, 'backoffAfter' | 'backoffMaxSeconds'>): number {
  if (failures < settings.backoffAfter) return 0;
  const exponent = Math.min(failures - settings.backoffAfter, 30);
  return Math.min(2 ** exponent, settings.backoffMaxSeconds);
}

/**
 * One process's counters: a fixed window per IP (cleared wholesale when the
 * window turns, so memory holds only the current window's IPs), and failure
 * counts forgotten after a quiet period twice the longest backoff. Each table
 * holds at most MAX_TRACKED_ADDRESSES addresses.
 */
export class MemoryClientLimits implements ClientLimits {
  private readonly settings: LimitSettings;
  private window = -1;
  private readonly counts = new Map<string, number>();
  private readonly failures = new Map<string, FailureState>();

  constructor(settings: LimitSettings) {
    this.settings = settings;
  }

  async admit(ip: string, nowMs: number): Promise<Admission> {
    const { perWindow, windowMs } = this.settings;
    const window = Math.floor(nowMs / windowMs);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
      this.forgetQuietFailures(nowMs);
    }
    let rate: RateInfo | undefined;
    if (perWindow > 0) {
      const count = (this.counts.get(ip) ?? 0) + 1;
      setBounded(this.counts, ip, count);
      const resetSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - nowMs) / 1000));
      rate = { limit: perWindow, remaining: Math.max(0, perWindow - count), resetSeconds };
      if (count > perWindow) return { ok: false, reason: 'rate_limited', retryAfter: resetSeconds, rate };
    }
    const failure = this.failures.get(ip);
    return { ok: true, rate, authFailures: failure?.count ?? 0, backoffSeconds: secondsUntil(failure?.blockedUntil ?? 0, nowMs) };
  }

  async recordAuthFailure(ip: string, nowMs: number): Promise<void> {
    const state = this.failures.get(ip) ?? { count: 0, blockedUntil: 0, lastFailure: 0 };
    state.count += 1;
    state.lastFailure = nowMs;
    state.blockedUntil = nowMs + backoffSeconds(state.count, this.settings) * 1000;
    setBounded(this.failures, ip, state);
  }

  async recordAuthSuccess(ip: string): Promise<void> {
    this.failures.delete(ip);
  }

  private forgetQuietFailures(nowMs: number) {
    const quietMs = this.settings.backoffMaxSeconds * 2000;
    for (const [ip, state] of this.failures) {
      if (nowMs - state.lastFailure > quietMs) this.failures.delete(ip);
    }
  }
}
