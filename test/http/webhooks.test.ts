import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Ajv } from 'ajv';
import { Webhook } from 'standardwebhooks';
import type { EventType } from '../../src/domain/vocabulary.ts';
import { eventSchema } from '../../src/http/event-schemas.ts';
import { RETRY_SECONDS } from '../../src/domain/webhooks.ts';
import { openStore } from '../../src/store/index.ts';
import { WebhookWorker } from '../../src/webhook-worker.ts';
import { buildTestApp, TEST_CONFIG, TEST_POSTGRES_URL, until } from '../helpers.ts';
import { type Received, webhookReceiver } from '../receiver.ts';

const HOOKS = '/api/v1/tenants/acme/webhooks';

async function setUp(t: TestContext) {
  const app = await buildTestApp(t, { config: { webhookAllowPrivate: true } });
  const hook = await webhookReceiver(t);
  const created = await app.call('POST', HOOKS, { key: app.adminKey, body: { url: hook.url, events: ['apikey.created', 'apikey.revoked', 'member.added'] } });
  assert.equal(created.statusCode, 201, created.body);
  return { app, hook, webhook: created.json() };
}

const events = (hook: { requests: Received[] }) => hook.requests.map((r) => JSON.parse(r.body).type as string);

test('create shows the signing secret once; list, change and delete; only https unless private destinations are allowed', async (t) => {
  const { app, webhook } = await setUp(t);
  assert.match(webhook.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  assert.match(webhook.id, /^wh-[0-9a-f]{8}$/);
  const list = (await app.call('GET', HOOKS, { key: app.adminKey })).json();
  assert.equal(list.items.length, 1);
  assert.equal(list.items[0].secret, undefined, 'never listed');
  assert.ok(!JSON.stringify(list).includes(webhook.secret), 'the secret is nowhere in the list');
  const changed = await app.call('PATCH', `${HOOKS}/${webhook.id}`, { key: app.adminKey, body: { enabled: false, events: ['member.removed'] } });
  assert.deepEqual([changed.statusCode, changed.json().enabled, changed.json().events], [200, false, ['member.removed']]);
  const nothing = await app.call('PATCH', `${HOOKS}/${webhook.id}`, { key: app.adminKey, body: {} });
  assert.deepEqual([nothing.statusCode, nothing.json().events], [200, ['member.removed']], 'an empty change changes nothing');
  assert.equal((await app.call('PATCH', `${HOOKS}/wh-00000000`, { key: app.adminKey, body: {} })).json().code, 'webhook_not_found');
  const bad: [unknown, string][] = [
    [{ url: 'ftp://x.example.com/', events: ['apikey.created'] }, '"url"'],
    [{ url: 'https://x.example.com/', events: ['apikey.exploded'] }, 'events'],
    [{ url: 'https://user:pw@x.example.com/', events: ['apikey.created'] }, 'user name or password'],
  ];
  for (const [body, words] of bad) {
    const res = await app.call('POST', HOOKS, { key: app.adminKey, body });
    assert.equal(res.statusCode, 400, JSON.stringify(body));
    assert.ok(res.json().error.includes(words), `${res.json().error} names ${words}`);
  }
  const strict = await buildTestApp(t);
  const http = await strict.call('POST', HOOKS, { key: strict.adminKey, body: { url: 'http://hooks.example.com/', events: ['apikey.created'] } });
  assert.equal(http.json().error, 'url must be https');
  assert.equal((await app.call('GET', HOOKS, { key: app.readonlyKey })).json().code, 'admin_required');
  assert.equal((await app.call('DELETE', `${HOOKS}/${webhook.id}`, { key: app.adminKey })).statusCode, 204);
  assert.equal((await app.call('DELETE', `${HOOKS}/${webhook.id}`, { key: app.adminKey })).json().code, 'webhook_not_found');
  for (let i = 0; i < 10; i++) await app.call('POST', HOOKS, { key: app.adminKey, body: { url: `https://h${i}.example.com/`, events: ['apikey.created'] } });
  const over = await app.call('POST', HOOKS, { key: app.adminKey, body: { url: 'https://more.example.com/', events: ['apikey.created'] } });
  assert.equal(over.json().code, 'webhook_limit_reached');
});

test('events are delivered in order, signed per Standard Webhooks (the reference library verifies them), with ids and metadata only', async (t) => {
  const { app, hook, webhook } = await setUp(t);
  app.webhookWorker.start();
  const key = (await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'ci', role: 'readonly' } })).json();
  await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: 'bob@acme.com', role: 'readonly' } });
  await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${key.id}?reason=rotation`, { key: app.adminKey });
  await until(() => hook.requests.length >= 3, 'three deliveries');
  assert.deepEqual(events(hook), ['apikey.created', 'member.added', 'apikey.revoked'], 'in the order of the changes');
  const verifier = new Webhook(webhook.secret);
  const ajv = new Ajv({ strict: false });
  for (const { headers, body } of hook.requests) {
    const { type } = JSON.parse(body) as { type: EventType };
    assert.ok(ajv.validate(eventSchema(type), JSON.parse(body)), `${type} as the OpenAPI document states it: ${ajv.errorsText()}`);
    const payload = verifier.verify(body, headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, unknown> };
    assert.match(String(headers['webhook-id']), /^msg_[0-9a-f]{24}$/);
    assert.equal(payload.data.tenant, 'acme');
    assert.ok(!body.includes(key.key) && !body.includes('kupe_'), 'never a key');
  }
  const [created, , revoked] = hook.requests.map((r) => JSON.parse(r.body).data);
  assert.deepEqual(created, { tenant: 'acme', id: key.id, displayName: 'ci', role: 'readonly', createdBy: app.adminKeyId });
  assert.deepEqual(revoked, { tenant: 'acme', id: key.id, revokedBy: app.adminKeyId, reason: 'rotation' });
  const listed = async () => (await app.call('GET', `${HOOKS}/${webhook.id}/deliveries`, { key: app.adminKey })).json().items;
  // The receiver has the request a moment before the worker records the answer.
  await until(async () => (await listed()).every((d: { state: string }) => d.state === 'delivered'), 'all recorded as delivered');
  const deliveries = await listed();
  assert.deepEqual(deliveries.map((d: { state: string; attempts: number; lastStatus: number }) => [d.state, d.attempts, d.lastStatus]),
    [['delivered', 1, 200], ['delivered', 1, 200], ['delivered', 1, 200]]);
});

test('a failing endpoint is retried with backoff, one delivery at a time in order; after the last retry it fails and the endpoint is marked failing', async (t) => {
  const { app, hook, webhook } = await setUp(t);
  hook.state.status = 500;
  const attemptsOf = async () => (await app.call('GET', `${HOOKS}/${webhook.id}/deliveries`, { key: app.adminKey })).json().items.at(-1);
  app.webhookWorker.start();
  await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'one', role: 'readonly' } });
  await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'two', role: 'readonly' } });
  await until(() => hook.requests.length === 1, 'the first attempt');
  await until(async () => (await attemptsOf()).lastStatus === 500, 'the first attempt recorded');
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(hook.requests.length, 1, 'no second attempt before its wait, and the next event waits behind the first');
  assert.deepEqual([(await attemptsOf()).state, (await attemptsOf()).lastStatus, (await attemptsOf()).lastError], ['pending', 500, 'HTTP 500']);
  // Each wait is counted from when the attempt was recorded: the clock moves on only after that.
  let recorded = await attemptsOf();
  for (const [i, wait] of RETRY_SECONDS.entries()) {
    const before = recorded.lastAttemptAt;
    app.clock.advance(wait * 1000);
    await until(() => hook.requests.length >= i + 2, `attempt ${i + 2}`);
    await until(async () => (recorded = await attemptsOf()).lastAttemptAt !== before || recorded.state === 'failed', `attempt ${i + 2} recorded`);
  }
  await until(async () => (await attemptsOf()).state === 'failed', 'failed for good');
  assert.equal((await attemptsOf()).attempts, RETRY_SECONDS.length + 1);
  await until(() => hook.requests.length === RETRY_SECONDS.length + 2, 'then the next event goes');
  const first = hook.requests.slice(0, RETRY_SECONDS.length + 1).map((r) => r.headers['webhook-id']);
  assert.equal(new Set(first).size, 1, 'every retry with the same webhook-id');
  assert.notEqual(hook.requests.at(-1)!.headers['webhook-id'], first[0], 'then the second event');
  const listed = (await app.call('GET', HOOKS, { key: app.adminKey })).json().items[0];
  assert.match(listed.failingSince, /^\d{4}-/);
  hook.state.status = 204;
  app.clock.advance(5000);
  await until(async () => (await app.call('GET', HOOKS, { key: app.adminKey })).json().items[0].failingSince === undefined, 'a success clears failing');
});

test('send test event reaches that endpoint only; a private destination is refused when not allowed, and says so', async (t) => {
  const { app, hook, webhook } = await setUp(t);
  app.webhookWorker.start();
  const sent = await app.call('POST', `${HOOKS}/${webhook.id}/test`, { key: app.adminKey });
  assert.equal(sent.statusCode, 202);
  await until(() => hook.requests.length === 1, 'the test event');
  assert.equal(hook.requests[0]!.headers['webhook-id'], sent.json().eventId);
  assert.equal(JSON.parse(hook.requests[0]!.body).type, 'webhook.test');

  const strict = await buildTestApp(t);
  const store = strict.store;
  // Registered while allowed (as if the operator turned the setting off afterwards): the worker still refuses it.
  const { createWebhook } = await import('../../src/domain/webhooks.ts');
  const endpoint = await createWebhook(store, 'acme', { url: hook.url, events: ['apikey.created'] }, { actor: 'operator', now: strict.clock() }, { allowHttp: true });
  strict.webhookWorker.start();
  await strict.call('POST', '/api/v1/tenants/acme/apikeys', { key: strict.adminKey, body: { displayName: 'x', role: 'readonly' } });
  await until(async () => (await store.webhooks.listDeliveries(endpoint.id, 1))[0]?.lastError !== undefined, 'an attempt');
  const [delivery] = await store.webhooks.listDeliveries(endpoint.id, 1);
  assert.equal(delivery?.lastError, '127.0.0.1 is a private or reserved address');
  assert.equal(hook.requests.length, 1, 'nothing sent there');
});

test('no event without its change: a create refused by the cap writes no event; a disabled endpoint gets none', async (t) => {
  const { app, hook, webhook } = await setUp(t);
  await app.call('PATCH', `${HOOKS}/${webhook.id}`, { key: app.adminKey, body: { enabled: false } });
  app.webhookWorker.start();
  await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'quiet', role: 'readonly' } });
  const capped = await buildTestApp(t, { config: { webhookAllowPrivate: true, tenantCaps: { maxApiKeys: 2, maxMembers: 1000 } } });
  const other = await capped.call('POST', HOOKS, { key: capped.adminKey, body: { url: hook.url, events: ['apikey.created'] } });
  const refused = await capped.call('POST', '/api/v1/tenants/acme/apikeys', { key: capped.adminKey, body: { displayName: 'over', role: 'readonly' } });
  assert.equal(refused.json().code, 'api_key_limit_reached');
  assert.deepEqual(await capped.store.webhooks.listDeliveries(other.json().id, 10), [], 'no event for a change that did not happen');
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(hook.requests.length, 0, 'the disabled endpoint got nothing');
});

test('two workers on one PostgreSQL schema never send the same delivery twice (SKIP LOCKED)', { skip: TEST_POSTGRES_URL ? false : 'PostgreSQL only' }, async (t) => {
  const { app, hook } = await setUp(t);
  for (let i = 0; i < 30; i++) await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: `k${i}`, role: 'readonly' } });
  const others = [1, 2].map(() => openStore(app.databaseUrl, TEST_CONFIG.database).store);
  t.after(() => Promise.all(others.map((s) => s.close())));
  const workers = others.map((store) => new WebhookWorker(store, { allowPrivate: true, timeoutMs: 2000, maxResponseBytes: 1024 }, app.clock, app.app.log, { pollMs: 20 }));
  for (const worker of [app.webhookWorker, ...workers]) worker.start();
  t.after(() => Promise.all(workers.map((w) => w.stop())));
  await until(() => hook.requests.length >= 30, '30 deliveries');
  await new Promise((r) => setTimeout(r, 500));
  const ids = hook.requests.map((r) => String(r.headers['webhook-id']));
  assert.equal(ids.length, 30, 'each once');
  assert.equal(new Set(ids).size, 30);
  const names = hook.requests.map((r) => JSON.parse(r.body).data.displayName as string);
  assert.deepEqual(names, Array.from({ length: 30 }, (_, i) => `k${i}`), 'in order, though three workers took turns');
});

test("another tenant's admin cannot see, change, test, read the deliveries of or delete a tenant's webhook", async (t) => {
  const { app, webhook } = await setUp(t);
  const other = `/api/v1/tenants/globex/webhooks/${webhook.id}`;
  const tries: [string, string, unknown?][] = [
    ['PATCH', other, { enabled: false }], ['POST', `${other}/test`], ['GET', `${other}/deliveries`], ['DELETE', other],
  ];
  for (const [method, url, body] of tries) {
    const res = await app.call(method, url, { key: app.otherTenantKey, body });
    assert.equal(res.json().code, 'webhook_not_found', `${method} ${url}`);
  }
  assert.deepEqual((await app.call('GET', '/api/v1/tenants/globex/webhooks', { key: app.otherTenantKey })).json().items, []);
  const mine = (await app.call('GET', HOOKS, { key: app.adminKey })).json().items;
  assert.deepEqual(mine.map((w: { id: string; enabled: boolean }) => [w.id, w.enabled]), [[webhook.id, true]], 'untouched');
});

/**
 * A receiver down for 10 minutes (by Kupe's clock: connections refused), while events keep coming: none is
 * lost; once it is back, the waiting delivery's next retry sends everything, in order, each event once.
 */
test('a receiver down for 10 minutes loses no event: the next retry after it is back delivers them all, in order', async (t) => {
  const app = await buildTestApp(t, { config: { webhookAllowPrivate: true } });
  const hook = await webhookReceiver(t);
  const created = await app.call('POST', HOOKS, { key: app.adminKey, body: { url: hook.url, events: ['apikey.created'] } });
  assert.equal(created.statusCode, 201);
  await hook.down();
  const got = hook.requests;
  const first = async () => (await app.call('GET', `${HOOKS}/${created.json().id}/deliveries`, { key: app.adminKey })).json().items.at(-1);
  app.webhookWorker.start();
  const ids: string[] = [];
  const started = app.clock().getTime();
  // Ten minutes by Kupe's clock, in 20-second steps, an event made in each of the first 20.
  for (let step = 0; app.clock().getTime() - started < 600_000; step++) {
    if (step < 20) {
      const made = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: `ci-${step}`, role: 'readonly' } });
      ids.push(made.json().id as string);
    }
    app.clock.advance(20_000);
    app.webhookWorker.nudge();
    await new Promise((r) => setTimeout(r, 20));
  }
  await until(async () => (await first()).attempts >= 3 && (await first()).lastError !== undefined, 'three refused attempts (at 0 s, 5 s and 5 min)');
  assert.equal(got.length, 0, 'nothing got through while it was down');
  assert.equal((await first()).state, 'pending', 'still waiting, not given up');
  await hook.up(); // back, on the same port
  app.clock.advance(RETRY_SECONDS[2]! * 1000); // the next retry, 30 minutes after the third attempt
  await until(() => new Set(got.map((g) => g.id)).size === ids.length, `all ${ids.length} events`);
  assert.deepEqual(got.map((g) => JSON.parse(g.body).data.id), ids, 'each once, in order');
});
