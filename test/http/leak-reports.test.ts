import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { generateRawApiKey } from '../../src/domain/key-format.ts';
import { GITLAB_TOKEN_TYPE, MAX_REPORT_BYTES, REPORT_ANSWER_FLOOR_MS } from '../../src/http/routes/leak-reports.ts';
import { buildTestApp, snapshot, type TestConfig } from '../helpers.ts';
import { githubReport, startKeyDocument } from '../leaks/scanner.ts';

const GITHUB = '/api/v1/secret-scanning/github';
const GITLAB_TYPES = '/api/v1/secret-scanning/gitlab/v1/revocable_token_types';
const GITLAB_REVOKE = '/api/v1/secret-scanning/gitlab/v1/revoke_tokens';
const GITLAB_TOKEN = 'gitlab-revocation-token-0123456789abcdef';
const LEAK_URL = 'https://github.com/octo/app/blob/1a2b3c/deploy.sh';

async function setUp(t: TestContext, config: Partial<TestConfig> = {}) {
  const keys = await startKeyDocument();
  t.after(() => keys.close());
  const keyId = keys.addKey();
  const app = await buildTestApp(t, { config: { leaks: { githubKeysUrl: keys.url, gitlabToken: GITLAB_TOKEN }, ...config } });
  const report = (body: string, headers = keys.sign(body, keyId), remoteAddress?: string) =>
    app.call('POST', GITHUB, { body, headers, ...(remoteAddress !== undefined && { remoteAddress }) });
  return { app, keys, keyId, report };
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

test('a signed report revokes a genuine key at once, as leaked, keeping the reporter and where it was found', async (t) => {
  const { app, report } = await setUp(t);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey })).statusCode, 200, 'the key works (and is cached)');

  const res = await report(githubReport([app.readonlyKey]));
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), [{ token_hash: hash(app.readonlyKey), token_type: 'kupe_api_key', label: 'true_positive' }]);

  const refused = await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey });
  assert.equal(refused.statusCode, 401);
  assert.equal(refused.json().code, 'api_key_revoked');
  const revoked = (await app.call('GET', '/api/v1/tenants/acme/apikeys?state=revoked', { key: app.adminKey })).json().items;
  assert.equal(revoked.length, 1);
  assert.equal(revoked[0].id, app.readonlyKeyId);
  assert.equal(revoked[0].revokeReason, 'leaked');
  assert.equal(revoked[0].revokedBy, 'github-secret-scanning');
  assert.equal(revoked[0].leakSource, LEAK_URL);
  assert.equal(revoked[0].leakAcknowledgedAt, undefined);
  const audit = (await app.call('GET', '/api/v1/tenants/acme/auditlog?action=apikey.leaked', { key: app.adminKey })).json().items;
  assert.equal(audit.length, 1);
  assert.equal(audit[0].actor, 'github-secret-scanning');
  assert.equal(audit[0].target, `${app.readonlyKeyId} found at ${LEAK_URL}`);
  assert.equal((await app.call('GET', '/api/v1/tenants/acme/auditlog?action=apikey.revoke', { key: app.adminKey })).json().items.length, 0,
    'one entry for a leak, not two');
});

test('a report of revoked, unknown or foreign tokens changes nothing; each finding gets its label, in order', async (t) => {
  const { app, report } = await setUp(t);
  await report(githubReport([app.readonlyKey]));
  const before = await snapshot(app.store);
  const wrongSecret = generateRawApiKey(app.adminKeyId); // the id of a real key, another secret
  const badChecksum = app.adminKey.slice(0, -1) + (app.adminKey.endsWith('x') ? 'y' : 'x');
  const tokens = [app.readonlyKey, generateRawApiKey('ak-99999999'), wrongSecret, 'ghp_notakupekey', badChecksum];
  const res = await report(githubReport(tokens));
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json().map((f: { label: string }) => f.label),
    ['true_positive', 'false_positive', 'false_positive', 'false_positive', 'false_positive']);
  assert.deepEqual(res.json().map((f: { token_hash: string }) => f.token_hash), tokens.map(hash));
  assert.deepEqual(await snapshot(app.store), before, 'nothing written');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.adminKey })).statusCode, 200, 'the key whose id was named still works');
});

test('a replayed report answers the same and changes nothing', async (t) => {
  const { app, keys, keyId } = await setUp(t);
  const body = githubReport([app.readonlyKey, app.otherTenantKey]);
  const headers = keys.sign(body, keyId);
  const first = await app.call('POST', GITHUB, { body, headers });
  assert.equal(first.statusCode, 200);
  const after = await snapshot(app.store);
  const replay = await app.call('POST', GITHUB, { body, headers });
  assert.equal(replay.statusCode, 200);
  assert.deepEqual(replay.json(), first.json(), 'the same labels');
  assert.deepEqual(await snapshot(app.store), after, 'no write, no second audit entry');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.otherTenantKey })).json().code, 'api_key_revoked', 'tenants alike');
});

test('unsigned, badly signed, tampered and oversized reports are refused and change nothing', async (t) => {
  const { app, keys, keyId, report } = await setUp(t);
  const before = await snapshot(app.store);
  const body = githubReport([app.readonlyKey]);
  const signed = keys.sign(body, keyId);
  const stranger = keys.addKey(false); // a key GitHub does not publish
  const cases: [string, Promise<Awaited<ReturnType<typeof report>>>][] = [
    ['no signature', app.call('POST', GITHUB, { body, headers: { 'content-type': 'application/json' } })],
    ['no key identifier', report(body, { ...signed, 'github-public-key-identifier': '' })],
    ['tampered body', report(githubReport([app.adminKey]), signed)],
    ['signature of another body', report(body, keys.sign(`${body} `, keyId))],
    ['not base64 DER', report(body, { ...signed, 'github-public-key-signature': 'bm90IGEgc2lnbmF0dXJl' })],
    ['a key GitHub does not publish', report(body, keys.sign(body, stranger))],
  ];
  for (const [name, pending] of cases) {
    const res = await pending;
    assert.equal(res.statusCode, 401, name);
    assert.equal(res.json().code, 'scanner_signature_invalid', name);
  }
  const huge = githubReport([app.readonlyKey, 'x'.repeat(MAX_REPORT_BYTES)]);
  const tooLarge = await report(huge);
  assert.equal(tooLarge.statusCode, 413);
  assert.equal(tooLarge.json().code, 'body_too_large');
  const notJson = await report('[{"token": ');
  assert.equal(notJson.statusCode, 400, 'signed but not JSON');
  assert.equal(notJson.json().code, 'invalid_json');
  const notFindings = await report(JSON.stringify({ token: app.readonlyKey }));
  assert.equal(notFindings.statusCode, 400);
  assert.equal(notFindings.json().code, 'validation_failed');
  assert.deepEqual(await snapshot(app.store), before);
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey })).statusCode, 200);
});

test('a key identifier not held is fetched again, at most once per cooldown; a key published since then verifies', async (t) => {
  const { app, keys, report } = await setUp(t);
  const later = keys.addKey(false);
  const body = githubReport([app.readonlyKey]);
  const early = await report(body, keys.sign(body, later));
  assert.equal(early.statusCode, 401, 'not published yet');
  const fetches = keys.fetches;
  keys.publish(later);
  assert.equal((await report(body, keys.sign(body, later))).statusCode, 401, 'within the cooldown: not fetched again');
  assert.equal(keys.fetches, fetches, 'no fetch within the cooldown');
  app.clock.advance(10_001);
  const res = await report(body, keys.sign(body, later));
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json()[0].label, 'true_positive');
  assert.equal(keys.fetches, fetches + 1);
});

test("GitHub's key document unreachable: 503 with Retry-After, nothing changed; the keys held keep working when it fails later", async (t) => {
  const { app, keys, keyId, report } = await setUp(t);
  keys.failing = true;
  const body = githubReport([app.readonlyKey]);
  const res = await report(body, keys.sign(body, keyId));
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().code, 'scanner_keys_unavailable');
  assert.equal(res.headers['retry-after'], '10');
  keys.failing = false;
  app.clock.advance(10_001);
  assert.equal((await report(githubReport([app.adminKey]))).statusCode, 200, 'fetched once it answers');
  keys.failing = true;
  app.clock.advance(3_600_001); // the keys held are old: fetched again first, which fails
  assert.equal((await report(body, keys.sign(body, keyId))).statusCode, 200, 'the keys held still verify');
  assert.equal((await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey })).statusCode, 401);
});

test('bad signatures from one address back off like wrong keys, while good reports from elsewhere go on', async (t) => {
  const { app, keys, keyId, report } = await setUp(t, { authBackoffAfter: 3 });
  const body = githubReport([app.readonlyKey]);
  const forged = { ...keys.sign(body, keyId), 'github-public-key-signature': keys.sign('other', keyId)['github-public-key-signature']! };
  const codes: string[] = [];
  for (let i = 0; i < 6; i++) codes.push((await report(body, forged, '198.51.100.7')).json().code);
  assert.deepEqual(codes.slice(0, 3), ['scanner_signature_invalid', 'scanner_signature_invalid', 'scanner_signature_invalid']);
  assert.ok(codes.slice(3).every((code) => code === 'auth_backoff'), codes.join());
  const before = await snapshot(app.store);
  const blocked = await report(body, keys.sign(body, keyId), '198.51.100.7');
  assert.equal(blocked.json().code, 'auth_backoff', 'in backoff, refused before the body is read, even when signed');
  assert.ok(Number(blocked.headers['retry-after']) >= 1, 'with Retry-After');
  assert.deepEqual(await snapshot(app.store), before);
  const good = await report(body, keys.sign(body, keyId), '203.0.113.9');
  assert.equal(good.statusCode, 200);
});

test('every answer to an accepted report waits the same floor, whatever it found', async (t) => {
  const { app, report } = await setUp(t);
  for (const tokens of [[app.readonlyKey], [app.readonlyKey], ['ghp_notours']]) {
    const started = performance.now();
    assert.equal((await report(githubReport(tokens))).statusCode, 200);
    assert.ok(performance.now() - started >= REPORT_ANSWER_FLOOR_MS - 1, 'revoked now, already revoked and not ours alike');
  }
});

test('reports are off: GitHub with KUPE_GITHUB_SCANNING_KEYS_URL=off, GitLab without its token (404 leak_reports_off)', async (t) => {
  const app = await buildTestApp(t, { config: { leaks: { githubKeysUrl: undefined, gitlabToken: undefined } } });
  for (const [method, url] of [['POST', GITHUB], ['GET', GITLAB_TYPES], ['POST', GITLAB_REVOKE]] as const) {
    const res = await app.call(method, url, { body: method === 'POST' ? '[]' : undefined, headers: { authorization: GITLAB_TOKEN } });
    assert.equal(res.statusCode, 404, url);
    assert.equal(res.json().code, 'leak_reports_off', url);
  }
});

test("GitLab's Token Revocation API: the types and the revocation with the operator's token; without it, 401 and nothing changed", async (t) => {
  const { app } = await setUp(t);
  const types = await app.call('GET', GITLAB_TYPES, { headers: { authorization: GITLAB_TOKEN } });
  assert.equal(types.statusCode, 200);
  assert.deepEqual(types.json(), { types: [GITLAB_TOKEN_TYPE] });

  const before = await snapshot(app.store);
  const body = [{ type: GITLAB_TOKEN_TYPE, token: app.readonlyKey, location: 'https://gitlab.example.com/g/p/-/blob/abc/ci.yml' }];
  for (const authorization of [undefined, `Bearer ${GITLAB_TOKEN}`, 'wrong-token', `${GITLAB_TOKEN}x`]) {
    for (const url of [GITLAB_TYPES, GITLAB_REVOKE]) {
      const res = await app.call(url === GITLAB_TYPES ? 'GET' : 'POST', url, {
        body: url === GITLAB_TYPES ? undefined : body, headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(res.statusCode, 401, `${url} with ${authorization}`);
      assert.equal(res.json().code, 'scanner_token_invalid');
    }
  }
  assert.deepEqual(await snapshot(app.store), before);

  const res = await app.call('POST', GITLAB_REVOKE, { body: [...body, { type: 'other', token: 'glpat-xyz' }], headers: { authorization: GITLAB_TOKEN } });
  assert.equal(res.statusCode, 204, res.body);
  const refused = await app.call('GET', '/api/v1/whoami', { key: app.readonlyKey });
  assert.equal(refused.json().code, 'api_key_revoked');
  const [key] = (await app.call('GET', '/api/v1/tenants/acme/apikeys?state=revoked', { key: app.adminKey })).json().items;
  assert.equal(key.revokedBy, 'gitlab-secret-detection');
  assert.equal(key.leakSource, 'https://gitlab.example.com/g/p/-/blob/abc/ci.yml');
  const again = await app.call('POST', GITLAB_REVOKE, { body, headers: { authorization: GITLAB_TOKEN } });
  assert.equal(again.statusCode, 204, 'idempotent, as GitLab asks');
});

test('an admin acknowledges a leak once (audited); readonly cannot; a key not revoked as leaked is 409, another tenant\'s 404', async (t) => {
  const { app, report } = await setUp(t);
  const other = (await app.call('POST', '/api/v1/tenants/acme/apikeys', { key: app.adminKey, body: { displayName: 'ci', role: 'readonly' } })).json();
  await report(githubReport([other.key]));
  const ack = `/api/v1/tenants/acme/apikeys/${other.id}/leak-acknowledgement`;
  assert.equal((await app.call('POST', ack, { key: app.readonlyKey })).json().code, 'admin_required');
  assert.equal((await app.call('POST', ack, { key: app.adminKey })).statusCode, 204);
  const [key] = (await app.call('GET', '/api/v1/tenants/acme/apikeys?state=revoked', { key: app.adminKey })).json().items;
  assert.equal(key.leakAcknowledgedBy, app.adminKeyId);
  assert.match(key.leakAcknowledgedAt, /^\d{4}-/);
  assert.equal((await app.call('POST', ack, { key: app.adminKey })).statusCode, 204, 'again: no change');
  const audit = (await app.call('GET', '/api/v1/tenants/acme/auditlog?action=apikey.leak_acknowledged', { key: app.adminKey })).json().items;
  assert.equal(audit.length, 1);
  const notLeaked = await app.call('POST', `/api/v1/tenants/acme/apikeys/${app.readonlyKeyId}/leak-acknowledgement`, { key: app.adminKey });
  assert.equal(notLeaked.statusCode, 409);
  assert.equal(notLeaked.json().code, 'api_key_not_leaked');
  assert.equal((await app.call('POST', `/api/v1/tenants/globex/apikeys/${other.id}/leak-acknowledgement`, { key: app.otherTenantKey })).statusCode, 404,
    'another tenant cannot see it');
});
