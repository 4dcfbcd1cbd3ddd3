import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import SQLite from 'better-sqlite3';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openStore } from '../../src/store/index.ts';
import { TEST_CONFIG, TEST_POSTGRES_URL } from '../helpers.ts';
import { type Answer, type Instance, logLines, request, startInstance } from '../processes.ts';

const skip = TEST_POSTGRES_URL ? 'SQLite faults run in the SQLite pass (npm test without KUPE_TEST_DATABASE_URL)' : false;
const LOCK_WAIT_MS = 2000;

/** One kupe-server process on a SQLite file in `dir`, with tenant acme and an admin key. */
async function startOnSqlite(t: TestContext, dir: string): Promise<{ instance: Instance; adminKey: string; file: string }> {
  const file = join(dir, 'kupe.db');
  const instance = await startInstance(t, 'sqlite', {
    KUPE_DATABASE_URL: `sqlite:${file}`, KUPE_RATE_LIMIT: '0', KUPE_DB_STATEMENT_TIMEOUT_MS: String(LOCK_WAIT_MS),
  });
  const { store } = openStore(`sqlite:${file}`, TEST_CONFIG.database);
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, new Date());
  const admin = await createApiKey(store, 'acme', { displayName: 'admin', role: 'admin' }, { actor: 'operator', now: new Date() });
  await store.close();
  return { instance, adminKey: admin.key, file };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-faults-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const createKey = (base: string, adminKey: string, name: string) =>
  request(base, 'POST', '/api/v1/tenants/acme/apikeys', { key: adminKey, body: { displayName: name, role: 'readonly' } });

const faultLines = (instance: Instance, kind: string) => logLines(instance, (line) => line.includes(`"database fault: ${kind}`));

/** Holds SQLite's write lock from another process (as the operator CLI or a backup tool would) for `ms`. */
function holdExclusiveLock(file: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, ['-e', `
    const db = require('better-sqlite3')(process.argv[1]);
    db.exec('begin exclusive');
    console.log('locked');
    setTimeout(() => { db.exec('commit'); db.close(); }, Number(process.argv[2]));
  `, file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
}

test('another process holds the SQLite write lock: health stays fast, writes answer 201 or 503, never hang', { skip }, async (t) => {
  const { instance, adminKey, file } = await startOnSqlite(t, tempDir(t));
  const base = instance.url;
  const lockMs = 5000;
  const started = performance.now();
  await holdExclusiveLock(file, lockMs);

  const health: number[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const at = performance.now();
      const res = await fetch(`${base}/healthz`);
      assert.equal(res.status, 200);
      health.push(performance.now() - at);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const ready = await request(base, 'GET', '/readyz');
  const creates: (Answer & { ms: number })[] = [];
  // Two writers at a time while the lock is held, then until 20 creates have succeeded after it went
  // (bounded by count as well as time: a fast machine would otherwise reach the tenant's key cap).
  const createdAfterLock = () => creates.filter((c) => c.status === 201 && c.startedAt - started > lockMs).length;
  await Promise.all([0, 1].map(async (lane) => {
    while (performance.now() - started < lockMs + 1500 && createdAfterLock() < 20) {
      const answer = await createKey(base, adminKey, `key-${lane}-${creates.length}`);
      creates.push({ ...answer, ms: performance.now() - answer.startedAt });
    }
  }));
  probing = false;
  await probe;

  assert.equal(ready.status, 503, 'readyz says the store cannot take writes while the lock is held');
  assert.equal(ready.body.code, 'store_unavailable');
  const statuses = new Set(creates.map((c) => c.status));
  assert.deepEqual([...statuses].filter((s) => s !== 201 && s !== 503), [], 'creates answer 201 or 503 only');
  const refused = creates.filter((c) => c.status === 503);
  assert.ok(refused.length > 0, 'creates during the lock gave up');
  assert.equal(refused[0]!.body.code, 'store_unavailable');
  assert.match(refused[0]!.body.error, /locked/);
  assert.ok(creates.at(-1)!.status === 201, 'creates succeed once the lock is gone');
  // Bounded: a create waits at most the lock wait (plus scheduling), never the length of the lock.
  assert.ok(Math.max(...creates.map((c) => c.ms)) < LOCK_WAIT_MS + 1500, `slowest create ${Math.round(Math.max(...creates.map((c) => c.ms)))} ms`);
  // The event loop was never blocked: health checks kept answering (the old synchronous wait held them for seconds).
  assert.ok(health.length > 50, `${health.length} health checks answered`);
  assert.ok(Math.max(...health) < 500, `slowest /healthz ${Math.round(Math.max(...health))} ms`);
  for (const created of creates.filter((c) => c.status === 201)) {
    assert.equal((await request(base, 'GET', '/api/v1/whoami', { key: created.body.key })).status, 200);
  }
  assert.equal((await request(base, 'GET', '/readyz')).status, 200, 'ready again once the lock is gone');
  assert.equal((await faultLines(instance, 'locked')).length, 1, 'one log line for the incident');
});

const canMount = process.getuid?.() === 0 ? false : 'mounting a small tmpfs needs root (CI runs as root)';

/** A tmpfs of `size` at a fresh folder, unmounted after the test. */
function smallDisk(t: TestContext, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', ['-l', dir]); // lazy: the server may not have exited yet
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes a file until the disk is full; returns its path. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return filler;
}

test('a full disk: writes answer 503 naming it, the log says so once, every acknowledged key survives, no restart', { skip: skip || canMount }, async (t) => {
  const dir = smallDisk(t, '4m');
  const { instance, adminKey, file } = await startOnSqlite(t, dir);
  const base = instance.url;
  const filler = fillDisk(dir);

  const acknowledged: string[] = [];
  let full: Answer | undefined;
  for (let i = 0; i < 2000 && !full; i++) {
    const answer = await createKey(base, adminKey, `key-${i}`);
    if (answer.status === 201) acknowledged.push(answer.body.key);
    else full = answer;
  }
  assert.ok(full, 'the disk filled up');
  assert.deepEqual([full.status, full.body.code], [503, 'store_unavailable']);
  assert.match(full.body.error, /disk is full/);
  for (let i = 0; i < 3; i++) assert.equal((await createKey(base, adminKey, 'more')).status, 503);
  assert.equal((await request(base, 'GET', '/readyz')).status, 503, 'not ready while writes fail');
  assert.equal((await request(base, 'GET', '/api/v1/whoami', { key: adminKey })).status, 200, 'reads still work');

  const lines = await faultLines(instance, 'disk_full');
  assert.equal(lines.length, 1, 'logged once for the incident');
  assert.match(lines[0]!, /SQLITE_FULL/);
  assert.ok(!instance.log.some((line) => line.includes('cannot rollback')), 'the real cause is not hidden');
  assert.match((await fetch(`${base}/metrics`).then((r) => r.text())), /kupe_store_errors_total\{kind="disk_full"\} 4/);

  rmSync(filler);
  const after = await createKey(base, adminKey, 'after');
  assert.equal(after.status, 201, 'recovers once space is free, without a restart');
  acknowledged.push(after.body.key);
  for (const key of acknowledged) {
    assert.equal((await request(base, 'GET', '/api/v1/whoami', { key })).status, 200);
  }
  instance.child.kill('SIGKILL');
  await instance.exited;
  const sqlite = new SQLite(file, { readonly: true });
  t.after(() => sqlite.close());
  const stored = sqlite.prepare('select count(*) as n from api_keys where revoked_at is null').get() as { n: number };
  assert.equal(stored.n, acknowledged.length + 1, 'every acknowledged key (and the admin key) is on disk after kill -9');
});

test('a damaged database file: requests answer 503 (not 500), readyz says so', { skip }, async (t) => {
  const { instance, adminKey, file } = await startOnSqlite(t, tempDir(t));
  const base = instance.url;
  assert.equal((await request(base, 'GET', '/api/v1/whoami', { key: adminKey })).status, 200);
  // Overwrite the api_keys table's root page on disk, then commit elsewhere so that the server's page cache
  // (which would otherwise go on serving the healthy copy) is dropped.
  const sqlite = new SQLite(file);
  t.after(() => sqlite.close());
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const { rootpage } = sqlite.prepare("select rootpage from sqlite_master where name = 'api_keys'").get() as { rootpage: number };
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
  closeSync(fd);
  sqlite.exec("update tenants set display_name = 'touched' where name = 'acme'");

  // A route that reads the damaged table (whoami may be answered from the key cache without reading it).
  const answer = await request(base, 'GET', '/api/v1/tenants/acme/apikeys', { key: adminKey });
  assert.deepEqual([answer.status, answer.body.code], [503, 'store_unavailable']);
  assert.match(answer.body.error, /damaged/);
  const ready = await request(base, 'GET', '/readyz');
  assert.deepEqual([ready.status, ready.body.code], [503, 'store_unavailable']);
  assert.equal((await faultLines(instance, 'corrupt')).length, 1);
  assert.equal(instance.child.exitCode, null, 'the process is still up');
});
