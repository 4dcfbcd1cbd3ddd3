import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { buildTestApp, until } from '../helpers.ts';
import { webhookReceiver } from '../receiver.ts';

/**
 * docs/notifications.md shows how to verify a delivery with Standard Webhooks' reference libraries in three
 * languages: each of them, as installed by scripts/clients-setup.sh, verifies a real delivery of Kupe's and
 * refuses one whose body was changed.
 */
const VENV = join(import.meta.dirname, '../../.venv-clients');
const PYTHON = join(VENV, 'bin/python');
const GO_VERIFIER = join(VENV, 'go-verifier');
const skip = (existsSync(PYTHON) && existsSync(GO_VERIFIER)) || process.env.CI ? false
  : 'needs the reference verifiers: npm run test:clients installs them (scripts/clients-setup.sh)';

function run(command: string, args: string[], input: unknown) {
  const result = spawnSync(command, args, { input: JSON.stringify(input), encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, out: result.stdout.trim(), err: result.stderr.trim() };
}

test('a delivery verifies with the TypeScript, Python and Go reference libraries, and a changed body with none', { skip }, async (t) => {
  const app = await buildTestApp(t, { config: { webhookAllowPrivate: true } });
  const hook = await webhookReceiver(t);
  const got = hook.requests;
  const created = await app.call('POST', '/api/v1/tenants/acme/webhooks', {
    key: app.adminKey, body: { url: hook.url, events: ['apikey.created'] },
  });
  const { secret } = created.json();
  app.webhookWorker.start();
  await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'deploy', role: 'readonly' } });
  await until(() => got.length === 1, 'the delivery');
  const { body } = got[0]!;
  const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(got[0]!.headers[h])]));

  assert.equal((new Webhook(secret).verify(body, headers) as { type: string }).type, 'apikey.created', 'TypeScript');
  const verifiers: [string, string, string[]][] = [['Python', PYTHON, [join(import.meta.dirname, 'verify_webhook.py')]], ['Go', GO_VERIFIER, []]];
  for (const [language, command, args] of verifiers) {
    const genuine = run(command, args, { secret, body, headers });
    assert.deepEqual([genuine.status, genuine.out], [0, 'apikey.created'], `${language} verifies it: ${genuine.err}`);
    const forged = run(command, args, { secret, body: body.replace('"deploy"', '"dep1oy"'), headers });
    assert.equal(forged.status, 1, `${language} refuses a changed body: ${forged.out} ${forged.err}`);
  }
  assert.throws(() => new Webhook(secret).verify(body.replace('"deploy"', '"dep1oy"'), headers), 'TypeScript refuses it too');
});
