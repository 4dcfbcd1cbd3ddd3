import { randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { validationError } from './errors.ts';

/**
 * argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's
 * minimum recommendation), about 50 ms a hash on this hardware.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/**
 * False on a mismatch. Anything else (a malformed stored hash, the library failing) throws: it is a fault to
 * answer 500 and log, not a wrong password to count against the person.
 */
export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password);
}

// Compared against when the account does not exist, so that path takes as long.
let dummyHash: Promise<string> | undefined;
export async function verifyAgainstNothing(password: string): Promise<false> {
  dummyHash ??= hashPassword('kupe-no-such-account');
  await verifyPassword(await dummyHash, password);
  return false;
}

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export function checkNewPassword(password: string, email: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw validationError(`password must be at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX) throw validationError(`password must be at most ${PASSWORD_MAX} characters`);
  if (password.toLowerCase() === email.toLowerCase()) throw validationError('password must not be your email');
}

// No 0/O, 1/l/I: read off a terminal and typed by hand once.
const READABLE = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Four groups of five: about 116 bits, typed once, then changed. */
export function generateOneTimePassword(): string {
  const groups = Array.from({ length: 4 }, () =>
    Array.from({ length: 5 }, () => READABLE[randomInt(READABLE.length)]).join(''));
  return groups.join('-');
}
