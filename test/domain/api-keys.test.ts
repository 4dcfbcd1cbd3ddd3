import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyApiKey } from '../../src/domain/api-keys.ts';
import { digestApiKey, generateRawApiKey, parseRawApiKey, type ParsedApiKey } from '../../src/domain/key-format.ts';
import type { KeyForVerification } from '../../src/domain/store.ts';

const now = new Date('2026-11-27T12:00:00Z');

function keyWithRow(overrides: Partial<KeyForVerification> = {}): { parsed: ParsedApiKey; row: KeyForVerification } {
  const raw = generateRawApiKey('ak-0000abcd');
  const row: KeyForVerification = {
    id: 'ak-0000abcd', tenant: 'acme', displayName: 'ci', role: 'readonly', digest: digestApiKey(raw),
    createdBy: 'alice@acme.com', createdAt: '2026-11-01T00:00:00Z', tenantDisabled: false, ...overrides,
  };
  return { parsed: parseRawApiKey(raw)!, row };
}

test('a matching, live key verifies to its principal', () => {
  const { parsed, row } = keyWithRow();
  assert.deepEqual(verifyApiKey(parsed, row, now), {
    ok: true, principal: { kind: 'apikey', tenant: 'acme', role: 'readonly', keyId: 'ak-0000abcd', displayName: 'ci' },
  });
});

test('unknown id and wrong secret fail without revealing the row state', () => {
  const { parsed, row } = keyWithRow({ revokedAt: '2026-11-02T00:00:00Z', expiresAt: '2026-11-03T00:00:00Z' });
  assert.deepEqual(verifyApiKey(parsed, undefined, now), { ok: false, reason: 'unknown' });
  const other = parseRawApiKey(generateRawApiKey('ak-0000abcd'))!;
  // Revoked and expired, but the secret is wrong: only "wrong_secret" may be said.
  assert.deepEqual(verifyApiKey(other, row, now), { ok: false, reason: 'wrong_secret' });
  assert.deepEqual(verifyApiKey(parsed, row, now), { ok: false, reason: 'revoked' });
});

test("a disabled tenant's key is refused as such, once its secret matched and it is neither revoked nor expired", () => {
  const { parsed, row } = keyWithRow({ tenantDisabled: true });
  assert.deepEqual(verifyApiKey(parsed, row, now), { ok: false, reason: 'tenant_disabled' });
  assert.deepEqual(verifyApiKey(parseRawApiKey(generateRawApiKey('ak-0000abcd'))!, row, now), { ok: false, reason: 'wrong_secret' });
  const revoked = keyWithRow({ tenantDisabled: true, revokedAt: '2026-11-02T00:00:00Z' });
  assert.deepEqual(verifyApiKey(revoked.parsed, revoked.row, now), { ok: false, reason: 'revoked' });
});

test('expiry is enforced to the second, in any time zone', () => {
  const past = keyWithRow({ expiresAt: '2026-11-27T12:00:00Z' });
  assert.deepEqual(verifyApiKey(past.parsed, past.row, now), { ok: false, reason: 'expired' });
  const future = keyWithRow({ expiresAt: '2026-11-27T13:00:01+01:00' });
  assert.equal(verifyApiKey(future.parsed, future.row, now).ok, true);
  const justPast = keyWithRow({ expiresAt: '2026-11-27T12:59:59+01:00' });
  assert.deepEqual(verifyApiKey(justPast.parsed, justPast.row, now), { ok: false, reason: 'expired' });
});
