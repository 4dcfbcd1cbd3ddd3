import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseTimestamp } from '../../console/src/format.ts';
import { parseRfc3339 } from '../../src/domain/validation.ts';
import { buildTestApp, type TestApp } from '../helpers.ts';

/** Creates a key; on 201, checks that the list shows it exactly as the 201 did, then revokes it (the cap stays far). */
async function createAndList(app: TestApp, body: Record<string, unknown>) {
  const res = await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body });
  assert.ok(res.statusCode === 201 || res.statusCode === 400, `status ${res.statusCode}: ${res.body}`);
  if (res.statusCode === 400) {
    assert.equal(res.json().code, 'validation_failed');
    return undefined;
  }
  const created = res.json();
  const listed = (await app.call('GET', '/api/v1/tenants/acme/apikeys', { key: app.adminKey })).json().items
    .find((k: { id: string }) => k.id === created.id);
  const { key: _key, ...withoutKey } = created;
  assert.deepEqual(listed, withoutKey, 'listed back byte for byte');
  await app.call('DELETE', `/api/v1/tenants/acme/apikeys/${created.id}`, { key: app.adminKey });
  return created as { displayName: string; expiresAt?: string };
}

test('whatever display name the API accepts, it lists back byte for byte', async (t) => {
  const app = await buildTestApp(t);
  const tricky = fc.constantFrom('ok', ' padded ', '\u202Eexe.txt', '\u200B', ' \u200B\u200D ', 'a\u0000b', '\uD800', 'x\uDC00y',
    '\u0301', 'é', '👩‍💻 deploy', 'x'.repeat(128), 'x'.repeat(129), '\u3164', 'a\u2066b');
  const names = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 140 }), fc.string({ unit: 'grapheme', maxLength: 140 }));
  await fc.assert(fc.asyncProperty(names, async (displayName) => {
    const created = await createAndList(app, { displayName, role: 'readonly' });
    if (created) {
      assert.equal(created.displayName, displayName.trim());
      assert.ok(!/\p{Cs}/u.test(created.displayName), 'no lone surrogate is ever accepted');
    }
  }), { numRuns: 300 });
});

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const timestamps = fc.record({
  year: fc.integer({ min: 2027, max: 2999 }), month: fc.integer({ min: 0, max: 13 }), day: fc.integer({ min: 0, max: 32 }),
  hour: fc.integer({ min: 0, max: 24 }), minute: fc.integer({ min: 0, max: 60 }), second: fc.integer({ min: 0, max: 61 }),
  fraction: fc.option(fc.stringMatching(/^[0-9]{1,10}$/)), t: fc.constantFrom('T', 't', ' '),
  zone: fc.oneof(fc.constantFrom('Z', 'z', ''), fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 24 }), m: fc.integer({ min: 0, max: 60 }) })
    .map(({ sign, h, m }) => `${sign}${pad(h)}:${pad(m)}`)),
}).map((p) => `${p.year}-${pad(p.month)}-${pad(p.day)}${p.t}${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
  `${p.fraction === null ? '' : `.${p.fraction}`}${p.zone}`);

test('whatever expiresAt the API accepts, it lists back byte for byte, and the console reads the same instant', async (t) => {
  const app = await buildTestApp(t);
  await fc.assert(fc.asyncProperty(fc.oneof(timestamps, fc.string({ maxLength: 40 })), async (expiresAt) => {
    const created = await createAndList(app, { displayName: 'ci', role: 'readonly', expiresAt });
    if (created) {
      assert.equal(created.expiresAt, expiresAt);
      assert.equal(parseTimestamp(expiresAt), parseRfc3339(expiresAt), "the console's formatter parses it");
    }
  }), { numRuns: 300 });
});
