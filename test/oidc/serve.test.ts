import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { testDatabaseUrl } from '../helpers.ts';
import { BIN, logLines, startInstance } from '../processes.ts';
import { startTestProvider } from './provider.ts';

const run = promisify(execFile);

test('serve refuses a bad identity provider setting at start, naming it (exit 1)', async () => {
  const result = await run(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, KUPE_OIDC_ISSUER: 'http://sso.example.com/', KUPE_OIDC_ADMIN_GROUP: 'admins', KUPE_PORT: '0' },
  }).then(() => ({ code: 0, stderr: '' }), (error: { code: number; stderr: string }) => error);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /KUPE_OIDC_ISSUER="http:\/\/sso.example.com\/": must be https/);
  assert.match(result.stderr, /KUPE_OIDC_ADMIN_GROUP="admins": must hold \{tenant\} exactly once/);
});

// Taking tokens once the provider is back (after the cooldown, on the clock) is checked in process:
// test/oidc/bearer-tokens.test.ts, "provider back".
test('serve starts (and is ready) while the provider is down, and says so in the log and /metrics', async (t) => {
  const provider = await startTestProvider({ users: { ada: { email: 'ada@example.com', email_verified: true, groups: ['demo-admins'] } } });
  t.after(() => provider.close());
  provider.setState('refusing');
  const server = await startInstance(t, 'serve', {
    KUPE_DATABASE_URL: await testDatabaseUrl(t), KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_AUDIENCE: provider.audience,
  });
  const unreachable = await logLines(server, (line) => line.includes('identity provider unreachable'));
  assert.match(unreachable[0]!, /keys already held still verify/);

  const token = await provider.issueAccessToken('ada');
  const call = () => fetch(`${server.url}/api/v1/tenants/demo`, { headers: { authorization: `Bearer ${token}` } });
  const down = await call();
  assert.equal(down.status, 503);
  assert.equal(((await down.json()) as { code: string }).code, 'identity_provider_unavailable');
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200, 'the provider is not a readiness dependency');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /^kupe_identity_provider_fetch_failures_total [1-9]/m);
  assert.match(metrics, /^kupe_authentications_total\{outcome="failure",reason="token_provider_unavailable"\} 1$/m);

});
