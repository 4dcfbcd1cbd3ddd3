import { backoffSeconds, secondsUntil, setBounded } from "./client-limits.js";
/** One process's attempt counts: at most MAX_TRACKED_ADDRESSES keys (the least recently used go first). */
export class MemoryAttemptLimiter {
    #maxSeconds;
    #states = new Map();
    constructor(maxSeconds) {
        this.#maxSeconds = maxSeconds;
    }
    async reserve(keys, nowMs) {
        const current = (key) => {
            const state = this.#states.get(key);
            return state && nowMs - state.last <= this.#maxSeconds * 2000 ? state : undefined;
        };
        const wait = Math.max(0, ...keys.map(({ key }) => secondsUntil(current(key)?.blockedUntil ?? 0, nowMs)));
        if (wait > 0)
            return { ok: false, retryAfter: wait };
        for (const { key, allowance } of keys) {
            const state = current(key) ?? { count: 0, blockedUntil: 0, last: 0 };
            state.count += 1;
            state.last = nowMs;
            state.blockedUntil = nowMs + backoffSeconds(state.count, { backoffAfter: allowance, backoffMaxSeconds: this.#maxSeconds }) * 1000;
            setBounded(this.#states, key, state);
        }
        return { ok: true };
    }
    async reset(keys) {
        for (const { key } of keys)
            this.#states.delete(key);
    }
}
