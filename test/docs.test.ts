import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { REFERENCE_ENV, renderApiReference } from '../scripts/api-reference.ts';
import { IssuerKeys } from '../src/oidc/issuer.ts';
import { STATUS_BY_CODE } from '../src/http/status-codes.ts';
import { buildTestApp } from './helpers.ts';
import { systemClock } from '../src/domain/time.ts';

test('docs/errors.md documents every error code with its status', () => {
  const catalogue = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const missing = Object.entries(STATUS_BY_CODE)
    .filter(([code, status]) => !catalogue.includes(`| \`${code}\` | ${status} |`))
    .map(([code, status]) => `${code} (${status})`);
  assert.deepEqual(missing, []);
});

test('docs/api.md is the reference generated from the served OpenAPI document (npm run docs:api)', async (t) => {
  const app = await buildTestApp(t, {
    config: { oidc: loadConfig(REFERENCE_ENV).oidc },
    issuerKeys: new IssuerKeys({ issuer: REFERENCE_ENV.KUPE_OIDC_ISSUER, refreshSeconds: 300, clock: systemClock }),
  });
  const doc = (await app.call('GET', '/api/v1/openapi.json')).json();
  const committed = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
  assert.equal(committed, renderApiReference(doc), 'docs/api.md is stale: run npm run docs:api');
  for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
    for (const method of Object.keys(item).filter((m) => m !== 'parameters')) {
      assert.ok(committed.includes(`### \`${method.toUpperCase()} ${path}\``), `${method} ${path} is documented`);
    }
  }
});
