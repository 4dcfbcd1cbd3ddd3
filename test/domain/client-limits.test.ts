import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffSeconds, MemoryClientLimits } from '../../src/http/client-limits.ts';

const settings = { perWindow: 3, windowMs: 60_000, backoffAfter: 3, backoffMaxSeconds: 8 };
const t0 = 1_800_000_000_000; // a window boundary

test('a fixed window admits perWindow requests per IP, then says when to retry', async () => {
  const limits = new MemoryClientLimits(settings);
  for (let i = 0; i < 3; i++) assert.equal((await limits.admit('10.0.0.1', t0 + i)).ok, true);
  const refused = await limits.admit('10.0.0.1', t0 + 15_000);
  assert.deepEqual(refused, {
    ok: false, reason: 'rate_limited', retryAfter: 45, rate: { limit: 3, remaining: 0, resetSeconds: 45 },
  });
  assert.equal((await limits.admit('10.0.0.2', t0 + 15_000)).ok, true, 'another IP is unaffected');
  assert.equal((await limits.admit('10.0.0.1', t0 + 60_000)).ok, true, 'the next window starts afresh');
});

test('a limit of 0 turns the per-IP limit off', async () => {
  const limits = new MemoryClientLimits({ ...settings, perWindow: 0 });
  for (let i = 0; i < 100; i++) assert.equal((await limits.admit('10.0.0.1', t0)).ok, true);
});

test('backoff doubles from 1 s after the threshold and is capped', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 40].map((n) => backoffSeconds(n, settings)), [0, 0, 1, 2, 4, 8, 8, 8]);
});

test('auth failures block only the failing IP, and a success resets them', async () => {
  const limits = new MemoryClientLimits({ ...settings, perWindow: 0 });
  for (let i = 0; i < 4; i++) await limits.recordAuthFailure('10.0.0.9', t0);
  assert.deepEqual(await limits.admit('10.0.0.9', t0), { ok: false, reason: 'auth_backoff', retryAfter: 2, rate: undefined });
  assert.equal((await limits.admit('10.0.0.8', t0)).ok, true);
  const later = await limits.admit('10.0.0.9', t0 + 2_000);
  assert.deepEqual(later, { ok: true, rate: undefined, authFailures: 4 });
  await limits.recordAuthSuccess('10.0.0.9');
  await limits.recordAuthFailure('10.0.0.9', t0 + 2_000);
  assert.equal((await limits.admit('10.0.0.9', t0 + 2_000)).ok, true, 'the count started over');
});
