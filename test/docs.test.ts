import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { STATUS_BY_CODE } from '../src/http/errors.ts';

test('docs/errors.md documents every error code with its status', () => {
  const catalogue = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const missing = Object.entries(STATUS_BY_CODE)
    .filter(([code, status]) => !catalogue.includes(`| \`${code}\` | ${status} |`))
    .map(([code, status]) => `${code} (${status})`);
  assert.deepEqual(missing, []);
});
