import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { buildTestApp, snapshot, type TestApp, type TestConfig, until } from '../helpers.ts';
import { type RawAnswer, rawRequest } from './raw-http.ts';

/** The app listening on a loopback port: these faults happen below inject's reach. */
async function listening(t: TestContext, config: Partial<TestConfig> = {}): Promise<{ app: TestApp; port: number }> {
  const app = await buildTestApp(t, { config });
  await app.app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.app.server.address();
  assert.ok(address && typeof address === 'object', 'listening on a TCP port');
  return { app, port: address.port };
}

/** The error contract: catalogue code, a human message, requestId equal to X-Request-Id, JSON. */
function assertEnvelope(answer: RawAnswer, status: number, code: string, what: string) {
  assert.equal(answer.status, status, `${what}: status (body ${answer.body})`);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/, what);
  const body = JSON.parse(answer.body) as { error: string; code: string; requestId: string };
  assert.equal(body.code, code, what);
  assert.ok(body.error.length > 10 && !/^(Bad Request|Client Error)$/.test(body.error), `${what}: human message, got ${body.error}`);
  assert.ok(body.requestId, `${what}: requestId`);
  assert.equal(answer.headers['x-request-id'], body.requestId, `${what}: X-Request-Id`);
  return body;
}

test('every malformed request class answers in the error contract', async (t) => {
  const { app, port } = await listening(t);
  const before = await snapshot(app.store);
  const call = (method: string, path: string, extra = '') =>
    `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${app.adminKey}\r\n${extra}\r\n`;
  const get = (path: string, extra = '') => call('GET', path, extra);
  const cases: [string, string, number, string][] = [
    ['bad percent-escape in the path', get('/api/v1/tenants/%zz'), 400, 'malformed_request'],
    ['a path segment over 300 characters', call('DELETE', `/api/v1/tenants/acme/members/${'a'.repeat(290)}%40example.com`), 414, 'url_too_long'],
    ['a stray CR in a header', get('/api/v1/whoami', 'X-Evil: a\rb\r\n'), 400, 'malformed_request'],
    ['a NUL byte in a header', get('/api/v1/whoami', 'X-Evil: a\u0000b\r\n'), 400, 'malformed_request'],
    ['Content-Length with Transfer-Encoding', 'POST /api/v1/tenants/acme/apikeys HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n' +
      'Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n', 400, 'malformed_request'],
    ['an unknown method', 'BREW /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'malformed_request'],
    ['20 KB of headers', get('/api/v1/whoami', `X-Big: ${'b'.repeat(20_000)}\r\n`), 431, 'headers_too_large'],
    ['a NUL character in a query parameter', get('/api/v1/tenants/acme/auditlog?actor=%00'), 400, 'validation_failed'],
  ];
  for (const [what, bytes, status, code] of cases) {
    assertEnvelope(await rawRequest(port, bytes), status, code, what);
  }
  const nulEmail = JSON.stringify({ email: 'bob\u0000@acme.com', role: 'readonly' });
  const post = await rawRequest(port, `POST /api/v1/tenants/acme/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${app.adminKey}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(nulEmail)}\r\n\r\n${nulEmail}`);
  const body = assertEnvelope(post, 400, 'validation_failed', 'a NUL character in a body field');
  assert.match(body.error, /email/);
  assert.equal(await snapshot(app.store), before, 'no malformed request changed anything');
  // The server is still there.
  assert.equal((await rawRequest(port, get('/api/v1/whoami'))).status, 200);
});

test('a body that trickles in is cut at the request timeout with 408', async (t) => {
  const { app, port } = await listening(t, { requestTimeoutSeconds: 1 });
  const head = `POST /api/v1/tenants/acme/apikeys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${app.adminKey}\r\n` +
    'Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{';
  const slow = await Promise.all([1, 2, 3].map(() => rawRequest(port, head, { drip: ' '.repeat(100), dripMs: 200 })));
  for (const answer of slow) {
    assert.ok(answer.closed, 'the server closed the connection');
    assertEnvelope(answer, 408, 'request_timeout', 'slow body');
    // Bounded: cut within a few seconds of the 1 s timeout, not minutes later.
    assert.ok(answer.ms < 5000, `cut after ${Math.round(answer.ms)} ms`);
  }
  const metrics = await app.call('GET', '/metrics');
  assert.match(metrics.body, /kupe_http_client_errors_total\{code="request_timeout"\} 3/);
});

test('connections over the cap are refused at accept, and counted', async (t) => {
  const { app, port } = await listening(t, { maxConnections: 3 });
  const open = await Promise.all([1, 2, 3].map(() => new Promise<ReturnType<typeof connect>>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
  })));
  const refused = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(refused.status, 0, 'no answer: the fourth connection was closed at once');
  for (const socket of open) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
  assert.match((await app.call('GET', '/metrics')).body, /kupe_http_connections_dropped_total 1/);
});

test('one address holding slow connections at its cap cannot starve another address (KUPE_MAX_CONNECTIONS_PER_ADDRESS)', async (t) => {
  // 25 connections in all, 20 per address: the attacker (127.0.0.1) keeps 30 slow-header connections open,
  // reopening each as it closes; a client on 127.0.0.2 (loopback too) still gets its answers.
  const { app, port } = await listening(t, { maxConnections: 25, maxConnectionsPerAddress: 20 });
  let attacking = true;
  const held = new Set<Socket>();
  const hold = () => {
    if (!attacking) return;
    const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' }, () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => { held.delete(socket); setTimeout(hold, 10); });
  };
  for (let i = 0; i < 30; i++) hold();
  t.after(() => { attacking = false; for (const socket of held) socket.destroy(); });
  const refusedAtCap = async () => (await app.metrics.connectionsRefusedPerAddress.get()).values[0]?.value ?? 0;
  await until(async () => await refusedAtCap() > 0, 'the attacker holding every slot of its address');

  const answered = [];
  for (let i = 0; i < 40; i++) {
    answered.push(await new Promise<number>((resolve) => {
      const req = httpRequest({ port, host: '127.0.0.1', localAddress: '127.0.0.2', path: '/healthz', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    }));
  }
  attacking = false;
  const ok = answered.filter((status) => status === 200).length;
  assert.ok(ok >= 38, `another address was served: ${ok} of 40 answered (at least 95 %)`);
  assert.match((await app.call('GET', '/metrics')).body, /^kupe_http_connections_refused_per_address_total [1-9]/m);
});
