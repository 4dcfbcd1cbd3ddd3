import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { openLimits } from '../../src/limits/index.ts';
import { MemoryAttemptLimiter, MemoryClientLimits } from '../../src/limits/memory.ts';
import { RedisLimits } from '../../src/limits/redis.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestApp } from '../helpers.ts';
import { logLines, startInstance } from '../processes.ts';

const REDIS = process.env.KUPE_TEST_REDIS_URL;
const skip = REDIS ? false : 'KUPE_TEST_REDIS_URL is not set (scripts/services.sh starts Redis)';
const settings = { perWindow: 3, windowMs: 60_000, backoffAfter: 3, backoffMaxSeconds: 8 };
const t0 = 1_800_000_000_000;

/** Two limiters on one Redis, as two instances would be; a key prefix of the test's own. */
function twoInstances(t: TestContext, overrides = {}) {
  const prefix = `kupe-test:${randomBytes(4).toString('hex')}:`;
  const errors: unknown[] = [];
  const make = () => new RedisLimits(REDIS!, { ...settings, ...overrides }, (e) => errors.push(e), prefix);
  const a = make();
  const b = make();
  t.after(async () => { await a.close(); await b.close(); });
  return Promise.all([a.waitUntilReady(), b.waitUntilReady()]).then(() => ({ a, b, errors }));
}

test('the per-IP limit is shared: requests summed over instances never exceed it', { skip }, async (t) => {
  const { a, b, errors } = await twoInstances(t);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).admit('10.0.0.1', t0 + i)));
  assert.equal(results.filter((r) => r.ok).length, 3);
  const refused = results.find((r) => !r.ok);
  assert.deepEqual(refused && !refused.ok && [refused.reason, refused.retryAfter], ['rate_limited', 60]);
  assert.equal((await a.admit('10.0.0.2', t0)).ok, true, 'another IP');
  assert.equal((await b.admit('10.0.0.1', t0 + 60_000)).ok, true, 'next window');
  assert.deepEqual(errors, []);
});

test('auth failures recorded on one instance back off the IP on another; success resets', { skip }, async (t) => {
  const { a, b } = await twoInstances(t, { perWindow: 0 });
  for (let i = 0; i < 4; i++) await (i % 2 ? a : b).recordAuthFailure('10.0.0.9', t0);
  assert.deepEqual(await b.admit('10.0.0.9', t0), { ok: true, rate: undefined, authFailures: 4, backoffSeconds: 2 });
  assert.deepEqual(await a.admit('10.0.0.9', t0 + 2000), { ok: true, rate: undefined, authFailures: 4, backoffSeconds: 0 });
  await a.recordAuthSuccess('10.0.0.9');
  assert.deepEqual(await b.admit('10.0.0.9', t0 + 2000), { ok: true, rate: undefined, authFailures: 0, backoffSeconds: 0 });
});

test('with Redis unreachable, requests go through (fail open) and the failure is reported', async (t) => {
  const errors: unknown[] = [];
  const limits = new RedisLimits('redis://127.0.0.1:1', settings, (e) => errors.push(e));
  t.after(() => limits.close());
  for (let i = 0; i < 5; i++) assert.equal((await limits.admit('10.0.0.1', t0)).ok, true);
  await limits.recordAuthFailure('10.0.0.1', t0);
  assert.ok(errors.length >= 6, `${errors.length} errors reported`);
  // Password attempts too: Redis gone costs the throttle (reported), never the sign-in.
  for (let i = 0; i < 3; i++) assert.deepEqual(await limits.reserve([{ key: 'signin:a@b.co|10.0.0.1', allowance: 1 }], t0), { ok: true });
  await limits.reset([{ key: 'signin:a@b.co|10.0.0.1', allowance: 1 }]);
  assert.ok(errors.length >= 10, `${errors.length} errors reported`);
});

test('the app on Redis: a request over the limit is 429, and a Redis outage is logged and counted', { skip }, async (t) => {
  const onRedis = (url: string, rateLimit: number, errors: unknown[] = []) => openLimits(
    { perWindow: rateLimit, windowMs: 60_000, backoffAfter: 5, backoffMaxSeconds: 300 },
    { url, prefix: `kupe-test:${randomBytes(6).toString('hex')}:`, onError: (e) => errors.push(e), onSlowStart: () => {} });
  const limits = await onRedis(REDIS!, 2);
  t.after(() => limits.close());
  const app = await buildTestApp(t, { config: { rateLimit: 2 }, limits });
  const ip = '10.0.0.7';
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await app.call('GET', '/api/v1/whoami', { key: app.adminKey, remoteAddress: ip })).statusCode);
  assert.deepEqual(statuses, [200, 200, 429]);
  const errors: unknown[] = [];
  const downLimits = await onRedis('redis://127.0.0.1:1', 1, errors);
  t.after(() => downLimits.close());
  const down = await buildTestApp(t, { config: { rateLimit: 1 }, limits: downLimits });
  for (let i = 0; i < 3; i++) assert.equal((await down.call('GET', '/api/v1/whoami', { key: down.adminKey })).statusCode, 200);
  assert.ok(errors.length >= 3, 'every failed Redis call is reported (the server logs and counts them)');
});

test('password attempts are reserved atomically across instances, and a success starts them over', { skip }, async (t) => {
  const { a, b, errors } = await twoInstances(t);
  const keys = [{ key: 'signin:alice@acme.com|10.0.0.1', allowance: 3 }];
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).reserve(keys, t0)));
  assert.equal(results.filter((r) => r.ok).length, 3, 'the allowance, no more, across both instances');
  assert.deepEqual(results.find((r) => !r.ok), { ok: false, retryAfter: 1 });
  assert.equal((await a.reserve([{ key: 'signin:alice@acme.com|10.0.0.2', allowance: 3 }], t0)).ok, true, 'another address');
  await b.reset(keys);
  assert.equal((await a.reserve(keys, t0)).ok, true);
  assert.deepEqual(errors, []);
});

test('Redis and memory limiters agree: same failures, same waits (one policy, the scripts only index it)', { skip }, async (t) => {
  const { a } = await twoInstances(t, { perWindow: 0 });
  const memory = new MemoryClientLimits({ ...settings, perWindow: 0 });
  for (let failures = 1; failures <= 9; failures++) {
    await a.recordAuthFailure('10.0.0.5', t0);
    await memory.recordAuthFailure('10.0.0.5', t0);
    assert.deepEqual(await a.admit('10.0.0.5', t0), memory.admit('10.0.0.5', t0), `after ${failures} failures`);
  }
  const attempts = new MemoryAttemptLimiter();
  const keys = [{ key: `signin:z@y.co|${randomBytes(3).toString('hex')}`, allowance: 2 }];
  for (let i = 0; i < 12; i++) {
    const now = t0 + i * 1000;
    assert.deepEqual(await a.reserve(keys, now), await attempts.reserve(keys, now), `attempt ${i + 1}`);
  }
});

test('a server whose Redis is gone starts, serves, logs the outage loudly and counts it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-redis-down-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const instance = await startInstance(t, 'no-redis', {
    KUPE_DATABASE_URL: `sqlite:${join(dir, 'kupe.db')}`, KUPE_REDIS_URL: 'redis://127.0.0.1:1', KUPE_METRICS_TOKEN: 'metrics-secret',
  });
  assert.equal((await logLines(instance, (l) => l.includes('Redis did not answer within 2 s'))).length, 1);
  assert.equal((await fetch(`${instance.url}/api/v1/whoami`)).status, 401, 'served (no key: 401), not refused for the limiter');
  assert.equal((await logLines(instance, (l) => l.includes('NOT enforced (failing open)'))).length, 1, 'one line, not one per request');
  const metrics = await (await fetch(`${instance.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } })).text();
  assert.match(metrics, /kupe_limit_store_errors_total \d*[1-9]/);
});
