import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openStore } from '../../src/store/index.ts';
import { TEST_CONFIG, TEST_POSTGRES_URL, testDatabaseUrl, until } from '../helpers.ts';
import { type Instance, logLines, request, startInstance } from '../processes.ts';
import { webhookReceiver } from '../receiver.ts';
import { Mailpit, mailpitMissing } from '../mail/mailpit.ts';
import { createWebhook } from '../../src/domain/webhooks.ts';

const skip = TEST_POSTGRES_URL ? false : 'runs with KUPE_TEST_DATABASE_URL=postgres://... (npm run test:postgres after scripts/services.sh)';

async function cluster(t: TestContext, env: Record<string, string> = {}) {
  const url = await testDatabaseUrl(t);
  const base = { KUPE_DATABASE_URL: url, KUPE_RATE_LIMIT: '0', KUPE_WEBHOOK_ALLOW_PRIVATE: 'true', ...env };
  const start = () => Promise.all(['A', 'B', 'C'].map((name) => startInstance(t, name, base)));
  const { store } = openStore(url, TEST_CONFIG.database);
  t.after(() => store.close());
  const instances = await start();
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, new Date());
  const admin = await createApiKey(store, 'acme', { displayName: 'admin', role: 'admin' }, { actor: 'operator', now: new Date() });
  return { instances, start, store, adminKey: admin.key };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Every event reaches a live endpoint once, whichever of three instances made the change; the time from the
 * change's answer to the endpoint's receipt is reported (docs/performance.md, "Webhooks"), not asserted.
 */
test('three instances on PostgreSQL: every change reaches the endpoint once, signed; the delay is reported', { skip }, async (t) => {
  const hook = await webhookReceiver(t);
  const { instances, adminKey } = await cluster(t);
  const created = await request(instances[0]!.url, 'POST', '/api/v1/tenants/acme/webhooks', { key: adminKey, body: { url: hook.url, events: ['apikey.created'] } });
  assert.equal(created.status, 201);
  const verifier = new Webhook(created.body.secret as string);
  const delays: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) {
    const made = await request(instances[i % 3]!.url, 'POST', '/api/v1/tenants/acme/apikeys', { key: adminKey, body: { displayName: `ci-${i}`, role: 'readonly' } });
    assert.equal(made.status, 201);
    ids.push(made.body.id as string);
    await until(() => hook.accepted.some((a) => JSON.parse(a.body).data.id === made.body.id), `the event of ci-${i}`);
    delays.push(hook.accepted.find((a) => JSON.parse(a.body).data.id === made.body.id)!.at - made.finishedAt);
  }
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(hook.accepted.map((a) => JSON.parse(a.body).data.id), ids, 'each once, in order');
  for (const a of hook.accepted) verifier.verify(a.body, a.headers as Record<string, string>);
  const sorted = [...delays].sort((a, b) => a - b);
  t.diagnostic(`60 changes over three instances, from the change's answer to the endpoint's receipt: p50 ${percentile(sorted, 50).toFixed(0)} ms, ` +
    `p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`);
});

/**
 * The outbox loses nothing: events made while the endpoint refuses, then every instance killed with SIGKILL
 * while a delivery is on the wire, then the endpoint back and the instances restarted: every event arrives,
 * a repeat only with the same webhook-id and body.
 */
test('kill -9 of every instance mid-delivery, and an endpoint that was down: every event arrives, repeats only with the same webhook-id', { skip }, async (t) => {
  const hook = await webhookReceiver(t);
  const { instances, start, adminKey } = await cluster(t, { KUPE_WEBHOOK_TIMEOUT_SECONDS: '2' });
  const created = await request(instances[0]!.url, 'POST', '/api/v1/tenants/acme/webhooks', { key: adminKey, body: { url: hook.url, events: ['apikey.created', 'apikey.revoked'] } });
  assert.equal(created.status, 201);
  await hook.down(); // the endpoint is down: the first delivery fails, the rest wait behind it
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const made = await request(instances[i % 3]!.url, 'POST', '/api/v1/tenants/acme/apikeys', { key: adminKey, body: { displayName: `ci-${i}`, role: 'readonly' } });
    ids.push(made.body.id as string);
  }
  await hook.up();
  hook.state.delayMs = 1500; // slow: deliveries are on the wire when the instances die
  // The first delivery's retry comes 5 s after its refusal; it is held on the wire for 1.5 s.
  await until(() => hook.state.arrived >= 1, 'a delivery on the wire', 15_000);
  await new Promise((r) => setTimeout(r, 500));
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((i: Instance) => i.exited));
  hook.state.delayMs = 0;
  await start();
  await until(() => new Set(hook.accepted.map((a) => JSON.parse(a.body).data.id)).size === ids.length, 'every event', 60_000);
  const byId = new Map<string, string>();
  for (const a of hook.accepted) {
    const seen = byId.get(a.id);
    assert.ok(seen === undefined || seen === a.body, `a repeat of ${a.id} carries the same body`);
    byId.set(a.id, a.body);
  }
  const order = [...new Set(hook.accepted.map((a) => JSON.parse(a.body).data.id as string))];
  assert.deepEqual(order, ids, 'in order');
  t.diagnostic(`${ids.length} events, ${hook.accepted.length} deliveries received (${hook.accepted.length - ids.length} repeats, each with its webhook-id)`);
});

/**
 * Expiry warnings across instances: three instances start at once on a database whose keys near expiry, so
 * their first sweeps race; each key gets its warning once, as a webhook event and as a mail to the admin.
 * Restarted (they sweep again at start), nothing is repeated.
 */
test('three instances sweeping at once: each expiry warning once per key and threshold, by webhook and by mail, and not again after a restart', { skip: skip || mailpitMissing }, async (t) => {
  const hook = await webhookReceiver(t);
  const mailpit = await Mailpit.start(t);
  const url = await testDatabaseUrl(t);
  const { store } = openStore(url, TEST_CONFIG.database);
  t.after(() => store.close());
  // Migrated by a first instance, then stopped: the keys are made before the three start.
  const first = await startInstance(t, 'migrate', { KUPE_DATABASE_URL: url });
  first.child.kill('SIGKILL');
  await first.exited;
  const now = new Date();
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  const ctx = { actor: 'operator', now };
  await createWebhook(store, 'acme', { url: hook.url, events: ['apikey.expiring', 'apikey.expired'] }, ctx, { allowHttp: true });
  const hours = (h: number) => new Date(now.getTime() + h * 3600_000).toISOString();
  const keys = await Promise.all([[12, 1], [72, 7], [240, 14]].map(async ([h, days]) => ({
    days, id: (await createApiKey(store, 'acme', { displayName: `expires in ${h} h`, role: 'readonly', expiresAt: hours(h!) }, ctx)).record.id,
  })));
  const env = {
    KUPE_DATABASE_URL: url, KUPE_RATE_LIMIT: '0', KUPE_WEBHOOK_ALLOW_PRIVATE: 'true',
    KUPE_SMTP_URL: mailpit.smtpUrl, KUPE_MAIL_FROM: 'Kupe <kupe@kupe.test>', KUPE_PUBLIC_URL: 'https://kupe.example.com',
  };
  const startAll = () => Promise.all(['A', 'B', 'C'].map((name) => startInstance(t, name, env)));
  const warned = () => hook.accepted.map((a) => JSON.parse(a.body) as { type: string; data: { id: string; daysLeft: number } });
  let instances = await startAll();
  await until(() => warned().length >= keys.length, 'a warning for each key', 20_000);
  await mailpit.mailTo('alice@acme.com', keys.length);
  for (const instance of instances) instance.child.kill('SIGTERM');
  await Promise.all(instances.map((i) => i.exited));
  instances = await startAll();
  await Promise.all(instances.map((i) => logLines(i, (line) => line.includes('Server listening'))));
  await new Promise((r) => setTimeout(r, 3000)); // their start sweeps, and time to deliver what they might write
  assert.deepEqual(warned().map((e) => [e.type, e.data.id, e.data.daysLeft]).sort(),
    keys.map((k) => ['apikey.expiring', k.id, k.days]).sort(), 'one event per key, the most urgent threshold');
  const mails = (await mailpit.messages()).filter((m) => m.Subject.includes('expires in'));
  assert.equal(mails.length, keys.length, `one mail per key: ${mails.map((m) => m.Subject).join('; ')}`);
  t.diagnostic(`${instances.length} instances, started twice: ${warned().length} expiry events and ${mails.length} mails for ${keys.length} keys`);
});
