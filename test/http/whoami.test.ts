import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers.ts';

test('whoami tells a key who it is', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.call('GET', '/api/v1/whoami', { key: app.adminKey });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { kind: 'apikey', tenant: 'acme', role: 'admin', keyId: app.adminKeyId, displayName: 'admin key' });
});

test('whoami without a valid key is 401', async (t) => {
  const app = await buildTestApp(t);
  for (const key of [undefined, 'kupe_00000000_x']) {
    const res = await app.call('GET', '/api/v1/whoami', { key });
    assert.equal(res.statusCode, 401);
  }
});
