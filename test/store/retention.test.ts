import assert from 'node:assert/strict';
import { test } from 'node:test';
import { purgeExpiredRecords } from '../../src/domain/retention.ts';
import { formatTimestamp } from '../../src/domain/validation.ts';
import { openTestStore, seed } from '../helpers.ts';

const DAY = 86_400_000;

test('retention deletes old audit entries, ended sessions and spent invites, and keeps the rest', async (t) => {
  const { store } = await openTestStore(t);
  const now = new Date('2027-06-01T00:00:00Z');
  await seed(store, new Date(now.getTime() - 400 * DAY)); // tenant.create and key audit entries, 400 days old
  const ago = (days: number) => formatTimestamp(new Date(now.getTime() - days * DAY));
  for (let i = 0; i < 1500; i++) {
    await store.audit.append({ tenant: 'acme', time: ago(366), actor: 'operator', action: 'tenant.update', target: `old ${i}` });
  }
  await store.audit.append({ tenant: 'acme', time: ago(10), actor: 'operator', action: 'tenant.update', target: 'recent' });

  await store.users.insert({ email: 'alice@acme.com', passwordHash: 'x', mustChangePassword: false, createdAt: ago(400), passwordChangedAt: ago(400) });
  const session = (id: string, lastSeen: number, expires: number) => store.sessions.insert({
    id, email: 'alice@acme.com', csrfToken: 'c', createdAt: ago(100), lastSeenAt: ago(lastSeen), expiresAt: ago(expires),
  });
  await session('expired-long-ago', 60, 40);
  await session('idle-long-ago', 60, -5);
  await session('ended-yesterday', 2, 1);
  await session('alive', 0, -5);
  const invite = (id: string, expires: number, used?: number) => store.invites.insert({
    id, email: 'bob@acme.com', tenant: 'acme', createdBy: 'alice@acme.com', createdAt: ago(100), expiresAt: ago(expires),
  }).then(() => used !== undefined && store.invites.markUsed(id, ago(used)));
  await invite('expired-long-ago', 40);
  await invite('used-long-ago', -5, 40);
  await invite('used-yesterday', -5, 1);
  await invite('open', -5);

  // Webhook events: the seed's three (400 days old, no endpoint) go; an old one still waiting to be sent stays.
  await store.webhooks.insertEndpoint({ id: 'wh-00000001', tenant: 'acme', url: 'https://h.example.com/', events: ['apikey.created'],
    secret: 'whsec_x', enabled: true, createdBy: 'operator', createdAt: ago(100) });
  await store.webhooks.appendEvent({ id: 'msg_waiting', tenant: 'acme', type: 'apikey.created', payload: '{}', createdAt: ago(40) }, ['wh-00000001']);

  const deleted = await purgeExpiredRecords(store, now, { auditDays: 365, endedDays: 30 }, { idleSeconds: 3600, absoluteSeconds: 86_400 });
  assert.equal(deleted.events, 3, 'the seed\'s events, none waiting');
  assert.equal((await store.webhooks.listDeliveries('wh-00000001', 10)).length, 1, 'the waiting one is kept');
  assert.ok(deleted.audit >= 1500, `${deleted.audit} audit entries deleted`);
  assert.deepEqual((await store.audit.list('acme', 50)).map((e) => e.target), ['recent']);
  assert.deepEqual([deleted.sessions, deleted.invites], [2, 2]);
  for (const id of ['ended-yesterday', 'alive']) assert.ok(await store.sessions.get(id), id);
  for (const id of ['used-yesterday', 'open']) assert.ok(await store.invites.get(id), id);
  const kept = await purgeExpiredRecords(store, now, { auditDays: 0, endedDays: 30 }, { idleSeconds: 3600, absoluteSeconds: 86_400 });
  assert.equal(kept.audit, 0, 'auditDays 0 keeps the audit log forever');
});
