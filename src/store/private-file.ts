import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes the folder (0700) and the file (0600) if they do not exist yet, before SQLite opens the file: only
 * Kupe reads it (key digests, password hashes, the audit log), and SQLite gives its -wal and -shm files the
 * database file's mode. Existing folders and files keep the modes the operator gave them.
 */
export function createPrivateFile(path: string): void {
  makeFolders(dirname(path));
  closeSync(openSync(path, 'a', 0o600));
}

/**
 * `mkdir -p`, one level at a time from the nearest folder that exists: Node's own recursive mkdir never returns
 * in a file system that refuses with ENOENT, such as /proc; here the first refusal is thrown.
 */
export function makeFolders(folder: string): void {
  const missing: string[] = [];
  for (let at = folder; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing) mkdirSync(at, { mode: 0o700 });
}
