import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { until } from '../helpers.ts';
import { IssuerKeys, MAX_DOCUMENT_BYTES } from '../../src/oidc/issuer.ts';
import { systemClock } from '../../src/domain/time.ts';

/** A provider whose key document is endless (as long as the client reads): counts what it managed to send. */
async function endlessProvider(t: TestContext, declareLength: boolean) {
  const state = { sent: 0, closed: false };
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const server = createServer((req, res: ServerResponse) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      return;
    }
    res.setHeader('content-type', 'application/json');
    if (declareLength) res.setHeader('content-length', String(100 * 1024 * 1024));
    res.once('close', () => { state.closed = true; });
    res.write('{"keys":[');
    const pump = () => {
      while (state.sent < 100 * 1024 * 1024 && !res.destroyed) {
        state.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => { server.closeAllConnections(); server.close(); });
  return { issuer, state };
}

test('a 100 MB key document is given up past 512 KiB as it streams, not read whole first', async (t) => {
  const { issuer, state } = await endlessProvider(t, false);
  const keys = new IssuerKeys({ issuer, refreshSeconds: 300, clock: systemClock });
  const heapBefore = process.memoryUsage().arrayBuffers;
  await keys.refresh();
  assert.match(keys.lastFailure ?? '', new RegExp(`is larger than ${MAX_DOCUMENT_BYTES} bytes`));
  await until(() => state.closed, 'the provider saw Kupe hang up');
  assert.ok(state.sent < 16 * 1024 * 1024, `the provider could send only ${(state.sent / 1048576).toFixed(1)} MB of its 100 MB`);
  assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 32 * 1024 * 1024, 'no 100 MB held');
});

test('a declared Content-Length over the limit is refused before reading', async (t) => {
  const { issuer } = await endlessProvider(t, true);
  const keys = new IssuerKeys({ issuer, refreshSeconds: 300, clock: systemClock });
  await keys.refresh();
  assert.match(keys.lastFailure ?? '', /is larger than/);
});

test('the discovery document is fetched at most once per cooldown for sign-in pages while the provider is down', async (t) => {
  let discoveries = 0;
  const server = createServer((_req, res) => { discoveries += 1; res.statusCode = 503; res.end(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const keys = new IssuerKeys({ issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, refreshSeconds: 300, unknownKeyCooldownMs: 60_000, clock: systemClock });
  await keys.refresh();
  for (let i = 0; i < 20; i++) await assert.rejects(keys.metadata(), /could not be reached/);
  assert.equal(discoveries, 1, 'twenty sign-in pages, one fetch');
});
