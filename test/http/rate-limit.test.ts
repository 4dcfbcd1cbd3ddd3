import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp, testClock } from '../helpers.ts';

test('over the per-IP limit: 429 with Retry-After and RateLimit headers; other IPs go on', async (t) => {
  const clock = testClock(new Date('2026-11-27T12:00:10Z'));
  const app = await buildTestApp(t, { config: { rateLimit: 3 }, clock });
  for (let i = 0; i < 3; i++) {
    const res = await app.call('GET', '/api/v1/whoami', { key: app.adminKey });
    assert.equal(res.statusCode, 200);
    assert.deepEqual([res.headers['ratelimit-limit'], res.headers['ratelimit-remaining']], ['3', String(2 - i)]);
  }
  const res = await app.call('GET', '/api/v1/whoami', { key: app.adminKey });
  assert.equal(res.statusCode, 429);
  assert.deepEqual([res.json().error, res.json().code], ['rate limit exceeded', 'rate_limited']);
  assert.equal(res.headers['retry-after'], '50');
  assert.equal(res.headers['ratelimit-policy'], '3;w=60');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.adminKey, remoteAddress: '10.1.1.1' })).statusCode, 200);
  clock.advance(50_000);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.adminKey })).statusCode, 200);
});

test('a 429 comes before any side effect and before authentication', async (t) => {
  const app = await buildTestApp(t, { config: { rateLimit: 1 } });
  await app.call('GET', '/api/v1/whoami', { key: app.adminKey });
  const before = (await app.store.apiKeys.listActive('acme')).length;
  const res = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'x', role: 'readonly' } });
  assert.equal(res.statusCode, 429);
  assert.equal((await app.store.apiKeys.listActive('acme')).length, before);
  assert.equal((await app.call('GET', '/api/v1/whoami')).statusCode, 429, 'no key: still 429 first');
});

test('repeated auth failures back off exponentially for that IP only; a success resets', async (t) => {
  const clock = testClock();
  const app = await buildTestApp(t, { config: { authBackoffAfter: 3, authBackoffMaxSeconds: 4 }, clock });
  const attacker = '203.0.113.5';
  const bad = { key: 'kupe_00000000_guess', remoteAddress: attacker };
  const retryAfters: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await app.call('GET', '/api/v1/whoami', bad);
    if (res.statusCode === 429) {
      assert.equal(res.json().code, 'auth_backoff');
      retryAfters.push(String(res.headers['retry-after']));
      clock.advance(Number(res.headers['retry-after']) * 1000);
      assert.equal((await app.call('GET', '/api/v1/whoami', bad)).statusCode, 401);
    } else {
      assert.equal(res.statusCode, 401);
    }
  }
  assert.deepEqual(retryAfters, ['1', '2', '4'], 'doubling, capped at 4');
  // The key's rightful user elsewhere is not locked out.
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.adminKey, remoteAddress: '198.51.100.1' })).statusCode, 200);
  // After the wait, a success from the attacker's IP resets its count.
  clock.advance(4000);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.adminKey, remoteAddress: attacker })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/whoami', bad)).statusCode, 401);
  assert.equal((await app.call('GET', '/api/v1/whoami', bad)).statusCode, 401, 'count started over');
});

test('the client IP comes from the socket unless the proxy is trusted', async (t) => {
  const untrusted = await buildTestApp(t, { config: { rateLimit: 1 } });
  const spoof = (app: typeof untrusted, ip: string) => app.call('GET', '/api/v1/whoami', {
    key: app.adminKey, remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': ip },
  });
  assert.equal((await spoof(untrusted, '1.1.1.1')).statusCode, 200);
  assert.equal((await spoof(untrusted, '2.2.2.2')).statusCode, 429, 'X-Forwarded-For ignored');
  const trusted = await buildTestApp(t, { config: { rateLimit: 1, trustProxy: ['10.0.0.0/8'] } });
  assert.equal((await spoof(trusted, '1.1.1.1')).statusCode, 200);
  assert.equal((await spoof(trusted, '2.2.2.2')).statusCode, 200, 'each forwarded client has its own limit');
});

test('one address shared by many CI jobs (a NAT): revoked, expired and guessed keys never lock out a valid key', async (t) => {
  const clock = testClock();
  const app = await buildTestApp(t, { config: { authBackoffAfter: 3, authBackoffMaxSeconds: 64 }, clock });
  const nat = { remoteAddress: '192.0.2.10' };
  const create = async (body: object) => (await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body })).json();
  const revoked = await create({ displayName: 'old', role: 'readonly' });
  await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${revoked.id}`, { key: app.adminKey });
  const expiring = await create({ displayName: 'temp', role: 'readonly', expiresAt: new Date(clock().getTime() + 1000).toISOString() });
  clock.advance(2000);

  // A forgotten pipeline with the rotated-out key, and one with an expired key, every half second.
  for (let i = 0; i < 12; i++) {
    assert.equal((await app.call('GET', '/api/v1/whoami', { ...nat, key: revoked.key })).json().code, 'api_key_revoked');
    assert.equal((await app.call('GET', '/api/v1/whoami', { ...nat, key: expiring.key })).json().code, 'api_key_expired');
    clock.advance(500);
  }
  assert.equal((await app.call('GET', '/api/v1/whoami', { ...nat, key: app.readonlyKey })).statusCode, 200, 'genuine keys do not count');

  // Guesses do count: the address goes into backoff...
  const guess = { ...nat, key: 'kupe_00000000_guess' };
  for (let i = 0; i < 3; i++) assert.equal((await app.call('GET', '/api/v1/whoami', guess)).statusCode, 401);
  const refused = await app.call('GET', '/api/v1/whoami', guess);
  assert.deepEqual([refused.statusCode, refused.json().code], [429, 'auth_backoff']);
  // ...but a key that verifies is never refused by it.
  assert.equal((await app.call('GET', '/api/v1/whoami', { ...nat, key: app.readonlyKey })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/tenants/acme', { ...nat, key: app.adminKey })).statusCode, 200);
  // The success reset the address's count.
  assert.equal((await app.call('GET', '/api/v1/whoami', guess)).statusCode, 401);
});

test('IPv6 clients are counted per /64 (KUPE_IPV6_PREFIX_BITS): the limit, the backoff and the sign-in throttle', async (t) => {
  const app = await buildTestApp(t, { config: { rateLimit: 3, authBackoffAfter: 1000 } });
  // Four addresses of one /64 share one budget; another /64 has its own.
  const statuses = [];
  for (const address of ['2001:db8:0:1::1', '2001:db8:0:1::2', '2001:db8:0:1::abcd:1', '2001:db8:0:1:ffff:ffff:ffff:ffff']) {
    statuses.push((await app.call('GET', '/api/v1/whoami', { key: app.adminKey, remoteAddress: address })).statusCode);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.adminKey, remoteAddress: '2001:db8:0:2::1' })).statusCode, 200);

  const wide = await buildTestApp(t, { config: { rateLimit: 1, ipv6PrefixBits: 128 } });
  assert.equal((await wide.call('GET', '/api/v1/whoami', { key: wide.adminKey, remoteAddress: '2001:db8::1' })).statusCode, 200);
  assert.equal((await wide.call('GET', '/api/v1/whoami', { key: wide.adminKey, remoteAddress: '2001:db8::2' })).statusCode, 200, '/128: each address');

  const signIn = await buildTestApp(t);
  const tries = [];
  for (let i = 0; i < 22; i++) {
    const res = await signIn.call('POST', '/api/v1/session', { body: { email: `nobody${i}@acme.com`, password: 'wrong guess' }, remoteAddress: `2001:db8:5:5::${i + 1}` });
    tries.push(res.statusCode);
  }
  assert.equal(tries.at(-1), 429, `the per-address sign-in throttle counts the /64: ${tries.join(',')}`);
});
