import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resetPassword } from '../../src/domain/accounts.ts';
import { AppError } from '../../src/domain/errors.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { STATUS_BY_CODE } from '../../src/http/status-codes.ts';
import { buildTestApp } from '../helpers.ts';

// Codes that no other test asserted by code (only by message), each with the request that earns it.
test('the codes of not-found, bad names, bad keys and oversized bodies, as the catalogue says', async (t) => {
  const app = await buildTestApp(t);
  const cases: [string, string, unknown, string, number][] = [
    ['GET', '/api/v1/tenants/Acme', undefined, 'invalid_tenant_name', 400],
    ['PATCH', '/api/v1/tenants/acme/members/nobody@acme.com', { role: 'admin' }, 'member_not_found', 404],
    ['DELETE', '/api/v1/tenants/acme/apikeys/ak-00000000', undefined, 'api_key_not_found', 404],
    ['POST', '/api/v1/tenants/acme/apikeys', `{"displayName":"${'x'.repeat(70_000)}","role":"readonly"}`, 'body_too_large', 413],
  ];
  for (const [method, url, body, code, status] of cases) {
    const res = await app.call(method, url, { key: app.adminKey, body });
    assert.deepEqual([res.statusCode, res.json().code], [status, code], `${method} ${url}`);
  }
  const badKey = await app.call('GET', '/api/v1/whoami', { key: 'kupe_nonsense' });
  assert.deepEqual([badKey.statusCode, badKey.json().code], [401, 'invalid_api_key']);

  await assert.rejects(createTenant(app.store, { name: 'acme', adminEmail: 'x@acme.com' }, app.clock()),
    (e: unknown) => e instanceof AppError && e.code === 'tenant_already_exists');
  await assert.rejects(resetPassword(app.store, 'nobody@acme.com', app.clock()),
    (e: unknown) => e instanceof AppError && e.code === 'user_not_found');
});

test('every code of the catalogue is asserted by code in some test', () => {
  // This file counts only up to this test (the list below would name every code).
  const sources = readdirSync('test', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && join('test', f) !== join('test', 'http', 'error-codes.test.ts'))
    .map((f) => readFileSync(join('test', f), 'utf8')).join('\n')
    + readFileSync(join('test', 'http', 'error-codes.test.ts'), 'utf8').split("test('every code of the catalogue")[0];
  const missing = Object.keys(STATUS_BY_CODE).filter((code) => !sources.includes(`'${code}'`));
  assert.deepEqual(missing, [], 'codes no test names (write a test that earns each)');
});
