import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Store } from '../domain/store.ts';
import { apiKeyRepository } from './api-keys.ts';
import { auditRepository } from './audit.ts';
import { openDatabase } from './db.ts';
import { memberRepository } from './members.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database, Dialect } from './schema.ts';
import { tenantRepository } from './tenants.ts';

function storeOn(db: Kysely<Database>, dialect: Dialect, inTransaction: boolean, root: Kysely<Database>): Store {
  const store: Store = {
    tenants: tenantRepository(db, dialect),
    members: memberRepository(db),
    apiKeys: apiKeyRepository(db),
    audit: auditRepository(db),
    transaction: (fn) =>
      inTransaction ? fn(store) : db.transaction().execute((trx) => fn(storeOn(trx, dialect, true, root))),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => root.destroy(),
  };
  return store;
}

export interface OpenedStore {
  store: Store;
  /** Applies pending migrations; returns their names. */
  migrate: () => Promise<string[]>;
}

/** Opens the store that the database URL names. Migrations are a separate, explicit step. */
export function openStore(databaseUrl: string): OpenedStore {
  const { db, dialect } = openDatabase(databaseUrl);
  return { store: storeOn(db, dialect, false, db), migrate: () => migrateToLatest(db, dialect) };
}
