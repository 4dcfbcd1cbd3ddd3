import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  digestApiKey, digestsEqual, generateApiKeyId, generateRawApiKey, parseRawApiKey,
} from '../../src/domain/key-format.ts';

test('a generated key embeds its id and parses back to it', () => {
  const id = generateApiKeyId();
  assert.match(id, /^ak-[0-9a-f]{8}$/);
  const raw = generateRawApiKey(id);
  assert.match(raw, /^kupe_[0-9a-f]{8}_[0-9A-Za-z]{49}$/);
  assert.equal(raw.slice(5, 13), id.slice(3));
  assert.deepEqual(parseRawApiKey(raw), { id, raw });
});

test('secrets differ and carry at least 256 bits (43 base62 characters)', () => {
  const keys = new Set(Array.from({ length: 200 }, () => generateRawApiKey('ak-00000000')));
  assert.equal(keys.size, 200);
  // 43 base62 characters hold 43 * log2(62) = 256.03 bits: the secret part of every key has them, plus 6 of checksum.
  for (const k of keys) assert.match(k, /^kupe_00000000_[0-9A-Za-z]{49}$/);
});

test('the checksum rejects any single mistyped character, before any lookup', () => {
  const raw = generateRawApiKey('ak-1a2b3c4d');
  for (let i = 14; i < raw.length; i++) {
    const replacement = raw[i] === 'a' ? 'b' : 'a';
    const typo = raw.slice(0, i) + replacement + raw.slice(i + 1);
    assert.equal(parseRawApiKey(typo), undefined, `typo at ${i} accepted`);
  }
  // A changed id is caught too: the checksum covers it.
  assert.equal(parseRawApiKey(raw.replace('kupe_1a2b3c4d', 'kupe_1a2b3c4e')), undefined);
});

test('malformed text is not a key', () => {
  for (const text of ['', 'kupe_', 'kupe_1234567_x', 'Bearer kupe_x', `kupe_ABCDEF12_${'a'.repeat(49)}`,
    `${generateRawApiKey('ak-00000001')}x`, generateRawApiKey('ak-00000001').slice(0, -1)]) {
    assert.equal(parseRawApiKey(text), undefined, text);
  }
});

test('the stored digest is SHA-256 of the whole raw key', () => {
  const raw = generateRawApiKey('ak-00000002');
  assert.equal(digestApiKey(raw), createHash('sha256').update(raw).digest('hex'));
});

test('digests compare equal only when every character matches', () => {
  const a = digestApiKey('kupe_a');
  assert.ok(digestsEqual(a, digestApiKey('kupe_a')), 'equal digests compare equal');
  assert.ok(!digestsEqual(a, digestApiKey('kupe_b')), 'different digests compare different');
  assert.ok(!digestsEqual(a, `${a.slice(0, -1)}${a.endsWith('0') ? '1' : '0'}`), 'last character differs');
  assert.ok(!digestsEqual(a, a.slice(0, -2)), 'shorter');
  assert.ok(!digestsEqual(a, `${a.slice(0, -1)}é`), 'same length in characters, not in bytes: false, no exception');
});
