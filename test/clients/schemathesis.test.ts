import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openStore } from '../../src/store/index.ts';
import { request, startInstance } from '../processes.ts';
import { TEST_CONFIG } from '../helpers.ts';

const SCHEMATHESIS = join(import.meta.dirname, '../../.venv-clients/bin/schemathesis');
const skip = existsSync(SCHEMATHESIS) || process.env.CI ? false : 'needs schemathesis: npm run test:clients installs it (scripts/clients-setup.sh)';

/** A fixed seed and a bounded number of examples per operation: reproducible, and a minute or so here. */
const SEED = Number(process.env.KUPE_SCHEMATHESIS_SEED ?? 20261128);
const MAX_EXAMPLES = 50;

/** Operations that take If-Match: a 412 for a well-formed tag that is not the tenant's current one is the contract (docs/behaviour.md, "Tenants and members"). */
const IF_MATCH_OPERATIONS = [
  'PATCH /api/v1/tenants/{tenant}', 'POST /api/v1/tenants/{tenant}/members',
  'PATCH /api/v1/tenants/{tenant}/members/{email}', 'DELETE /api/v1/tenants/{tenant}/members/{email}',
];

/**
 * Operations with an email in the path: the canonical-email rule (docs/security.md, "One person, one
 * account") refuses some addresses the pattern allows, with 400. kupe_hooks.py filters such addresses out of
 * bodies and path parameters, but schemathesis's fuzzing phase draws path parameters without the filters.
 */
const EMAIL_PATH_OPERATIONS = [
  'PATCH /api/v1/tenants/{tenant}/members/{email}', 'DELETE /api/v1/tenants/{tenant}/members/{email}',
  'POST /api/v1/tenants/{tenant}/members/{email}/invite',
];

/**
 * The gateway's verification: the original request comes in one of two header pairs (nginx's X-Original-*,
 * Caddy's X-Forwarded-*), which OpenAPI cannot require as either-or; without either, or with a path that
 * servers could read differently, the answer is 400 gateway_request_invalid (docs/gateway.md).
 */
const GATEWAY_OPERATIONS = ['GET /api/v1/gateway/verify'];

/**
 * Webhook endpoints: a URL the pattern allows may still be refused with 400 (docs/notifications.md): http
 * without KUPE_WEBHOOK_ALLOW_PRIVATE, a user name or password in it, or text no URL parser takes.
 */
const WEBHOOK_URL_OPERATIONS = ['POST /api/v1/tenants/{tenant}/webhooks', 'PATCH /api/v1/tenants/{tenant}/webhooks/{id}'];

/**
 * The secret scanners' routes (docs/leaks.md): the sender is checked by the route, and an address that failed
 * that check too often is refused with 429 before its body is read; a body over the route's limit is 413.
 * Both are how a schema-violating request may be refused there too.
 */
const SCANNER_OPERATIONS = [
  'POST /api/v1/secret-scanning/github', 'GET /api/v1/secret-scanning/gitlab/v1/revocable_token_types',
  'POST /api/v1/secret-scanning/gitlab/v1/revoke_tokens',
];

/**
 * The runs' configuration: the statuses a schema-valid request may also get, for states and rules the schema
 * cannot state (above), and the statuses that refuse a schema-violating one.
 */
function config(): string {
  const operations = [...new Set([...IF_MATCH_OPERATIONS, ...EMAIL_PATH_OPERATIONS, ...GATEWAY_OPERATIONS, ...WEBHOOK_URL_OPERATIONS])];
  const scanners = SCANNER_OPERATIONS.map((name) => `[[operations]]\ninclude-name = "${name}"\n` +
    'checks.negative_data_rejection.expected-statuses = ["400", "401", "404", "413", "422", "429"]\n').join('\n');
  return scanners + '\n' + operations.map((name) => {
    const statuses = ['2xx', '3xx', '401', '403', '404', '409', '429', '5xx',
      ...(IF_MATCH_OPERATIONS.includes(name) ? ['412'] : []),
      ...(EMAIL_PATH_OPERATIONS.includes(name) || GATEWAY_OPERATIONS.includes(name) || WEBHOOK_URL_OPERATIONS.includes(name) ? ['400'] : [])];
    return `[[operations]]\ninclude-name = "${name}"\n` +
      `checks.positive_data_acceptance.expected-statuses = [${statuses.map((x) => `"${x}"`).join(', ')}]\n`;
  }).join('\n');
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // kupe_hooks.py keeps generated expiries in the future (see there).
    const env = { ...process.env, PYTHONPATH: import.meta.dirname, SCHEMATHESIS_HOOKS: 'kupe_hooks' };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('exit', (code) => resolve({ code, output }));
  });
}

test('schemathesis: every operation of the served OpenAPI document, all checks, stateful links', { skip, timeout: 900_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-schemathesis-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = `sqlite:${join(dir, 'kupe.db')}`;
  const server = await startInstance(t, 'api', { KUPE_DATABASE_URL: url, KUPE_RATE_LIMIT: '0' });
  const { store } = openStore(url, TEST_CONFIG.database);
  const now = new Date();
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  const admin = await createApiKey(store, 'acme', { displayName: 'schemathesis', role: 'admin' }, { actor: 'operator', now });
  const second = await createApiKey(store, 'acme', { displayName: 'schemathesis keys', role: 'admin' }, { actor: 'operator', now });
  await store.close();
  writeFileSync(join(dir, 'schemathesis.toml'), config());

  // Two runs cover every operation: revoking keys learns ids from the key list, its own key's included, and
  // would leave the rest of a single run unauthenticated. So the first run (every other operation, all
  // phases) cannot revoke its key, and the second (the key operations, with the revoke) comes last.
  const REVOKE = 'DELETE /api/v1/tenants/{tenant}/apikeys/{id}';
  const runs = [
    { key: admin.key, filter: ['--exclude-name', REVOKE] },
    { key: second.key, filter: ['--include-path-regex', '/apikeys'] },
  ];
  const outputs: string[] = [];
  for (const { key, filter } of runs) {
    const { code, output } = await run(SCHEMATHESIS, [
      '--config-file', join(dir, 'schemathesis.toml'), 'run', `${server.url}/api/v1/openapi.json`,
      '--header', `Authorization: Bearer ${key}`, '--checks', 'all', '--seed', String(SEED),
      '--max-examples', String(MAX_EXAMPLES), '--no-color', '--workers', '1', ...filter,
    ], dir);
    assert.equal(code, 0, `schemathesis found problems (${filter.join(' ')}):\n${output.slice(-12_000)}`);
    // The run really was authenticated throughout: its key still works at the end.
    if (key === admin.key) assert.equal((await request(server.url, 'GET', '/api/v1/whoami', { key })).status, 200);
    outputs.push(output);
  }
  assert.match(outputs[1]!, /Stateful/, 'the stateful phase ran over the key operations (the document links create to revoke)');
  for (const output of outputs) t.diagnostic(output.split('\n').filter((line) => /generated|Selected/.test(line)).join(' | '));
});
