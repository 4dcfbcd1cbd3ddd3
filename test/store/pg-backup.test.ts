import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openTestStore, TEST_POSTGRES_URL } from '../helpers.ts';
import { request, startInstance } from '../processes.ts';

const run = promisify(execFile);
const skip = TEST_POSTGRES_URL ? false : 'PostgreSQL only (SQLite: kupe-server backup, test/cli/kupe-server.test.ts)';

/**
 * docs/backup.md's PostgreSQL procedure, as written there: pg_dump in its custom format while Kupe runs,
 * pg_restore into a new database, a server started on it: the keys verify and the revocation holds.
 */
test('PostgreSQL: pg_dump, pg_restore into a new database, serve it: keys verify, revocations hold', { skip }, async (t) => {
  const { store, url } = await openTestStore(t);
  const now = new Date();
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  const ctx = { actor: 'operator', now };
  const kept = await createApiKey(store, 'acme', { displayName: 'kept', role: 'admin' }, ctx);
  const gone = await createApiKey(store, 'acme', { displayName: 'gone', role: 'readonly' }, ctx);
  await revokeApiKey(store, 'acme', gone.record.id, ctx);

  const schema = new URL(url).searchParams.get('options')!.replace('-c search_path=', '');
  const dir = mkdtempSync(join(tmpdir(), 'kupe-pgdump-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dump = join(dir, 'kupe.dump');
  const base = new URL(TEST_POSTGRES_URL!);
  await run('pg_dump', ['--format=custom', `--schema=${schema}`, `--file=${dump}`, `--dbname=${base.toString()}`]);

  const restoredDb = `kupe_restore_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${restoredDb}`);
  t.after(async () => {
    await admin.query(`drop database if exists ${restoredDb} with (force)`);
    await admin.end();
  });
  const target = new URL(TEST_POSTGRES_URL!);
  target.pathname = `/${restoredDb}`;
  await run('pg_restore', ['--no-owner', `--dbname=${target.toString()}`, dump]);

  target.searchParams.set('options', `-c search_path=${schema}`);
  const server = await startInstance(t, 'restored', { KUPE_DATABASE_URL: target.toString(), KUPE_RATE_LIMIT: '0' });
  assert.equal((await request(server.url, 'GET', '/api/v1/whoami', { key: kept.key })).status, 200, 'a key verifies');
  assert.equal((await request(server.url, 'GET', '/api/v1/whoami', { key: gone.key })).status, 401, 'a revocation holds');
  const keys = await request(server.url, 'GET', '/api/v1/tenants/acme/apikeys?state=all', { key: kept.key });
  assert.deepEqual(keys.body.items.map((k: { displayName: string }) => k.displayName).sort(), ['gone', 'kept']);
  server.child.kill('SIGKILL');
  await server.exited;
});
