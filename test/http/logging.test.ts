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
  assert.ok(lines.length >= 9, `expected request logs, got ${lines.length} lines`);
  assert.match(log, /"url":"\/api\/v1\/whoami"/, 'requests are logged');
  assert.match(log, /probe/);
  const digest = Buffer.from((await app.store.apiKeys.get(id))!.digest, 'hex');
  for (const secret of [key, key.slice(14), app.adminKey, digest.toString('hex'), digest.toString('base64'), 'hunter2']) {
    assert.ok(!log.includes(secret), `log contains ${secret.slice(0, 12)}...`);
  }
});
