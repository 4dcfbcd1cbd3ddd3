import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { digestApiKey } from '../../src/domain/key-format.ts';
import type { ApiKeyRecord } from '../../src/domain/store.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { openStore } from '../../src/store/index.ts';
import { lockForServing } from '../../src/store/serve-lock.ts';
import { openTestStore, TEST_CONFIG } from '../helpers.ts';

const now = new Date('2026-11-27T12:00:00Z');

function key(id: string, tenant = 'acme'): ApiKeyRecord {
  return {
    id, tenant, displayName: id, role: 'readonly', digest: digestApiKey(id), createdBy: 'operator',
    createdAt: '2026-11-27T12:00:00Z',
  };
}

test('migrating again changes nothing; SQLite runs in WAL mode', async (t) => {
  const { url } = await openTestStore(t);
  const again = openStore(url, TEST_CONFIG.database);
  assert.deepEqual(await again.migrate(), []);
  await again.store.close();
  if (url.startsWith('sqlite:')) {
    const raw = new Database(url.slice('sqlite:'.length), { readonly: true });
    t.after(() => raw.close());
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  }
});

test('tenants: insert once, update bumps resourceVersion', async (t) => {
  const { store } = await openTestStore(t);
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  await assert.rejects(createTenant(store, { name: 'acme', adminEmail: 'bob@acme.com' }, now), /already exists/);
  await store.tenants.update('acme', { plan: 'pro', enforceLogLimit: false });
  const tenant = await store.tenants.get('acme');
  assert.equal(tenant?.plan, 'pro');
  assert.equal(tenant?.enforceLogLimit, false);
  assert.equal(tenant?.enforceMetricsLimit, true);
  assert.equal(tenant?.resourceVersion, 2);
});

test('api keys: digest round-trips, revoke is a soft delete that happens once', async (t) => {
  const { store } = await openTestStore(t);
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  await createTenant(store, { name: 'globex', adminEmail: 'hank@globex.com' }, now);
  assert.equal(await store.apiKeys.insert(key('ak-00000001')), true);
  assert.equal(await store.apiKeys.insert(key('ak-00000001')), false, 'duplicate id');
  assert.deepEqual((await store.apiKeys.get('ak-00000001'))?.digest, digestApiKey('ak-00000001'));
  assert.equal(await store.apiKeys.revoke('globex', 'ak-00000001', { by: 'x', at: '2026-11-27T13:00:00Z', reason: 'manual' }), false, 'other tenant');
  assert.equal(await store.apiKeys.revoke('acme', 'ak-00000001', { by: 'alice@acme.com', at: '2026-11-27T13:00:00Z', reason: 'manual' }), true);
  assert.equal(await store.apiKeys.revoke('acme', 'ak-00000001', { by: 'alice@acme.com', at: '2026-11-27T13:00:00Z', reason: 'manual' }), false);
  assert.equal((await store.apiKeys.get('ak-00000001'))?.revokedAt, '2026-11-27T13:00:00Z', 'row kept');
  assert.deepEqual(await store.apiKeys.listActive('acme'), []);
});

test('lastUsedAt only moves forward', async (t) => {
  const { store } = await openTestStore(t);
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  await store.apiKeys.insert(key('ak-00000002'));
  await store.apiKeys.recordLastUsed(new Map([['ak-00000002', '2026-11-27T12:05:00Z']]));
  await store.apiKeys.recordLastUsed(new Map([['ak-00000002', '2026-11-27T12:01:00Z']]));
  assert.equal((await store.apiKeys.get('ak-00000002'))?.lastUsedAt, '2026-11-27T12:05:00Z');
});

test('a failed transaction leaves nothing behind', async (t) => {
  const { store } = await openTestStore(t);
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  await assert.rejects(store.transaction(async (tx) => {
    await tx.apiKeys.insert(key('ak-00000003'));
    throw new Error('boom');
  }), /boom/);
  assert.equal(await store.apiKeys.get('ak-00000003'), undefined);
});

test('audit log pages newest first with a before cursor', async (t) => {
  const { store } = await openTestStore(t);
  for (let i = 1; i <= 5; i++) {
    await store.audit.append({ tenant: 'acme', time: now.toISOString(), actor: 'a', action: 'apikey.create', target: `k${i}` });
  }
  await store.audit.append({ tenant: 'other', time: now.toISOString(), actor: 'a', action: 'apikey.create', target: 'x' });
  const first = await store.audit.list('acme', 2);
  assert.deepEqual(first.map((e) => e.target), ['k5', 'k4']);
  const next = await store.audit.list('acme', 10, first[1]!.id);
  assert.deepEqual(next.map((e) => e.target), ['k3', 'k2', 'k1']);
});

test('SQLite: a new database folder is 0700 and its files 0600 (digests and password hashes are in them)', { skip: process.platform === 'win32' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-modes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'data', 'kupe.db');
  const release = lockForServing(`sqlite:${path}`); // serve takes its lock first: it makes the folder
  const opened = openStore(`sqlite:${path}`, TEST_CONFIG.database);
  await opened.migrate();
  await createTenant(opened.store, { name: 'acme', adminEmail: 'alice@acme.com' }, now);
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
  assert.equal(mode(join(dir, 'data')), '700');
  for (const file of ['kupe.db', 'kupe.db-wal', 'kupe.db-shm', 'kupe.db.serve-lock']) assert.equal(mode(join(dir, 'data', file)), '600', file);
  await opened.store.close();
  release();
});

test('the systemd unit keeps its state directory 0700', () => {
  const unit = readFileSync(new URL('../../deploy/kupe.service', import.meta.url), 'utf8');
  assert.match(unit, /^StateDirectory=kupe$/m);
  assert.match(unit, /^StateDirectoryMode=0700$/m);
});
