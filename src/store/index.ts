import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Store } from '../domain/store.ts';
import { inviteRepository, providerIdentityRepository, sessionRepository, userRepository } from './accounts.ts';
import { apiKeyRepository } from './api-keys.ts';
import { auditRepository } from './audit.ts';
import { type DatabaseOptions, openDatabase } from './db.ts';
import type { RevocationParts } from './revocation-fence.ts';
import { describeStoreFault } from './faults.ts';
import { memberRepository } from './members.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database, Dialect } from './schema.ts';
import { probeSqlite } from './sqlite-driver.ts';
import { tenantRepository } from './tenants.ts';
import { webhookRepository } from './webhooks.ts';
import { mailRepository, passwordResetRepository } from './mail.ts';

export { tryLockForServing } from './serve-lock.ts';
export { backupSqlite, BackupError } from './backup.ts';

interface StoreParts extends RevocationParts {
  /** Closes the database once, however often it is called. */
  close: () => Promise<void>;
  dialect: Dialect;
  ping: () => Promise<void>;
}

function storeOn(db: Kysely<Database>, parts: StoreParts, inTransaction: boolean): Store {
  const store: Store = {
    tenants: tenantRepository(db, parts.dialect, parts),
    members: memberRepository(db),
    apiKeys: apiKeyRepository(db, parts, inTransaction),
    users: userRepository(db),
    identities: providerIdentityRepository(db),
    sessions: sessionRepository(db),
    invites: inviteRepository(db),
    audit: auditRepository(db),
    webhooks: webhookRepository(db, parts.dialect),
    mail: mailRepository(db, parts.dialect),
    passwordResets: passwordResetRepository(db),
    transaction: async (fn) => {
      if (inTransaction) return fn(store);
      const afterCommit: (() => Promise<void>)[] = [];
      const result = await db.transaction().execute((trx) => fn(storeOn(trx, { ...parts, afterCommit }, true)));
      for (const work of afterCommit) await work();
      return result;
    },
    ping: parts.ping,
    describeFault: describeStoreFault,
    close: parts.close,
  };
  return store;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

export interface OpenedStore {
  store: Store;
  /** Applies pending migrations; returns their names. */
  migrate: () => Promise<string[]>;
  /**
   * PostgreSQL with a key cache: joins the revocation fence (listen, lease), after migrating. Until then,
   * and in processes that never call it (the operator CLI), verification reads the store.
   */
  startKeyCache: () => Promise<void>;
}

/**
 * A failure to open or first reach the database, in the operator's terms: the setting, its target (the
 * password masked) and the driver's words ("connect ECONNREFUSED 127.0.0.1:1" alone names neither).
 */
function openFailure(databaseUrl: string, error: unknown): Error {
  const target = databaseUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  const why = databaseUrl.startsWith('sqlite:')
    ? `cannot open the database file (${(error as Error).message}); check that its folder exists or can be made, and is writable`
    : `cannot reach the database (${(error as Error).message})`;
  return new Error(`KUPE_DATABASE_URL=${target}: ${why}`, { cause: error });
}

/** Opens the store that the database URL names. Migrations are a separate, explicit step. */
export function openStore(databaseUrl: string, options: DatabaseOptions): OpenedStore {
  let opened: ReturnType<typeof openDatabase>;
  try {
    opened = openDatabase(databaseUrl, options);
  } catch (error) {
    throw openFailure(databaseUrl, error);
  }
  const { db, dialect, keyRows, revocations, fence, sqlite } = opened;
  const ping = sqlite ? () => probeSqlite(sqlite) : async () => { await sql`select 1`.execute(db); };
  return {
    store: storeOn(db, { close: once(async () => { await fence?.stop(); await db.destroy(); }), dialect, keyRows, revocations, ping }, false),
    // The first thing to reach the database: when it cannot, the failure names the setting.
    migrate: () => migrateToLatest(db, dialect).catch((error: unknown) => {
      const kind = describeStoreFault(error)?.kind;
      throw kind === 'unavailable' || kind === 'timeout' ? openFailure(databaseUrl, error) : error;
    }),
    startKeyCache: async () => { await fence?.start(); },
  };
}
