import { Redis } from 'ioredis';
import type { AttemptKey, AttemptLimiter, ClientLimits, Limits } from './types.ts';
import {
  type Admission, admission, backoffSteps, type LimitSettings, PASSWORD_BACKOFF_MAX_SECONDS, windowOf,
} from './policy.ts';

// The wait after `count` failures: the steps from backoffSteps() are the last arguments, from ARGV[from]
// on; the last step repeats. Only an index is computed here: the arithmetic is policy.ts's.
const WAIT_AFTER = `
local function wait_after(count, allowance, from)
  if count < allowance then return 0 end
  return tonumber(ARGV[from + math.min(count - allowance, #ARGV - from)])
end`;

// One round trip per request: count the request in its window and read the IP's failure state, atomically.
// KEYS: the window's counter, the failure hash; ARGV: per window, window ms.
const ADMIT = `
local count = 0
if tonumber(ARGV[1]) > 0 then
  count = redis.call('INCR', KEYS[1])
  if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
local f = redis.call('HMGET', KEYS[2], 'count', 'blockedUntil')
return {count, tonumber(f[1]) or 0, tonumber(f[2]) or 0}`;

// One failure. KEYS: the failure hash; ARGV: now, allowance, quiet ms, then the steps.
const FAIL = `${WAIT_AFTER}
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'blockedUntil', tonumber(ARGV[1]) + wait_after(count, tonumber(ARGV[2]), 4) * 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return count`;

// Password attempts (see AttemptLimiter): refuse with the longest wait (ms) if any key must wait, else count
// one attempt under every key. KEYS: the counters; ARGV: now, quiet ms, each key's allowance, then the steps.
const RESERVE = `${WAIT_AFTER}
local now = tonumber(ARGV[1])
local wait = 0
for i, k in ipairs(KEYS) do
  local b = tonumber(redis.call('HGET', k, 'blockedUntil')) or 0
  if b - now > wait then wait = b - now end
end
if wait > 0 then return wait end
for i, k in ipairs(KEYS) do
  local c = redis.call('HINCRBY', k, 'count', 1)
  redis.call('HSET', k, 'blockedUntil', now + wait_after(c, tonumber(ARGV[2 + i]), 3 + #KEYS) * 1000)
  redis.call('PEXPIRE', k, ARGV[2])
end
return 0`;

/**
 * The per-IP limit, the authentication backoff and the password attempts, shared by every instance through
 * Redis. If Redis cannot answer, requests are let through (fail open: an outage of the limiter must not
 * become an outage of authentication) and every failure is reported through onError, which the server
 * logs loudly.
 */
export class RedisLimits implements Limits, ClientLimits, AttemptLimiter {
  readonly #redis: Redis;
  readonly #settings: LimitSettings;
  readonly #failureSteps: number[];
  readonly #attemptSteps = backoffSteps(PASSWORD_BACKOFF_MAX_SECONDS);
  readonly #prefix: string;
  readonly #onError: (error: unknown) => void;

  constructor(url: string, settings: LimitSettings, onError: (error: unknown) => void, prefix = 'kupe:') {
    this.#settings = settings;
    this.#failureSteps = backoffSteps(settings.backoffMaxSeconds);
    this.#prefix = prefix;
    this.#onError = onError;
    this.#redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false, // refuse at once while disconnected, never queue requests
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.#redis.on('error', () => undefined); // reported per command, through onError
    this.#redis.defineCommand('kupeAdmit', { numberOfKeys: 2, lua: ADMIT });
    this.#redis.defineCommand('kupeFail', { numberOfKeys: 1, lua: FAIL });
    this.#redis.defineCommand('kupeReserve', { lua: RESERVE });
  }

  get clients(): ClientLimits { return this; }
  get attempts(): AttemptLimiter { return this; }

  get #commands() {
    return this.#redis as unknown as {
      kupeAdmit(rate: string, fail: string, perWindow: number, windowMs: number): Promise<[number, number, number]>;
      kupeFail(fail: string, now: number, allowance: number, quietMs: number, ...steps: number[]): Promise<number>;
      kupeReserve(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<number>;
    };
  }

  /** Runs a Redis call; on failure reports it and answers `fallback` (fail open). */
  async #failOpen<T>(call: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.#onError(error);
      return fallback;
    }
  }

  /** Resolves once connected, or false after timeoutMs (requests meanwhile fail open). */
  async waitUntilReady(timeoutMs = 2000): Promise<boolean> {
    if (this.#redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#redis.once('ready', () => { clearTimeout(timer); resolve(true); });
    });
  }

  async admit(ip: string, nowMs: number): Promise<Admission> {
    const { perWindow, windowMs } = this.#settings;
    const counts = await this.#failOpen(() => this.#commands.kupeAdmit(
      `${this.#prefix}rl:${windowOf(nowMs, windowMs)}:${ip}`, `${this.#prefix}af:${ip}`, perWindow, windowMs), undefined);
    if (!counts) return { ok: true, authFailures: 0, backoffSeconds: 0 };
    const [requestsInWindow, failures, blockedUntil] = counts;
    return admission(this.#settings, { nowMs, requestsInWindow, failures, blockedUntil });
  }

  async recordAuthFailure(ip: string, nowMs: number): Promise<void> {
    const { backoffAfter, backoffMaxSeconds } = this.#settings;
    await this.#failOpen(() => this.#commands.kupeFail(
      `${this.#prefix}af:${ip}`, nowMs, backoffAfter, backoffMaxSeconds * 2000, ...this.#failureSteps), 0);
  }

  async recordAuthSuccess(ip: string): Promise<void> {
    await this.#failOpen(() => this.#redis.del(`${this.#prefix}af:${ip}`), 0);
  }

  async reserve(keys: AttemptKey[], nowMs: number): Promise<{ ok: true } | { ok: false; retryAfter: number }> {
    const waitMs = await this.#failOpen(() => this.#commands.kupeReserve(keys.length,
      ...keys.map((k) => `${this.#prefix}pw:${k.key}`),
      nowMs, PASSWORD_BACKOFF_MAX_SECONDS * 2000, ...keys.map((k) => k.allowance), ...this.#attemptSteps), 0);
    return waitMs > 0 ? { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) } : { ok: true };
  }

  async reset(keys: AttemptKey[]): Promise<void> {
    await this.#failOpen(() => this.#redis.del(...keys.map((k) => `${this.#prefix}pw:${k.key}`)), 0);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
