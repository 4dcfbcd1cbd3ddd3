import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, type Selectable, type SqliteDatabase, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { ApiKeysTable, Database, Dialect } from './schema.ts';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The key lookup of every authenticated request, bypassing the query builder (outside transactions). */
  readApiKeyRow?: ApiKeyRowReader;
}

export type ApiKeyRowReader = (id: string) => Selectable<ApiKeysTable> | undefined | Promise<Selectable<ApiKeysTable> | undefined>;

/** Opens the database that KUPE_DATABASE_URL names (validated by loadConfig). */
export function openDatabase(url: string): OpenedDatabase {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  throw new Error(`unsupported database URL scheme: ${url.split(':')[0]}`);
}

/**
 * PostgreSQL through node-postgres' pool. Every instance reads keys from the
 * primary: a replica could still show a revoked key as valid.
 */
function openPostgres(url: string): OpenedDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // A named statement: each pooled connection parses and plans it once, then only binds and executes.
  const readApiKeyRow: ApiKeyRowReader = async (id) => {
    const result = await pool.query<Selectable<ApiKeysTable>>({
      name: 'kupe_api_key_by_id', text: 'select * from api_keys where id = $1', values: [id],
    });
    return result.rows[0];
  };
  return { db, dialect: 'postgres', readApiKeyRow };
}

function openSqlite(path: string): OpenedDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL'); // an acknowledged write survives a power loss, not only a crash
  sqlite.pragma('busy_timeout = 5000'); // a second process (the operator CLI) waits instead of failing
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  // Prepared on first use: the table exists only once migrations have run.
  let lookup: SQLite.Statement<[string], Selectable<ApiKeysTable>> | undefined;
  const readApiKeyRow: ApiKeyRowReader = (id) => {
    lookup ??= sqlite.prepare<[string], Selectable<ApiKeysTable>>('select * from api_keys where id = ?');
    return lookup.get(id);
  };
  return { db, dialect: 'sqlite', readApiKeyRow };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; on SQLite, preparing costs three times
 * as much as running a primary-key read, and the statements it leaves for
 * the garbage collector cost more again. The queries are a small fixed set
 * (values are bound, never inlined), so each SQL text is prepared once.
 * A statement still iterating (a streamed query) is never handed out twice.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
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
