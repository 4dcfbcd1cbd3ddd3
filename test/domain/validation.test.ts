import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../src/domain/errors.ts';
import {
  formatTimestamp, isTenantName, normalizeDisplayName, parseRfc3339,
} from '../../src/domain/validation.ts';

test('RFC 3339 timestamps with a time zone parse to their instant', () => {
  assert.equal(parseRfc3339('2027-01-01T00:00:00Z'), Date.UTC(2027, 0, 1));
  assert.equal(parseRfc3339('2027-01-01T01:00:00+01:00'), Date.UTC(2027, 0, 1));
  assert.equal(parseRfc3339('2026-12-31T19:00:00.5-05:00'), Date.UTC(2027, 0, 1, 0, 0, 0, 500));
  assert.equal(parseRfc3339('2027-01-01t00:00:00z'), Date.UTC(2027, 0, 1));
  assert.equal(parseRfc3339('2028-02-29T00:00:00Z'), Date.UTC(2028, 1, 29));
});

test('anything else is refused', () => {
  for (const text of ['2027-01-01', '2027-01-01T00:00:00', '2027-01-01 00:00:00Z', '2027-02-30T00:00:00Z',
    '2027-13-01T00:00:00Z', '2027-01-01T24:00:00Z', '2027-01-01T00:00:00+25:00', 'tomorrow', '1798761600',
    '2027-01-01T00:00:00Z ', '2027-1-1T00:00:00Z']) {
    assert.equal(parseRfc3339(text), undefined, text);
  }
});

test('formatTimestamp gives UTC with whole seconds', () => {
  assert.equal(formatTimestamp(new Date(Date.UTC(2026, 2, 15, 8, 0, 0, 999))), '2026-03-15T08:00:00Z');
});

test('display names are trimmed, 1-128 characters, without control characters', () => {
  assert.equal(normalizeDisplayName('displayName', '  CI/CD Pipeline '), 'CI/CD Pipeline');
  assert.equal(normalizeDisplayName('displayName', 'é'.repeat(128)), 'é'.repeat(128));
  for (const bad of ['', '   ', 'x'.repeat(129), 'a\nb', 'tab\there', 'nul\u0000']) {
    assert.throws(() => normalizeDisplayName('displayName', bad),
      (e: AppError) => e.code === 'validation_failed' && e.message.startsWith('displayName'));
  }
});

test('tenant names follow the contract', () => {
  for (const good of ['ac', 'acme', 'a-1', `a${'b'.repeat(62)}`]) assert.ok(isTenantName(good), good);
  for (const bad of ['a', 'Acme', '1acme', 'acme-', 'ac_me', `a${'b'.repeat(63)}`, 'ac/me']) {
    assert.ok(!isTenantName(bad), bad);
  }
});
