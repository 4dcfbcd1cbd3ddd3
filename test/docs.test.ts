import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { SETTINGS } from '../src/settings.ts';
import { SETTINGS_TABLES, withSettingsTable } from '../scripts/settings-table.ts';
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

test('the settings tables of README.md and docs/oidc.md are written from src/settings.ts (npm run docs:settings)', () => {
  for (const { file, table } of SETTINGS_TABLES) {
    const committed = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    assert.equal(committed, withSettingsTable(committed, table), `${file} is stale: run npm run docs:settings`);
  }
  // Every setting is in a table, and every KUPE_ name a table shows is a setting.
  const tables = SETTINGS_TABLES.map(({ file }) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')).join('\n');
  for (const { name } of Object.values(SETTINGS)) assert.ok(tables.includes(`| \`${name}\` |`), `${name} has a row`);
});

test('every setting can be set, and a bad value of each is named at start', () => {
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const env = { KUPE_OIDC_ISSUER: 'https://sso.example.com/', KUPE_OIDC_AUDIENCE: 'kupe', [setting.name]: 'http://bad value/?' };
    if (/^(?:host|redisPrefix|metricsToken|gatewayPolicyFile|plansFile|clientId|clientSecret|audience|providerName|scopes|groupsClaim)$/.test(key)) continue; // free text (the files are read by the root: test/http/gateway.test.ts, test/http/plans.test.ts)
    assert.throws(() => loadConfig(env), (error: Error) => error.message.includes(setting.name), `${setting.name} refuses a bad value`);
  }
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
