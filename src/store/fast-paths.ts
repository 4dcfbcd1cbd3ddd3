import type SQLite from 'better-sqlite3';
import type { Selectable, SqliteDatabase } from 'kysely';
import type pg from 'pg';
import type { ApiKeysTable } from './schema.ts';

/**
 * The store's fast paths: what every authenticated request costs the database, made as small as it goes
 * (docs/performance.md says what each buys). Everything else goes through Kysely as written.
 */

/** Reads one API key row by id, outside any transaction: the one query of an authenticated request. */
export type ApiKeyRowReader = (id: string) => Selectable<ApiKeysTable> | undefined | Promise<Selectable<ApiKeysTable> | undefined>;

/** The key readers, and what a revocation tells them (a cache forgets the key at once). */
export interface KeyRows {
  /** Always the stored row. */
  read: ApiKeyRowReader;
  /** For verification: the stored row, or a cached one while that is safe (fields verification ignores may be stale). */
  readForVerification: ApiKeyRowReader;
  /** Called by a revocation as soon as its UPDATE has run, before its transaction commits. */
  forget(id: string): void;
}

const KEY_BY_ID = 'select * from api_keys where id';

/**
 * SQLite: one prepared statement, read through the same connection as Kysely without waiting for its
 * connection lock. It may see a revocation a moment before its transaction commits (and, should that
 * transaction fail, refuse the key once for nothing); it never sees a key that is not yet valid as
 * valid, since nobody holds a key before its create has answered. Prepared on first use: the table
 * exists only once migrations have run.
 */
export function sqliteKeyReader(sqlite: SQLite.Database): ApiKeyRowReader {
  let lookup: SQLite.Statement<[string], Selectable<ApiKeysTable>> | undefined;
  return (id) => {
    lookup ??= sqlite.prepare<[string], Selectable<ApiKeysTable>>(`${KEY_BY_ID} = ?`);
    return lookup.get(id);
  };
}

/**
 * SQLite: the rows of valid keys kept in memory, at most maxEntries (the least recently used go first; 0
 * turns the cache off). What makes it safe (docs/performance.md, "The key cache"):
 * - Only rows that are not revoked are kept; unknown ids and failed reads are never kept. Expiry is checked
 *   by verification on every use, so a cached key expires on time.
 * - A revocation forgets the key as its UPDATE runs (reads share the connection, so from then on they see
 *   the revocation, committed or not), before the DELETE can answer. Reads are synchronous here, so no
 *   read can straddle a revocation and put back a stale row.
 * - Revocations happen only in this process: one server per SQLite file (src/store/serve-lock.ts), and
 *   no command of the operator CLI changes what verification sees.
 */
export function cachedSqliteKeyReader(sqlite: SQLite.Database, maxEntries: number): KeyRows {
  const read = sqliteKeyReader(sqlite);
  if (maxEntries <= 0) return { read, readForVerification: read, forget: () => {} };
  const rows = new Map<string, Selectable<ApiKeysTable>>();
  return {
    read,
    readForVerification(id) {
      const cached = rows.get(id);
      if (cached) {
        rows.delete(id); // most recently used goes last
        rows.set(id, cached);
        return cached;
      }
      const row = read(id) as Selectable<ApiKeysTable> | undefined;
      if (row && row.revoked_at === null) {
        rows.set(id, row);
        if (rows.size > maxEntries) rows.delete(rows.keys().next().value!);
      }
      return row;
    },
    forget(id) {
      rows.delete(id);
    },
  };
}

/**
 * PostgreSQL: a named statement, so each pooled connection parses and plans it once, then only binds and
 * executes (pool.query discards a client whose query failed). Always the primary: a replica could still
 * show a revoked key as valid.
 */
export function postgresKeyReader(pool: pg.Pool): ApiKeyRowReader {
  return async (id) => {
    const result = await pool.query<Selectable<ApiKeysTable>>({ name: 'kupe_api_key_by_id', text: `${KEY_BY_ID} = $1`, values: [id] });
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
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sql);
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
