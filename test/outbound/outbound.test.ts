import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { addressAllowed, OutboundError, postGuarded } from '../../src/outbound/guarded-request.ts';
import { newWebhookSecret } from '../../src/domain/webhooks.ts';
import { webhookHeaders } from '../../src/outbound/standard-webhooks.ts';

const OPEN = { allowPrivate: true, timeoutMs: 2000, maxResponseBytes: 1024 };
const GUARDED = { ...OPEN, allowPrivate: false };

async function receiver(t: TestContext, answer: (res: import('node:http').ServerResponse, body: string) => void): Promise<string> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    req.on('end', () => answer(res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('a signature the Standard Webhooks reference library verifies; a changed body or secret does not', () => {
  const secret = newWebhookSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const body = JSON.stringify({ type: 'apikey.created', data: { id: 'ak-1a2b3c4d' } });
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders(secret, 'evt_1', now, body);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  assert.throws(() => new Webhook(secret).verify(`${body} `, headers));
  assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers));
});

test('private, loopback, link-local and reserved destinations are refused unless allowed, by name and by address', async (t) => {
  for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '224.0.0.1']) {
    assert.equal(addressAllowed(address, GUARDED), false, address);
  }
  for (const address of ['93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(addressAllowed(address, GUARDED), true, address);
  const url = await receiver(t, (res) => res.end('ok'));
  await assert.rejects(postGuarded(url, '{}', {}, GUARDED), (e: Error) => e instanceof OutboundError && /127\.0\.0\.1 is a private or reserved address/.test(e.message));
  const byName = url.replace('127.0.0.1', 'localhost');
  await assert.rejects(postGuarded(byName, '{}', {}, GUARDED), (e: Error) => /localhost resolves to .*private or reserved/.test(e.message), 'checked on the resolved address');
  assert.equal((await postGuarded(url, '{}', {}, OPEN)).status, 200, 'allowed by the setting');
});

test('redirects are not followed, slow answers time out, long answers are cut', async (t) => {
  const redirect = await receiver(t, (res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end());
  assert.equal((await postGuarded(redirect, '{}', {}, OPEN)).status, 302);
  const slow = await receiver(t, (res) => setTimeout(() => res.end('late'), 3000));
  await assert.rejects(postGuarded(slow, '{}', {}, { ...OPEN, timeoutMs: 300 }), /no answer within 300 ms/);
  const long = await receiver(t, (res) => res.end('x'.repeat(100_000)));
  const answer = await postGuarded(long, '{}', {}, OPEN);
  assert.equal(answer.status, 200);
  assert.equal(answer.body.length, 1024);
});
