import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyBaseLogger, LightMyRequestResponse } from 'fastify';
import { createApiKey } from '../src/domain/api-keys.ts';
import type { Store } from '../src/domain/store.ts';
import { createTenant } from '../src/domain/tenants.ts';
import pino from 'pino';
import { type Config, loadConfig } from '../src/config.ts';
import type { LastUsedTracker } from '../src/domain/last-used.ts';
import { type Clock, systemClock } from '../src/domain/time.ts';
import { type AppConfig, type AppDeps, buildApp, type KupeApp } from '../src/http/app.ts';
import { Metrics } from '../src/http/metrics.ts';
import { StoreFaults } from '../src/http/store-faults.ts';
import { buildServices } from '../src/services.ts';
import type { WebhookWorker } from '../src/webhook-worker.ts';
import type { Limits } from '../src/limits/index.ts';
import { memoryLimits } from '../src/limits/memory.ts';
import type { IssuerKeys } from '../src/oidc/issuer.ts';
import { limitSettings } from '../src/limits/policy.ts';
import { openStore } from '../src/store/index.ts';
import type { MailWorker } from '../src/mail-worker.ts';
import { createSchema } from './postgres-schema.ts';

/** The settings a test runs with: the app's, the identity provider's and the store's. */
export type TestConfig = AppConfig & Pick<Config, 'oidc' | 'database' | 'gatewayPolicyFile' | 'plansFile' | 'leaks' | 'webhookTimeoutSeconds' | 'mail'>;

/**
 * The defaults (src/config.ts) with no per-IP limit, the backoff far away and no per-address connection cap:
 * the tests that check those set them.
 */
export const TEST_CONFIG: Readonly<TestConfig> = Object.freeze({
  ...loadConfig({}), rateLimit: 0, authBackoffAfter: 1000, maxConnectionsPerAddress: 0, sessionIdleMinutes: 60, sessionMaxHours: 24,
});

/**
 * The database the suite runs on: SQLite files by default; PostgreSQL when
 * KUPE_TEST_DATABASE_URL names one (`npm run test:postgres`).
 */
export const TEST_POSTGRES_URL = process.env.KUPE_TEST_DATABASE_URL?.startsWith('postgres') ? process.env.KUPE_TEST_DATABASE_URL : undefined;

/**
 * A database URL of the test's own, dropped after it: a temporary SQLite file,
 * or on PostgreSQL a fresh schema (test files run in parallel) selected
 * through the connection's search_path.
 */
export async function testDatabaseUrl(t: TestContext): Promise<string> {
  if (!TEST_POSTGRES_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'kupe-test-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    return `sqlite:${join(dir, 'kupe.db')}`;
  }
  const { url, drop } = await createSchema(TEST_POSTGRES_URL, 'test');
  t.after(drop);
  return url;
}

/** A fresh, migrated store of the test's own, closed and removed after the test. */
export async function openTestStore(t: TestContext): Promise<{ store: Store; url: string }> {
  const url = await testDatabaseUrl(t);
  const opened = openStore(url, TEST_CONFIG.database);
  const store = opened.store;
  await opened.migrate();
  t.after(() => store.close());
  return { store, url };
}

/**
 * Waits for something a server, a process or a socket will do (no fixed sleep): checks every 50 ms, and fails naming what never
 * happened after `timeoutMs`.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A settable clock, so tests can move time forward. */
export function testClock(start = new Date('2026-11-27T12:00:00Z')) {
  let now = start.getTime();
  const clock = () => new Date(now);
  clock.advance = (ms: number) => { now += ms; };
  return clock;
}

export interface Seed {
  /** Raw keys of tenant acme (admin, readonly) and of tenant globex (admin). */
  adminKey: string;
  adminKeyId: string;
  readonlyKey: string;
  readonlyKeyId: string;
  otherTenantKey: string;
}

/** Two tenants: acme (admin alice, keys admin + readonly) and globex (admin hank, one admin key). */
export async function seed(store: Store, now: Date): Promise<Seed> {
  const ctx = { actor: 'operator', now };
  await createTenant(store, { name: 'acme', adminEmail: 'alice@acme.com', displayName: 'Acme Corp' }, now);
  await createTenant(store, { name: 'globex', adminEmail: 'hank@globex.com' }, now);
  const admin = await createApiKey(store, 'acme', { displayName: 'admin key', role: 'admin' }, ctx);
  const readonly = await createApiKey(store, 'acme', { displayName: 'readonly key', role: 'readonly' }, ctx);
  const other = await createApiKey(store, 'globex', { displayName: 'globex admin', role: 'admin' }, ctx);
  return {
    adminKey: admin.key, adminKeyId: admin.record.id,
    readonlyKey: readonly.key, readonlyKeyId: readonly.record.id,
    otherTenantKey: other.key,
  };
}

export interface TestApp extends KupeApp, Seed {
  store: Store;
  lastUsed: LastUsedTracker;
  metrics: Metrics;
  /** The test's database, for a second connection of its own (another process would open the same). */
  databaseUrl: string;
  clock: ReturnType<typeof testClock>;
  /** Not started: a test that wants deliveries starts it. */
  webhookWorker: WebhookWorker;
  /** With config.mail; not started either. */
  mailWorker: MailWorker | null;
  call(method: string, url: string, options?: CallOptions): Promise<LightMyRequestResponse>;
}

export interface CallOptions {
  key?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  remoteAddress?: string;
}

/** In-memory limits with the config's settings (what a single instance without Redis runs with). */
export function testLimits(config: Pick<TestConfig, 'rateLimit' | 'authBackoffAfter' | 'authBackoffMaxSeconds'> = TEST_CONFIG): Limits {
  return memoryLimits(limitSettings(config));
}

export interface AppParts {
  store: Store;
  config?: Partial<TestConfig> | undefined;
  clock?: Clock | undefined;
  /** Default: a silent one. */
  logger?: FastifyBaseLogger | undefined;
  /** Default: in memory, with the config's settings. */
  limits?: Limits | undefined;
  /** Needed with config.oidc. */
  issuerKeys?: IssuerKeys | undefined;
  consoleDir?: string | undefined;
}

/**
 * What src/server.ts gives buildApp, made the same way (the metrics, the fault reporter and src/services.ts),
 * for tests, the benchmark and the scripts that build an app in process.
 */
export async function appDeps(parts: AppParts): Promise<AppDeps & { config: TestConfig }> {
  const config = { ...TEST_CONFIG, ...parts.config };
  const clock = parts.clock ?? systemClock;
  const logger = parts.logger ?? pino({ level: 'silent' });
  const metrics = new Metrics();
  const faults = new StoreFaults(logger, metrics, clock);
  const services = await buildServices({ config, store: parts.store, logger, clock, metrics, faults, issuerKeys: parts.issuerKeys ?? null });
  return { ...services, config, store: parts.store, limits: parts.limits ?? testLimits(config), consoleDir: parts.consoleDir ?? null, tls: null };
}

/** The app on a fresh seeded SQLite store, closed after the test. */
export async function buildTestApp(
  t: TestContext,
  options: {
    config?: Partial<TestConfig>; logger?: FastifyBaseLogger; clock?: ReturnType<typeof testClock>; limits?: Limits;
    issuerKeys?: IssuerKeys;
  } = {},
): Promise<TestApp> {
  const { store, url: databaseUrl } = await openTestStore(t);
  const clock = options.clock ?? testClock(new Date());
  const seeded = await seed(store, clock());
  const deps = await appDeps({ ...options, store, clock });
  const kupe = await buildApp(deps);
  t.after(() => kupe.app.close());
  const call: TestApp['call'] = (method, url, opts = {}) => kupe.app.inject({
    method: method as 'GET',
    url,
    remoteAddress: opts.remoteAddress ?? '127.0.0.1',
    headers: {
      ...(opts.key !== undefined && { authorization: `Bearer ${opts.key}` }),
      ...(opts.body !== undefined && { 'content-type': 'application/json' }),
      ...opts.headers,
    },
    ...(opts.body !== undefined && { payload: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
  });
  t.after(() => deps.webhookWorker.stop());
  t.after(() => deps.mailWorker?.stop());
  return {
    ...kupe, ...seeded, store, databaseUrl, clock, lastUsed: deps.lastUsed, metrics: deps.metrics,
    webhookWorker: deps.webhookWorker, mailWorker: deps.mailWorker, call,
  };
}

/** Every row of every table: to prove that a refused request changed nothing. */
export async function snapshot(store: Store) {
  const tenants = await store.tenants.list();
  const members = await Promise.all(tenants.map((t) => store.members.list(t.name)));
  const keys = await Promise.all(tenants.map((t) => store.apiKeys.listActive(t.name)));
  const audit = await Promise.all(tenants.map((t) => store.audit.list(t.name, 200)));
  return JSON.stringify({ tenants, members, keys, audit });
}

/** The token of an invite link from an add-member answer. */
export const inviteToken = (url: string) => url.split('/').at(-1)!;

/**
 * Adds a member through the API and accepts the invite as a newcomer would
 * (choosing a password), so that the membership is in effect.
 */
export async function addAcceptedMember(app: TestApp, email: string, role: 'admin' | 'readonly', password = 'correct horse battery staple') {
  const added = await app.call('POST', '/api/v1/tenants/acme/members', { key: app.adminKey, body: { email, role } });
  if (added.statusCode !== 201) throw new Error(`add ${email}: ${added.body}`);
  const accepted = await app.call('POST', `/api/v1/invites/${inviteToken(added.json().invite.url)}/accept`, { body: { password } });
  if (accepted.statusCode !== 200) throw new Error(`accept ${email}: ${accepted.body}`);
  return { cookie: String(accepted.headers['set-cookie']).split(';')[0]!, csrf: accepted.json().csrfToken as string };
}
