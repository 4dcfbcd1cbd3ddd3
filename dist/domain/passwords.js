import { randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { validationError } from "./errors.js";
/**
 * argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's
 * minimum recommendation), about 50 ms a hash on this hardware.
 */
export function hashPassword(password) {
    return hash(password);
}
export async function verifyPassword(passwordHash, password) {
    try {
        return await verify(passwordHash, password);
    }
    catch {
        return false; // a malformed stored hash never signs anyone in
    }
}
// Compared against when the account does not exist, so that path takes as long.
let dummyHash;
export async function verifyAgainstNothing(password) {
    dummyHash ??= hashPassword('kupe-no-such-account');
    await verifyPassword(await dummyHash, password);
    return false;
}
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
export function checkNewPassword(password, email) {
    const length = [...password].length;
    if (length < PASSWORD_MIN)
        throw validationError(`password must be at least ${PASSWORD_MIN} characters`);
    if (length > PASSWORD_MAX)
        throw validationError(`password must be at most ${PASSWORD_MAX} characters`);
    if (password.toLowerCase() === email.toLowerCase())
        throw validationError('password must not be your email');
}
// No 0/O, 1/l/I: read off a terminal and typed by hand once.
const READABLE = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** Four groups of five: about 116 bits, typed once, then changed. */
export function generateOneTimePassword() {
    const groups = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => READABLE[randomInt(READABLE.length)]).join(''));
    return groups.join('-');
}
