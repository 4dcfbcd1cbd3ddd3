import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { noticesDue, sweepExpiringKeys } from '../../src/domain/expiry.ts';
import { openStore } from '../../src/store/index.ts';
import { openTestStore, seed, TEST_CONFIG } from '../helpers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test('the notices due: 14, 7 and 1 day before, and expired; the most urgent first', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  assert.deepEqual(noticesDue(now + 20 * DAY, now), []);
  assert.deepEqual(noticesDue(now + 10 * DAY, now), ['14d']);
  assert.deepEqual(noticesDue(now + 3 * DAY, now), ['7d', '14d']);
  assert.deepEqual(noticesDue(now + 12 * HOUR, now), ['1d', '7d', '14d']);
  assert.deepEqual(noticesDue(now - HOUR, now), ['expired', '1d', '7d', '14d']);
});

test('each warning once per key and threshold, the most urgent only when several are due, however many sweep at once', async (t) => {
  const { store, url } = await openTestStore(t);
  const now = new Date('2026-12-02T12:00:00Z');
  await seed(store, now);
  await store.webhooks.insertEndpoint({ id: 'wh-00000001', tenant: 'acme', url: 'https://h.example.com/', events: ['apikey.expiring', 'apikey.expired'],
    secret: 'whsec_x', enabled: true, createdBy: 'operator', createdAt: '2026-12-01T00:00:00Z' });
  const ctx = { actor: 'operator', now: new Date(now.getTime() - 30 * DAY) };
  const at = (ms: number) => new Date(now.getTime() + ms).toISOString().replace('.000Z', '+00:00');
  for (const [name, ms] of [['ten-days', 10 * DAY], ['three-days', 3 * DAY], ['half-day', 12 * HOUR], ['far', 60 * DAY]] as const) {
    await createApiKey(store, 'acme', { displayName: name, role: 'readonly', expiresAt: at(ms) }, ctx);
  }
  await createApiKey(store, 'acme', { displayName: 'lapsed', role: 'readonly', expiresAt: at(HOUR) }, ctx);
  const later = new Date(now.getTime() + 2 * HOUR); // lapsed has expired by then
  // Sweeps at once, from two connections (two instances on PostgreSQL; one file on SQLite).
  const other = openStore(url, TEST_CONFIG.database).store;
  t.after(() => other.close());
  const written = await Promise.all([sweepExpiringKeys(store, { now: later }), sweepExpiringKeys(other, { now: later }), sweepExpiringKeys(store, { now: later })]);
  assert.equal(written.reduce((a, b) => a + b, 0), 4, `four warnings in all (${written.join(' + ')})`);
  assert.equal(await sweepExpiringKeys(store, { now: later }), 0, 'none again');
  const events = (await store.webhooks.listDeliveries('wh-00000001', 20)).map((d) => d.eventType).sort();
  assert.deepEqual(events, ['apikey.expired', 'apikey.expiring', 'apikey.expiring', 'apikey.expiring']);
  // A week on: ten-days crosses 7d, three-days and half-day have expired.
  assert.equal(await sweepExpiringKeys(store, { now: new Date(now.getTime() + 4 * DAY) }), 3);
});
