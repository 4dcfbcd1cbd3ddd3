import { randomBytes } from 'node:crypto';
import { AppError } from "./errors.js";
import { sha256Hex } from "./key-format.js";
import { checkNewPassword, generateOneTimePassword, hashPassword, verifyAgainstNothing, verifyPassword } from "./passwords.js";
import { formatTimestamp, normalizeEmail, parseRfc3339 } from "./validation.js";
/** lastSeenAt is written at most this often per session: sliding the idle expiry costs no write per request. */
const TOUCH_EVERY_MS = 60_000;
function newToken() {
    return randomBytes(32).toString('base64url');
}
export async function openSession(store, email, now, settings) {
    const token = newToken();
    const at = formatTimestamp(now);
    const session = {
        id: sha256Hex(token), email, csrfToken: newToken(), createdAt: at, lastSeenAt: at,
        expiresAt: formatTimestamp(new Date(now.getTime() + settings.absoluteSeconds * 1000)),
    };
    await store.sessions.insert(session);
    return { token, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
}
/**
 * Creates the account with a one-time password that must be changed at first
 * sign-in. Returns the password, or undefined when the account already exists.
 */
export async function createAccountWithOneTimePassword(store, rawEmail, now) {
    const email = normalizeEmail('email', rawEmail);
    if (await store.users.get(email))
        return undefined;
    const password = generateOneTimePassword();
    const at = formatTimestamp(now);
    const inserted = await store.users.insert({
        email, passwordHash: await hashPassword(password), mustChangePassword: true, createdAt: at, passwordChangedAt: at,
    });
    return inserted ? password : undefined;
}
/** Operator action: a fresh one-time password; every session of the account ends. */
export async function resetPassword(store, rawEmail, now) {
    const email = normalizeEmail('email', rawEmail);
    if (!(await store.users.get(email)))
        throw new AppError('user_not_found', `no console account for ${email}`);
    const password = generateOneTimePassword();
    await store.users.setPassword(email, await hashPassword(password), true, formatTimestamp(now));
    await store.sessions.removeAllFor(email);
    return password;
}
export async function signIn(store, rawEmail, password, now, settings) {
    const email = rawEmail.trim().toLowerCase();
    const user = await store.users.get(email);
    const ok = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstNothing(password);
    if (!user || !ok)
        throw new AppError('invalid_credentials', 'wrong email or password');
    return { session: await openSession(store, email, now, settings), user };
}
/** Finds the session of a cookie token and checks both expiries; slides the idle one. */
export async function authenticateSession(store, token, now, settings) {
    const session = await store.sessions.get(sha256Hex(token));
    if (!session)
        return { ok: false };
    const nowMs = now.getTime();
    const lastSeen = parseRfc3339(session.lastSeenAt) ?? 0;
    if ((parseRfc3339(session.expiresAt) ?? 0) <= nowMs || lastSeen + settings.idleSeconds * 1000 <= nowMs) {
        await store.sessions.remove(session.id);
        return { ok: false };
    }
    const user = await store.users.get(session.email);
    if (!user)
        return { ok: false };
    if (nowMs - lastSeen >= TOUCH_EVERY_MS)
        await store.sessions.touch(session.id, formatTimestamp(now));
    return { ok: true, session, user };
}
/** The console account of an email, if there is one. */
export function findAccount(store, rawEmail) {
    return store.users.get(normalizeEmail('email', rawEmail));
}
/** The tenants an account's memberships are in effect in, with the role in each (pending ones excluded). */
export function listMemberships(store, email) {
    return store.members.tenantsOf(email);
}
export async function signOut(store, token) {
    await store.sessions.remove(sha256Hex(token));
}
/** Ends every session of the account (this browser's too) and opens a fresh one for this browser. */
export async function changePassword(store, email, current, next, now, settings) {
    const user = await store.users.get(email);
    if (!user || !(await verifyPassword(user.passwordHash, current))) {
        throw new AppError('invalid_credentials', 'current password is wrong');
    }
    checkNewPassword(next, email);
    if (current === next)
        throw new AppError('validation_failed', 'the new password must differ from the current one');
    await store.users.setPassword(email, await hashPassword(next), false, formatTimestamp(now));
    await store.sessions.removeAllFor(email);
    return openSession(store, email, now, settings);
}
