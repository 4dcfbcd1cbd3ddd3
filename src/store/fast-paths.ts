import type SQLite from 'better-sqlite3';
import { Lru } from '../lru.ts';
import type { Selectable, SqliteDatabase } from 'kysely';
import type pg from 'pg';
import type { ApiKeysTable } from './schema.ts';

/**
 * The store's fast paths: what every authenticated request costs the database, made as small as it goes
 * (docs/performance.md says what each buys). Everything else goes through Kysely as written.
 */

/** An API key's row, with its tenant's `disabled_at` (null while the tenant is enabled). */
export type KeyRow = Selectable<ApiKeysTable> & { tenant_disabled_at: string | null };

/** Reads one API key row by id, outside any transaction: the one query of an authenticated request. */
export type ApiKeyRowReader = (id: string) => KeyRow | undefined | Promise<KeyRow | undefined>;

/** What a cache must forget: one key (revoked), or every key of a tenant (disabled). */
export type Forgotten = { keyId: string } | { tenant: string };

/** The key readers, and what a revocation tells them (a cache forgets the key at once). */
export interface KeyRows {
  /** Always the stored row. */
  read: ApiKeyRowReader;
  /** For verification: the stored row, or a cached one while that is safe (fields verification ignores may be stale). */
  readForVerification: ApiKeyRowReader;
  /** Called by a revocation (a tenant's disabling) as soon as its UPDATE has run, before its transaction commits. */
  forget(forgotten: Forgotten): void;
}

/**
 * The one query of an authenticated request: the key by primary key, and its tenant's state by primary key
 * (a disabled tenant's keys are refused).
 */
export const KEY_BY_ID = 'select api_keys.*, (select disabled_at from tenants where tenants.name = api_keys.tenant) as tenant_disabled_at '
  + 'from api_keys where api_keys.id';

/**
 * SQLite: one prepared statement, read through the same connection as Kysely without waiting for its
 * connection lock. It may see a revocation a moment before its transaction commits (and, should that
 * transaction fail, refuse the key once for nothing); it never sees a key that is not yet valid as
 * valid, since nobody holds a key before its create has answered. Prepared on first use: the table
 * exists only once migrations have run.
 */
export function sqliteKeyReader(sqlite: SQLite.Database): ApiKeyRowReader {
  let lookup: SQLite.Statement<[string], KeyRow> | undefined;
  return (id) => {
    lookup ??= sqlite.prepare<[string], KeyRow>(`${KEY_BY_ID} = ?`);
    return lookup.get(id);
  };
}

/**
 * The rows of valid keys, at most maxEntries (the least recently used go first). Only rows that are not
 * revoked, of tenants not disabled, are kept; unknown ids and failed reads never are; expiry is checked by
 * verification on every use. Every forget() and clear() moves the epoch: a read that began before may not put
 * its row back (on PostgreSQL a read is asynchronous and can straddle a revocation).
 */
export class KeyRowCache {
  readonly #rows: Lru<string, KeyRow>;
  #epoch = 0;

  constructor(maxEntries: number) {
    this.#rows = new Lru(maxEntries);
  }

  get epoch(): number { return this.#epoch; }

  get(id: string): KeyRow | undefined {
    return this.#rows.get(id);
  }

  /** Keeps the row if it is valid and nothing was forgotten since epochAtRead. */
  put(id: string, row: KeyRow | undefined, epochAtRead: number): void {
    if (!row || row.revoked_at !== null || row.tenant_disabled_at !== null || epochAtRead !== this.#epoch) return;
    this.#rows.set(id, row);
  }

  /** One key; or every key of a tenant (a walk through the cache: disabling a tenant is rare). */
  forget(forgotten: Forgotten): void {
    if ('keyId' in forgotten) {
      this.#rows.delete(forgotten.keyId);
    } else {
      for (const [id, row] of this.#rows.entries()) if (row.tenant === forgotten.tenant) this.#rows.delete(id);
    }
    this.#epoch += 1;
  }

  clear(): void {
    this.#rows.clear();
    this.#epoch += 1;
  }
}

/**
 * SQLite: verification through a KeyRowCache (0 entries: none). What makes it safe (docs/performance.md,
 * "The key cache"): a revocation forgets the key as its UPDATE runs (reads share the connection, so from
 * then on they see the revocation, committed or not), before the DELETE can answer; and revocations happen
 * only in this process: one server per SQLite file (src/store/serve-lock.ts), and the operator CLI revokes a
 * leaked key through the running server (src/control.ts), or itself only while no server runs.
 */
export function cachedSqliteKeyReader(sqlite: SQLite.Database, maxEntries: number): KeyRows {
  const read = sqliteKeyReader(sqlite);
  if (maxEntries <= 0) return { read, readForVerification: read, forget: () => {} };
  const cache = new KeyRowCache(maxEntries);
  return {
    read,
    readForVerification(id) {
      const cached = cache.get(id);
      if (cached) return cached;
      const row = read(id) as KeyRow | undefined;
      cache.put(id, row, cache.epoch);
      return row;
    },
    forget: (forgotten) => cache.forget(forgotten),
  };
}

/**
 * PostgreSQL: verification through a KeyRowCache only while this instance holds a fresh lease on the
 * revocation channel (src/store/revocation-fence.ts); otherwise, and for a row read across a revocation,
 * the store.
 */
export function cachedPostgresKeyReader(read: ApiKeyRowReader, cache: KeyRowCache, fence: { holdsLease(): boolean }): KeyRows {
  return {
    read,
    async readForVerification(id) {
      if (!fence.holdsLease()) return read(id);
      const cached = cache.get(id);
      if (cached) return cached;
      const epoch = cache.epoch;
      const row = await read(id);
      if (fence.holdsLease()) cache.put(id, row, epoch);
      return row;
    },
    forget: (forgotten) => cache.forget(forgotten),
  };
}

/**
 * PostgreSQL: a named statement, so each pooled connection parses and plans it once, then only binds and
 * executes (pool.query discards a client whose query failed). Always the primary: a replica could still
 * show a revoked key as valid.
 */
export function postgresKeyReader(pool: pg.Pool): ApiKeyRowReader {
  return async (id) => {
    const result = await pool.query<KeyRow>({ name: 'kupe_api_key_by_id', text: `${KEY_BY_ID} = $1`, values: [id] });
    return result.rows[0];
  };
}

export const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; on SQLite, preparing costs three times as much as running a
 * primary-key read, and the statements it leaves for the garbage collector cost more again. The queries
 * are a small fixed set (values are bound, never inlined), so each SQL text is prepared once; at most
 * STATEMENT_CACHE_SIZE are kept (the oldest go first). A statement still iterating (a streamed query) is
 * never handed out twice: a second, uncached one is prepared.
 */
export function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Lru<string, SQLite.Statement>(STATEMENT_CACHE_SIZE);
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sql);
      if (!cached) cache.set(sql, statement);
      return statement;
    },
  };
}
