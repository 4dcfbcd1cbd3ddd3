import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { addressKey, admission, backoffSeconds, backoffSteps, secondsUntil } from '../../src/limits/policy.ts';

test('backoff doubles from 1 s once the allowance is used, and is capped', () => {
  const steps = backoffSteps(8);
  assert.deepEqual(steps, [1, 2, 4, 8]);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 40].map((n) => backoffSeconds(n, 3, steps)), [0, 0, 1, 2, 4, 8, 8, 8]);
  assert.deepEqual(backoffSteps(300).slice(-2), [256, 300], 'a cap between powers of two is reached exactly');
});

test('the step table is the doubling rule: 2^(failures - allowance), capped', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 86_400 }),
    (failures, allowance, max) => {
      const expected = failures < allowance ? 0 : Math.min(2 ** Math.min(failures - allowance, 30), max);
      assert.equal(backoffSeconds(failures, allowance, backoffSteps(max)), expected);
    }));
});

test('admission: over the limit says when the window turns; under it reports the backoff left', () => {
  const settings = { perWindow: 3, windowMs: 60_000 };
  const t0 = 1_800_000_000_000 + 15_000; // 15 s into a window
  assert.deepEqual(admission(settings, { nowMs: t0, requestsInWindow: 4, failures: 0, blockedUntil: 0 }),
    { ok: false, reason: 'rate_limited', retryAfter: 45, rate: { limit: 3, remaining: 0, resetSeconds: 45 } });
  assert.deepEqual(admission(settings, { nowMs: t0, requestsInWindow: 2, failures: 6, blockedUntil: t0 + 1500 }),
    { ok: true, rate: { limit: 3, remaining: 1, resetSeconds: 45 }, authFailures: 6, backoffSeconds: 2 });
  assert.deepEqual(admission({ perWindow: 0, windowMs: 60_000 }, { nowMs: t0, requestsInWindow: 0, failures: 0, blockedUntil: 0 }),
    { ok: true, rate: undefined, authFailures: 0, backoffSeconds: 0 }, 'no per-IP limit: no rate headers');
  assert.equal(secondsUntil(t0 - 1, t0), 0);
});

test('addressKey: IPv4 as it is, IPv4-mapped as IPv4, IPv6 by its prefix', () => {
  assert.equal(addressKey('203.0.113.5', 64), '203.0.113.5');
  assert.equal(addressKey('::ffff:203.0.113.5', 64), '203.0.113.5');
  assert.equal(addressKey('2001:db8:1:2:3:4:5:6', 64), '2001:db8:1:2:0:0:0:0/64');
  assert.equal(addressKey('2001:DB8:1:2::9', 64), '2001:db8:1:2:0:0:0:0/64');
  assert.equal(addressKey('2001:db8:1:2ff::9', 56), '2001:db8:1:200:0:0:0:0/56');
  assert.equal(addressKey('fe80::1%eth0', 128), 'fe80:0:0:0:0:0:0:1/128');
  assert.equal(addressKey('::1', 64), '0:0:0:0:0:0:0:0/64');
});
