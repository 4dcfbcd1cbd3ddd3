import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { buildApp } from '../../src/http/app.ts';
import { appDeps, openTestStore } from '../helpers.ts';

/**
 * The CI/CD guide, over real HTTP on a real loopback port: an admin creates a
 * readonly key with an expiry, finds it by name, uses it, rotates it, and the
 * old key is refused on the very next request.
 */
test('create, use, rotate and revoke a pipeline key over HTTP', async (t) => {
  const { store } = await openTestStore(t);
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, new Date());
  const admin = await createApiKey(store, 'acme', { displayName: 'admin', role: 'admin' }, { actor: 'operator', now: new Date() });
  const { app } = await buildApp(await appDeps({ config: { rateLimit: 600 }, store }));
  t.after(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });

  const api = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1/tenants/acme${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() as Record<string, any> };
  };

  const expiresAt = new Date(Date.now() + 90 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const created = await api('POST', '/apikeys', admin.key, { displayName: 'deploy-pipeline', role: 'readonly', expiresAt });
  assert.equal(created.status, 201);
  const oldKey = created.body!;
  assert.equal(oldKey.expiresAt, expiresAt);

  const listed = await api('GET', '/apikeys', admin.key);
  const found = listed.body!.items.find((k: { displayName: string }) => k.displayName === 'deploy-pipeline');
  assert.equal(found.id, oldKey.id);
  assert.equal(found.key, undefined, 'no raw key in the list');
  assert.ok(!JSON.stringify(listed.body).includes(oldKey.key), 'the old key is not in the list');

  assert.equal((await api('GET', '', oldKey.key)).status, 200, 'the pipeline reads its tenant');
  assert.equal((await api('POST', '/apikeys', oldKey.key, { displayName: 'x', role: 'readonly' })).status, 403);

  const rotated = await api('POST', '/apikeys', admin.key, { displayName: 'deploy-pipeline-new', role: 'readonly', expiresAt });
  assert.equal(rotated.status, 201);
  const newKey = rotated.body!;
  assert.equal((await api('GET', '', newKey.key)).status, 200, 'the new key works before the old one goes');
  assert.equal((await api('GET', '', oldKey.key)).status, 200, 'both work during the switch');

  assert.equal((await api('DELETE', `/apikeys/${oldKey.id}`, admin.key)).status, 204);
  const refused = await api('GET', '', oldKey.key);
  assert.deepEqual([refused.status, refused.body!.error], [401, 'api key revoked'], 'the very next request');
  assert.equal((await api('GET', '', newKey.key)).status, 200, 'the new key still works');
});
