import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { buildTestApp, TEST_POSTGRES_URL } from '../helpers.ts';
import { BIN, startInstance } from '../processes.ts';

// On SQLite, verification keeps valid keys in memory (KUPE_KEY_CACHE_SIZE, on by default); on PostgreSQL
// it reads the store every time. These hold either way.

test('a key cached by use still expires on time', async (t) => {
  const app = await buildTestApp(t);
  const { key } = await createApiKey(app.store, 'acme', {
    displayName: 'short', role: 'readonly', expiresAt: new Date(app.clock().getTime() + 60_000).toISOString(),
  }, { actor: 'operator', now: app.clock() });
  assert.equal((await app.call('GET', '/api/v1/whoami', { key })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key })).statusCode, 200, 'used again: the cached row');
  app.clock.advance(61_000);
  const expired = await app.call('GET', '/api/v1/whoami', { key });
  assert.equal(expired.statusCode, 401);
  assert.equal(expired.json().code, 'api_key_expired');
});

test('a key cached by use is refused on the next request after its DELETE answered', async (t) => {
  const app = await buildTestApp(t);
  for (let i = 0; i < 3; i++) assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey })).statusCode, 200);
  assert.equal((await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${app.readonlyKeyId}`, { key: app.adminKey })).statusCode, 204);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey })).statusCode, 401);
});

test('a second server on the same SQLite file is refused; the operator CLI keeps working beside the first', { skip: TEST_POSTGRES_URL ? 'SQLite only' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-one-server-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { KUPE_DATABASE_URL: `sqlite:${join(dir, 'kupe.db')}` };
  await startInstance(t, 'first', env);
  const second = spawnSync(process.execPath, [BIN, 'serve'], { env: { ...process.env, ...env, KUPE_PORT: '0' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(second.status, 1);
  assert.match(second.stderr, /another kupe-server serve is using .*kupe\.db/);
  const cli = spawnSync(process.execPath, [BIN, 'tenants', 'list'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /^demo\t/m);
});
