// The benchmark's server: the real app on a fresh SQLite file (or PostgreSQL schema), plus one
// unauthenticated route whose body has exactly the size of whoami's. Prints {url, key, database} as one JSON
// line, then serves until killed. With BENCH_JOIN={"database", "key"} (another bench server's line), it
// serves that server's PostgreSQL schema instead: another instance, with its own key cache and fence.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createApiKey } from '../src/domain/api-keys.ts';
import { createTenant } from '../src/domain/tenants.ts';
import { buildApp } from '../src/http/app.ts';
import { IssuerKeys } from '../src/oidc/issuer.ts';
import { createLogger } from '../src/logger.ts';
import { openStore } from '../src/store/index.ts';
import { createSchema } from '../test/postgres-schema.ts';
import { systemClock } from '../src/domain/time.ts';
import { appDeps } from '../test/helpers.ts';

let dropSchema = async () => {};

const join_ = process.env.BENCH_JOIN ? JSON.parse(process.env.BENCH_JOIN) as { database: string; key: string } : undefined;
const config = loadConfig({
  ...process.env,
  KUPE_DATABASE_URL: join_?.database ?? await benchDatabaseUrl(process.env.KUPE_DATABASE_URL),
  KUPE_RATE_LIMIT: '0',
});

/** A fresh SQLite file, or on PostgreSQL a fresh schema (dropped when the server stops). */
async function benchDatabaseUrl(given: string | undefined): Promise<string> {
  if (!given?.startsWith('postgres')) return `sqlite:${join(mkdtempSync(join(tmpdir(), 'kupe-bench-')), 'kupe.db')}`;
  const { url, drop } = await createSchema(given, 'bench');
  dropSchema = drop;
  return url;
}
const { store, migrate, startKeyCache } = openStore(config.databaseUrl, config.database);
await migrate();
await startKeyCache(); // PostgreSQL: the key cache answers once this instance holds a lease
const now = new Date();
const { key, keyId } = join_ ? { key: join_.key, keyId: `ak-${join_.key.slice(5, 13)}` } : await (async () => {
  await createTenant(store, { name: 'bench', adminEmail: 'bench@example.com' }, now);
  const created = await createApiKey(store, 'bench', { displayName: 'bench', role: 'readonly' }, { actor: 'operator', now });
  return { key: created.key, keyId: created.record.id };
})();

// With KUPE_OIDC_ISSUER (bench/token.ts): the provider's keys are fetched once, before serving.
const issuerKeys = config.oidc && new IssuerKeys({ issuer: config.oidc.issuer, refreshSeconds: config.oidc.jwksRefreshSeconds, clock: systemClock });
await issuerKeys?.refresh();
if (issuerKeys?.lastFailure) throw new Error(issuerKeys.lastFailure);
// The parts src/server.ts makes, made the same way (test/helpers.ts), with the configuration read above.
const deps = await appDeps({ config, store, logger: createLogger(config.logLevel), issuerKeys });
const { lastUsed } = deps;
const { app } = await buildApp(deps);
const whoamiBody = JSON.stringify({ kind: 'apikey', tenant: 'bench', role: 'readonly', keyId, displayName: 'bench' });
const filler = 'x'.repeat(whoamiBody.length - JSON.stringify({ status: 'ok', pad: '' }).length);
app.get('/bench/public', { config: { access: 'public' } }, async () => ({ status: 'ok', pad: filler }));
setInterval(() => void lastUsed.flush(), config.lastUsedFlushSeconds * 1000).unref();

const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ url, key, database: config.databaseUrl }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => store.close()).then(dropSchema).then(() => process.exit(0)));
}
