import { Redis } from 'ioredis';
import { secondsUntil } from "./client-limits.js";
// One round trip per request: count the request in its window and read the
// IP's failure state, atomically.
const ADMIT = `
local count = 0
if tonumber(ARGV[1]) > 0 then
  count = redis.call('INCR', KEYS[1])
  if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
local f = redis.call('HMGET', KEYS[2], 'count', 'blockedUntil')
return {count, tonumber(f[1]) or 0, tonumber(f[2]) or 0}`;
// ARGV: now, backoff after, max seconds, quiet ms. Same arithmetic as backoffSeconds() in client-limits.ts.
const FAIL = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local wait = 0
if count >= tonumber(ARGV[2]) then
  wait = math.min(2 ^ math.min(count - tonumber(ARGV[2]), 30), tonumber(ARGV[3]))
end
redis.call('HSET', KEYS[1], 'blockedUntil', tonumber(ARGV[1]) + wait * 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return count`;
// Password attempts (see AttemptLimiter): refuse with the longest wait (ms) if any key must wait, else count
// one attempt under every key. KEYS: the counters; ARGV: now, max seconds, quiet ms, then each key's allowance.
const RESERVE = `
local now = tonumber(ARGV[1])
local wait = 0
for i, k in ipairs(KEYS) do
  local b = tonumber(redis.call('HGET', k, 'blockedUntil')) or 0
  if b - now > wait then wait = b - now end
end
if wait > 0 then return wait end
for i, k in ipairs(KEYS) do
  local c = redis.call('HINCRBY', k, 'count', 1)
  local allowance = tonumber(ARGV[3 + i])
  local w = 0
  if c >= allowance then w = math.min(2 ^ math.min(c - allowance, 30), tonumber(ARGV[2])) end
  redis.call('HSET', k, 'blockedUntil', now + w * 1000)
  redis.call('PEXPIRE', k, ARGV[3])
end
return 0`;
/**
 * The per-IP limit and the authentication backoff shared by every instance
 * through Redis. If Redis cannot answer, requests are let through (fail open:
 * an outage of the limiter must not become an outage of authentication) and
 * every failure is reported through onError, which the server logs loudly.
 */
export class RedisClientLimits {
    redis;
    settings;
    prefix;
    onError;
    constructor(url, settings, onError, prefix = 'kupe:') {
        this.settings = settings;
        this.prefix = prefix;
        this.onError = onError;
        this.redis = new Redis(url, {
            lazyConnect: false,
            enableOfflineQueue: false, // refuse at once while disconnected, never queue requests
            maxRetriesPerRequest: 0,
            commandTimeout: 250,
            connectTimeout: 1000,
            retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
        });
        this.redis.on('error', () => undefined); // reported per command, through onError
        this.redis.defineCommand('kupeAdmit', { numberOfKeys: 2, lua: ADMIT });
        this.redis.defineCommand('kupeFail', { numberOfKeys: 1, lua: FAIL });
        this.redis.defineCommand('kupeReserve', { lua: RESERVE });
    }
    get commands() {
        return this.redis;
    }
    /** Resolves once connected, or false after timeoutMs (requests meanwhile fail open). */
    async waitUntilReady(timeoutMs = 2000) {
        if (this.redis.status === 'ready')
            return true;
        return new Promise((resolve) => {
            const timer = setTimeout(() => resolve(false), timeoutMs);
            this.redis.once('ready', () => { clearTimeout(timer); resolve(true); });
        });
    }
    async admit(ip, nowMs) {
        const { perWindow, windowMs } = this.settings;
        const window = Math.floor(nowMs / windowMs);
        let count, failures, blockedUntil;
        try {
            [count, failures, blockedUntil] = await this.commands.kupeAdmit(`${this.prefix}rl:${window}:${ip}`, `${this.prefix}af:${ip}`, perWindow, windowMs);
        }
        catch (error) {
            this.onError(error);
            return { ok: true, authFailures: 0, backoffSeconds: 0 };
        }
        let rate;
        if (perWindow > 0) {
            const resetSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - nowMs) / 1000));
            rate = { limit: perWindow, remaining: Math.max(0, perWindow - count), resetSeconds };
            if (count > perWindow)
                return { ok: false, reason: 'rate_limited', retryAfter: resetSeconds, rate };
        }
        return { ok: true, rate, authFailures: failures, backoffSeconds: secondsUntil(blockedUntil, nowMs) };
    }
    async recordAuthFailure(ip, nowMs) {
        const { backoffAfter, backoffMaxSeconds } = this.settings;
        try {
            await this.commands.kupeFail(`${this.prefix}af:${ip}`, nowMs, backoffAfter, backoffMaxSeconds, backoffMaxSeconds * 2000);
        }
        catch (error) {
            this.onError(error);
        }
    }
    async recordAuthSuccess(ip) {
        try {
            await this.redis.del(`${this.prefix}af:${ip}`);
        }
        catch (error) {
            this.onError(error);
        }
    }
    /** Password attempts counted in the same Redis (fail open, reported like every other Redis failure). */
    attempts(maxSeconds) {
        return {
            reserve: async (keys, nowMs) => {
                try {
                    const waitMs = await this.commands.kupeReserve(keys.length, ...keys.map((k) => `${this.prefix}pw:${k.key}`), nowMs, maxSeconds, maxSeconds * 2000, ...keys.map((k) => k.allowance));
                    return waitMs > 0 ? { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) } : { ok: true };
                }
                catch (error) {
                    this.onError(error);
                    return { ok: true };
                }
            },
            reset: async (keys) => {
                try {
                    await this.redis.del(...keys.map((k) => `${this.prefix}pw:${k.key}`));
                }
                catch (error) {
                    this.onError(error);
                }
            },
        };
    }
    async close() {
        this.redis.disconnect();
    }
}
