/**
 * The arithmetic of Kupe's limits, pure: the per-IP fixed window, the authentication-failure backoff and
 * the password-attempt waits. The in-memory and the Redis limiters only count; what the counts mean is
 * decided here, once (the Redis scripts index a table this module computes, they do no arithmetic).
 */

export interface RateInfo {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * The backoff never refuses a request by itself: a request whose credential verifies is served whatever
 * the address's failures (many CI jobs share one NAT address). `backoffSeconds` > 0 says the address is in
 * backoff, so a request from it that fails like a guess answers 429.
 */
export type Admission =
  | { ok: true; rate?: RateInfo | undefined; authFailures: number; backoffSeconds: number }
  | { ok: false; reason: 'rate_limited'; retryAfter: number; rate?: RateInfo | undefined };

export interface LimitSettings {
  /** Requests per window per IP; 0: no per-IP limit. */
  perWindow: number;
  windowMs: number;
  /** Failures tolerated before backoff starts. */
  backoffAfter: number;
  backoffMaxSeconds: number;
}

/** The per-IP window is a minute. */
export const RATE_WINDOW_SECONDS = 60;
/** Password attempts (console sign-in, password change) wait at most this long. */
export const PASSWORD_BACKOFF_MAX_SECONDS = 900;

/**
 * The waits after each failure beyond the allowance: 1 s, doubling, capped at maxSeconds; the last one
 * repeats for every further failure.
 */
export function backoffSteps(maxSeconds: number): number[] {
  const steps: number[] = [];
  for (let wait = 1; wait < maxSeconds; wait *= 2) steps.push(wait);
  steps.push(maxSeconds);
  return steps;
}

/** The wait after `failures` failures when `allowance` are tolerated (steps from backoffSteps). */
export function backoffSeconds(failures: number, allowance: number, steps: readonly number[]): number {
  return failures < allowance ? 0 : steps[Math.min(failures - allowance, steps.length - 1)]!;
}

/** Seconds until blockedUntil, at least 1; 0 when it has passed. */
export function secondsUntil(blockedUntil: number, nowMs: number): number {
  return blockedUntil > nowMs ? Math.max(1, Math.ceil((blockedUntil - nowMs) / 1000)) : 0;
}

/** The fixed window a moment falls in. */
export function windowOf(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs);
}

/** What an address's counts mean for its request: over the limit, or admitted with its backoff state. */
export function admission(
  settings: Pick<LimitSettings, 'perWindow' | 'windowMs'>,
  counts: { nowMs: number; requestsInWindow: number; failures: number; blockedUntil: number },
): Admission {
  const { perWindow, windowMs } = settings;
  let rate: RateInfo | undefined;
  if (perWindow > 0) {
    const resetSeconds = Math.max(1, Math.ceil(((windowOf(counts.nowMs, windowMs) + 1) * windowMs - counts.nowMs) / 1000));
    rate = { limit: perWindow, remaining: Math.max(0, perWindow - counts.requestsInWindow), resetSeconds };
    if (counts.requestsInWindow > perWindow) return { ok: false, reason: 'rate_limited', retryAfter: resetSeconds, rate };
  }
  return { ok: true, rate, authFailures: counts.failures, backoffSeconds: secondsUntil(counts.blockedUntil, counts.nowMs) };
}

/** The limit settings from the server's configuration. */
export function limitSettings(config: { rateLimit: number; authBackoffAfter: number; authBackoffMaxSeconds: number }): LimitSettings {
  return {
    perWindow: config.rateLimit,
    windowMs: RATE_WINDOW_SECONDS * 1000,
    backoffAfter: config.authBackoffAfter,
    backoffMaxSeconds: config.authBackoffMaxSeconds,
  };
}

/**
 * The address a client is counted under: an IPv4 address as it is (an IPv4-mapped IPv6 address as its IPv4
 * address), an IPv6 address by its first `ipv6PrefixBits` bits (`2001:db8:1:2::/64`). One IPv6 host is
 * normally given a whole /64, so counting full addresses would let it take 2^64 fresh budgets.
 */
export function addressKey(ip: string, ipv6PrefixBits: number): string {
  if (!ip.includes(':')) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const groups = expandIpv6(ip);
  if (!groups) return ip;
  let bits = ipv6PrefixBits;
  const kept = groups.map((group) => {
    const take = Math.max(0, Math.min(16, bits));
    bits -= take;
    return take === 0 ? 0 : group & (0xffff << (16 - take)) & 0xffff;
  });
  return `${kept.map((g) => g.toString(16)).join(':')}/${ipv6PrefixBits}`;
}

/** The eight 16-bit groups of an IPv6 address (zone and embedded IPv4 handled), or undefined. */
function expandIpv6(ip: string): number[] | undefined {
  let text = ip.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail, ...rest] = text.split('::');
  if (rest.length > 0) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...left, ...Array<number>(missing).fill(0), ...right];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}
