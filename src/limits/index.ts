import type { LimitSettings } from './policy.ts';
import type { Limits } from './types.ts';

export type { AttemptKey, AttemptLimiter, ClientLimits, Limits } from './types.ts';
export type { Admission, LimitSettings, RateInfo } from './policy.ts';

/**
 * The limits a server runs with: in this process's memory, or shared by every instance through Redis
 * (loaded only then). Redis failures fail open and are reported through onError.
 */
export async function openLimits(
  settings: LimitSettings,
  redis: { url: string; prefix: string; onError: (error: unknown) => void; onSlowStart: () => void } | undefined,
): Promise<Limits> {
  if (!redis) {
    const { memoryLimits } = await import('./memory.ts');
    return memoryLimits(settings);
  }
  const { RedisLimits } = await import('./redis.ts');
  const limits = new RedisLimits(redis.url, settings, redis.onError, redis.prefix);
  if (!(await limits.waitUntilReady())) redis.onSlowStart();
  return limits;
}
