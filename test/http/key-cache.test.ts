import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { openStore } from '../../src/store/index.ts';
import { buildTestApp } from '../helpers.ts';

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

test('a revocation made through another connection to the same database is in force at once', async (t) => {
  const app = await buildTestApp(t);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey })).statusCode, 200);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey })).statusCode, 200);
  // A second store on the same file (or schema) stands for another process: another server, a script.
  const other = openStore(app.databaseUrl).store;
  t.after(() => other.close());
  await revokeApiKey(other, 'acme', app.readonlyKeyId, { actor: 'operator', now: app.clock() });
  const refused = await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey });
  assert.equal(refused.statusCode, 401);
  assert.equal(refused.json().code, 'api_key_revoked');
});
