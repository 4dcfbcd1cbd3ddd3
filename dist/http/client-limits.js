/** Addresses each in-memory table remembers at most; the least recently seen go first. */
export const MAX_TRACKED_ADDRESSES = 100_000;
/** Sets key (as the most recent) and forgets the oldest entries beyond max. */
export function setBounded(map, key, value, max = MAX_TRACKED_ADDRESSES) {
    map.delete(key);
    map.set(key, value);
    while (map.size > max)
        map.delete(map.keys().next().value);
}
/** Seconds until blockedUntil, at least 1; 0 when it has passed. */
export function secondsUntil(blockedUntil, nowMs) {
    return blockedUntil > nowMs ? Math.max(1, Math.ceil((blockedUntil - nowMs) / 1000)) : 0;
}
/** Backoff after n failures: 1 s at the threshold, doubling, capped. */
export function backoffSeconds(failures, settings) {
    if (failures < settings.backoffAfter)
        return 0;
    const exponent = Math.min(failures - settings.backoffAfter, 30);
    return Math.min(2 ** exponent, settings.backoffMaxSeconds);
}
/**
 * One process's counters: a fixed window per IP (cleared wholesale when the
 * window turns, so memory holds only the current window's IPs), and failure
 * counts forgotten after a quiet period twice the longest backoff. Each table
 * holds at most MAX_TRACKED_ADDRESSES addresses.
 */
export class MemoryClientLimits {
    settings;
    window = -1;
    counts = new Map();
    failures = new Map();
    constructor(settings) {
        this.settings = settings;
    }
    async admit(ip, nowMs) {
        const { perWindow, windowMs } = this.settings;
        const window = Math.floor(nowMs / windowMs);
        if (window !== this.window) {
            this.window = window;
            this.counts.clear();
            this.forgetQuietFailures(nowMs);
        }
        let rate;
        if (perWindow > 0) {
            const count = (this.counts.get(ip) ?? 0) + 1;
            setBounded(this.counts, ip, count);
            const resetSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - nowMs) / 1000));
            rate = { limit: perWindow, remaining: Math.max(0, perWindow - count), resetSeconds };
            if (count > perWindow)
                return { ok: false, reason: 'rate_limited', retryAfter: resetSeconds, rate };
        }
        const failure = this.failures.get(ip);
        return { ok: true, rate, authFailures: failure?.count ?? 0, backoffSeconds: secondsUntil(failure?.blockedUntil ?? 0, nowMs) };
    }
    async recordAuthFailure(ip, nowMs) {
        const state = this.failures.get(ip) ?? { count: 0, blockedUntil: 0, lastFailure: 0 };
        state.count += 1;
        state.lastFailure = nowMs;
        state.blockedUntil = nowMs + backoffSeconds(state.count, this.settings) * 1000;
        setBounded(this.failures, ip, state);
    }
    async recordAuthSuccess(ip) {
        this.failures.delete(ip);
    }
    forgetQuietFailures(nowMs) {
        const quietMs = this.settings.backoffMaxSeconds * 2000;
        for (const [ip, state] of this.failures) {
            if (nowMs - state.lastFailure > quietMs)
                this.failures.delete(ip);
        }
    }
}
