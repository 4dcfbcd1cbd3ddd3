import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Admission } from '../../src/limits/index.ts';
import { MAX_TRACKED_ADDRESSES, MemoryAttemptLimiter, MemoryClientLimits } from '../../src/limits/memory.ts';

/** An admission that the per-IP limit let through. */
function admitted(admission: Admission) {
  assert.ok(admission.ok, 'admitted');
  return admission;
}

const settings = { perWindow: 3, windowMs: 60_000, backoffAfter: 3, backoffMaxSeconds: 8 };
const t0 = 1_800_000_000_000; // a window boundary

test('a fixed window admits perWindow requests per IP, then says when to retry', async () => {
  const limits = new MemoryClientLimits(settings);
  for (let i = 0; i < 3; i++) assert.equal((limits.admit('10.0.0.1', t0 + i)).ok, true);
  const refused = limits.admit('10.0.0.1', t0 + 15_000);
  assert.deepEqual(refused, {
    ok: false, reason: 'rate_limited', retryAfter: 45, rate: { limit: 3, remaining: 0, resetSeconds: 45 },
  });
  assert.equal((limits.admit('10.0.0.2', t0 + 15_000)).ok, true, 'another IP is unaffected');
  assert.equal((limits.admit('10.0.0.1', t0 + 60_000)).ok, true, 'the next window starts afresh');
});

test('a limit of 0 turns the per-IP limit off', async () => {
  const limits = new MemoryClientLimits({ ...settings, perWindow: 0 });
  for (let i = 0; i < 100; i++) assert.equal((limits.admit('10.0.0.1', t0)).ok, true);
});

test('auth failures put only the failing IP in backoff, and a success resets them', async () => {
  const limits = new MemoryClientLimits({ ...settings, perWindow: 0 });
  for (let i = 0; i < 4; i++) await limits.recordAuthFailure('10.0.0.9', t0);
  assert.deepEqual(limits.admit('10.0.0.9', t0), { ok: true, rate: undefined, authFailures: 4, backoffSeconds: 2 });
  assert.equal(admitted(limits.admit('10.0.0.8', t0)).backoffSeconds, 0);
  const later = limits.admit('10.0.0.9', t0 + 2_000);
  assert.deepEqual(later, { ok: true, rate: undefined, authFailures: 4, backoffSeconds: 0 });
  await limits.recordAuthSuccess('10.0.0.9');
  await limits.recordAuthFailure('10.0.0.9', t0 + 2_000);
  assert.equal(admitted(limits.admit('10.0.0.9', t0 + 2_000)).backoffSeconds, 0, 'the count started over');
});

test('failure counts are bounded in memory: the least recently seen addresses are forgotten', async () => {
  const limits = new MemoryClientLimits({ ...settings, perWindow: 10 });
  for (let i = 0; i < MAX_TRACKED_ADDRESSES + 500; i++) await limits.recordAuthFailure(`f:${i}`, t0);
  assert.equal(admitted(limits.admit('f:0', t0)).authFailures, 0, 'the oldest was forgotten');
  assert.equal(admitted(limits.admit(`f:${MAX_TRACKED_ADDRESSES + 499}`, t0)).authFailures, 1);
  assert.equal(limits.tracked().failures, MAX_TRACKED_ADDRESSES);
});

test('password attempts: the allowance, then waits that double; refused attempts do not count; success starts over', async () => {
  const attempts = new MemoryAttemptLimiter(8);
  const keys = [{ key: 'signin:a@b.co|10.0.0.1', allowance: 2 }];
  assert.deepEqual(await attempts.reserve(keys, t0), { ok: true });
  assert.deepEqual(await attempts.reserve(keys, t0), { ok: true }, 'the second attempt is still within the allowance');
  assert.deepEqual(await attempts.reserve(keys, t0), { ok: false, retryAfter: 1 });
  assert.deepEqual(await attempts.reserve(keys, t0 + 500), { ok: false, retryAfter: 1 }, 'refused: not counted');
  assert.deepEqual(await attempts.reserve(keys, t0 + 1000), { ok: true });
  assert.deepEqual(await attempts.reserve(keys, t0 + 1000), { ok: false, retryAfter: 2 }, 'the wait doubled');
  await attempts.reset(keys);
  assert.deepEqual(await attempts.reserve(keys, t0 + 1000), { ok: true }, 'a success started the count over');
});

test('password attempts under several keys: any key that must wait refuses, with the longest wait', async () => {
  const attempts = new MemoryAttemptLimiter(8);
  const account = { key: 'signin:a@b.co', allowance: 1 };
  const address = { key: 'signin-ip:10.0.0.1', allowance: 5 };
  assert.deepEqual(await attempts.reserve([account, address], t0), { ok: true });
  assert.deepEqual(await attempts.reserve([account, address], t0), { ok: false, retryAfter: 1 }, 'the account waits');
  assert.deepEqual(await attempts.reserve([{ key: 'signin:c@d.co', allowance: 1 }, address], t0), { ok: true }, 'the address does not yet');
});
