import { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import { makeFolders } from './private-file.ts';

const require = createRequire(import.meta.url);

/**
 * `kupe-server backup FILE` (docs/backup.md): a copy of a SQLite database, taken while a server serves and
 * writes. `VACUUM INTO` copies the database as one read transaction sees it: in WAL mode that reader blocks no
 * writer and no writer disturbs it, so the copy is every transaction committed before the backup began and
 * nothing of any that committed later, whatever the load (SQLite's page-by-page backup API, by contrast, starts
 * over whenever another process writes, and may never finish under steady writes). The copy is written beside
 * FILE, flushed to disk, then renamed into place: FILE is either absent or complete. It is a database of its
 * own (no -wal file), mode 0600.
 */
export function backupSqlite(databaseUrl: string, target: string): { bytes: number } {
  const source = databaseUrl.slice('sqlite:'.length);
  if (!databaseUrl.startsWith('sqlite:') || source === ':memory:') {
    throw new BackupError('backup copies a SQLite database; for PostgreSQL use pg_dump (docs/backup.md)');
  }
  if (!existsSync(source)) throw new BackupError(`no database at ${source} (KUPE_DATABASE_URL)`);
  if (existsSync(target)) throw new BackupError(`${target} exists already: back up to a new file`);
  makeFolders(dirname(target));
  const partial = `${target}.partial-${process.pid}`;
  const Database = require('better-sqlite3') as typeof SQLite;
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
  chmodSync(partial, 0o600); // key digests and password hashes: for Kupe's eyes only, as the database is
  const fd = openSync(partial, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, target);
  return { bytes: statSync(target).size };
}

/** Why a backup was not taken, in the operator's terms (the CLI's exit code 2). */
export class BackupError extends Error {}
