import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes the folder (0700) and the file (0600) if they do not exist yet, before SQLite opens the file: only
 * Kupe reads it (key digests, password hashes, the audit log), and SQLite gives its -wal and -shm files the
 * database file's mode. Existing folders and files keep the modes the operator gave them.
 */
export function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
}
