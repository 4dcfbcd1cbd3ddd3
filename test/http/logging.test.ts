import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import { buildTestApp } from '../helpers.ts';

test('no raw key or digest reaches the log through a create-use-revoke cycle', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const logger = createLogger('trace', sink);
  const app = await buildTestApp(t, { logger });

  const created = await app.call('POST', '/api/v1/tenants/acme/apikeys', {
    key: app.adminKey, body: { displayName: 'ci', role: 'readonly' },
  });
  const { id, key } = created.json();
  assert.equal((await app.call('GET', '/api/v1/whoami', { key })).statusCode, 200);
  assert.equal((await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${id}`, { key: app.adminKey })).statusCode, 204);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key })).statusCode, 401);
  // A logged object that carries secrets under the usual names is redacted too.
  logger.info({ key, token: key, password: 'hunter2', req: { headers: { authorization: `Bearer ${key}` } } }, 'probe');

  const log = lines.join('');
  // One line per answer, with its request id, URL and status.
  const answered = lines.map((l) => JSON.parse(l) as { msg: string; reqId?: string; req?: { url: string }; res?: { statusCode: number } })
    .filter((l) => l.msg === 'request completed');
  assert.deepEqual(answered.map((l) => [l.req?.url, l.res?.statusCode]), [
    ['/api/v1/tenants/acme/apikeys', 201], ['/api/v1/whoami', 200], [`/api/v1/tenants/acme/apikeys/${id}`, 204], ['/api/v1/whoami', 401],
  ]);
  assert.ok(answered.every((l) => l.reqId), 'each line has its request id');
  assert.match(log, /probe/);
  const digest = Buffer.from((await app.store.apiKeys.get(id))!.digest, 'hex');
  for (const secret of [key, key.slice(14), app.adminKey, digest.toString('hex'), digest.toString('base64'), 'hunter2']) {
    assert.ok(!log.includes(secret), `log contains ${secret.slice(0, 12)}...`);
  }
});

test('no invite token, password, cookie or key reaches the log through the invite, session and key routes', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const app = await buildTestApp(t, { logger: createLogger('trace', sink) });
  const password = 'correct horse battery staple';

  const added = await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email: 'bob@acme.com', role: 'readonly' } });
  const token = String(added.json().invite.url).split('/').at(-1)!;
  assert.equal((await app.call('GET', `/api/v1/invites/${token}`)).statusCode, 200);
  const accepted = await app.call('POST', `/api/v1/invites/${token}/accept`, { body: { password } });
  assert.equal(accepted.statusCode, 200);
  const cookie = String(accepted.headers['set-cookie']).split(';')[0]!;
  await app.call('GET', `/api/v1/invites/${token}`); // a second look, after use
  const signedIn = await app.call('POST', '/api/v1/session', { body: { email: 'bob@acme.com', password } });
  assert.equal(signedIn.statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/session', { headers: { cookie } })).statusCode, 200);
  // Secrets where they do not belong: a key as the request id, in the query string, in the path.
  const echoed = await app.call('GET', `/api/v1/whoami?key=${app.adminKey}`, { key: app.adminKey, headers: { 'x-request-id': app.adminKey } });
  assert.notEqual(echoed.headers['x-request-id'], app.adminKey, 'a key is never taken as the request id');
  await app.call('GET', `/api/v1/tenants/acme/apikeys/${app.adminKey}`, { key: app.adminKey });

  const log = lines.join('');
  assert.match(log, /"url":"\/api\/v1\/invites\/\[redacted\]\/accept"/, 'the invite routes are logged, without the token');
  const sessionToken = cookie.split('=')[1]!;
  for (const secret of [token, password, sessionToken, app.adminKey, app.adminKey.slice(14), signedIn.json().csrfToken as string]) {
    assert.ok(!log.includes(secret), `log contains ${secret.slice(0, 8)}...`);
  }
});

test('the provider callback\'s code and state (and every credential-like query parameter) are redacted from logged URLs', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const app = await buildTestApp(t, { logger: createLogger('info', sink) });
  // Without an identity provider the callback is a 404; the URL is logged all the same.
  await app.call('GET', '/oidc/callback?code=SECRETCODE1&state=SECRETSTATE2&iss=https%3A%2F%2Fid.example.com');
  await app.call('GET', '/api/v1/whoami?id_token=SECRETIDTOKEN3&Code=SECRETCODE4&session_state=SECRETSESSION5');
  const log = lines.join('');
  assert.match(log, /"url":"\/oidc\/callback\?code=\[redacted\]&state=\[redacted\]&iss=https%3A%2F%2Fid.example.com"/, 'logged, redacted');
  for (const secret of ['SECRETCODE1', 'SECRETSTATE2', 'SECRETIDTOKEN3', 'SECRETCODE4', 'SECRETSESSION5']) {
    assert.ok(!log.includes(secret), `log contains ${secret}`);
  }
});
