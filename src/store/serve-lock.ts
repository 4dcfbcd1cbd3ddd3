import { createRequire } from 'node:module';
import type SQLite from 'better-sqlite3';
import { createPrivateFile } from './private-file.ts';

const require = createRequire(import.meta.url);

/** How long a starting server waits for the previous one on the same file to stop (a restart). */
export const SERVE_LOCK_WAIT_MS = 10_000;

/**
 * One server per SQLite file. The key cache (src/store/fast-paths.ts) hears every revocation of its own
 * process, so no other server may revoke keys in the same file: the second `kupe-server serve` on a
 * file waits up to SERVE_LOCK_WAIT_MS for the first to stop, then refuses to start. The operator CLI takes it
 * only to revoke leaked keys while no server runs (src/control.ts), and PostgreSQL takes none: there
 * instances are many by design. The lock is SQLite's own exclusive lock on `<file>.serve-lock`, held by
 * an open connection: the system drops it when the process ends, however it ends. Returns its release.
 */
export function lockForServing(databaseUrl: string, waitMs = SERVE_LOCK_WAIT_MS): () => void {
  const release = tryLockForServing(databaseUrl, waitMs);
  if (release) return release;
  const path = databaseUrl.slice('sqlite:'.length);
  throw new Error(`another kupe-server serve is using ${path} (it holds ${path}.serve-lock): one server per SQLite ` +
    'file; stop it first, or run several instances on PostgreSQL (docs/deployment.md)');
}

/**
 * The lock, or undefined when a server holds it after waitMs: the operator CLI asks with 0 to learn whether a
 * server is running on the file (src/control.ts), holding it meanwhile so that none starts halfway.
 */
export function tryLockForServing(databaseUrl: string, waitMs: number): (() => void) | undefined {
  const path = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : undefined;
  if (path === undefined || path === ':memory:') return () => {};
  const Database = require('better-sqlite3') as typeof SQLite;
  createPrivateFile(`${path}.serve-lock`); // as opening the database does: a 0700 folder
  const lock = new Database(`${path}.serve-lock`, { timeout: waitMs });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('begin exclusive');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    return undefined;
  }
  return () => lock.close();
}
