import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database, Dialect } from './schema.ts';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
}

/** Opens the database that KUPE_DATABASE_URL names (validated by loadConfig). */
export function openDatabase(url: string): OpenedDatabase {
  if (url.startsWith('sqlite:')) return { db: openSqlite(url.slice('sqlite:'.length)), dialect: 'sqlite' };
  throw new Error(`unsupported database URL: ${url.split(':')[0]}: (only sqlite:PATH is supported so far)`);
}

function openSqlite(path: string): Kysely<Database> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL'); // an acknowledged write survives a power loss, not only a crash
  sqlite.pragma('busy_timeout = 5000'); // a second process (the operator CLI) waits instead of failing
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}
