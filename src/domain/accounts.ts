import { randomBytes } from 'node:crypto';
import { AppError } from './errors.ts';
import { sha256Hex } from './key-format.ts';
import { checkNewPassword, generateOneTimePassword, hashPassword, verifyAgainstNothing, verifyPassword } from './passwords.ts';
import type { SessionRecord, Store, UserRecord } from './store.ts';
import { formatTimestamp, normalizeEmail, parseRfc3339 } from './validation.ts';

export interface SessionSettings {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** lastSeenAt is written at most this often per session: sliding the idle expiry costs no write per request. */
const TOUCH_EVERY_MS = 60_000;

export interface OpenedSession {
  /** Goes into the cookie; only its SHA-256 is stored. */
  token: string;
  csrfToken: string;
  expiresAt: string;
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function openSession(store: Store, email: string, now: Date, settings: SessionSettings): Promise<OpenedSession> {
  const token = newToken();
  const at = formatTimestamp(now);
  const session: SessionRecord = {
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
export async function createAccountWithOneTimePassword(store: Store, rawEmail: string, now: Date): Promise<string | undefined> {
  const email = normalizeEmail('email', rawEmail);
  if (await store.users.get(email)) return undefined;
  const password = generateOneTimePassword();
  const at = formatTimestamp(now);
  const inserted = await store.users.insert({
    email, passwordHash: await hashPassword(password), mustChangePassword: true, createdAt: at, passwordChangedAt: at,
  });
  return inserted ? password : undefined;
}

/** Operator action: a fresh one-time password; every session of the account ends. */
export async function resetPassword(store: Store, rawEmail: string, now: Date): Promise<string> {
  const email = normalizeEmail('email', rawEmail);
  if (!(await store.users.get(email))) throw new AppError('user_not_found', `no console account for ${email}`);
  const password = generateOneTimePassword();
  await store.users.setPassword(email, await hashPassword(password), true, formatTimestamp(now));
  await store.sessions.removeAllFor(email);
  return password;
}

export async function signIn(
  store: Store, rawEmail: string, password: string, now: Date, settings: SessionSettings,
): Promise<{ session: OpenedSession; user: UserRecord }> {
  const email = rawEmail.trim().toLowerCase();
  const user = await store.users.get(email);
  const ok = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstNothing(password);
  if (!user || !ok) throw new AppError('invalid_credentials', 'wrong email or password');
  return { session: await openSession(store, email, now, settings), user };
}

export type SessionCheck =
  | { ok: true; session: SessionRecord; user: UserRecord }
  | { ok: false };

/** Finds the session of a cookie token and checks both expiries; slides the idle one. */
export async function authenticateSession(
  store: Store, token: string, now: Date, settings: SessionSettings,
): Promise<SessionCheck> {
  const session = await store.sessions.get(sha256Hex(token));
  if (!session) return { ok: false };
  const nowMs = now.getTime();
  const lastSeen = parseRfc3339(session.lastSeenAt) ?? 0;
  if ((parseRfc3339(session.expiresAt) ?? 0) <= nowMs || lastSeen + settings.idleSeconds * 1000 <= nowMs) {
    await store.sessions.remove(session.id);
    return { ok: false };
  }
  const user = await store.users.get(session.email);
  if (!user) return { ok: false };
  if (nowMs - lastSeen >= TOUCH_EVERY_MS) await store.sessions.touch(session.id, formatTimestamp(now));
  return { ok: true, session, user };
}

/** The console account of an email, if there is one. */
export function findAccount(store: Store, rawEmail: string): Promise<UserRecord | undefined> {
  return store.users.get(normalizeEmail('email', rawEmail));
}

/** The tenants an account's memberships are in effect in, with the role in each (pending ones excluded). */
export function listMemberships(store: Store, email: string) {
  return store.members.tenantsOf(email);
}

export async function signOut(store: Store, token: string): Promise<void> {
  await store.sessions.remove(sha256Hex(token));
}

/** Ends every session of the account (this browser's too) and opens a fresh one for this browser. */
export async function changePassword(
  store: Store, email: string, current: string, next: string, now: Date, settings: SessionSettings,
): Promise<OpenedSession> {
  const user = await store.users.get(email);
  if (!user || !(await verifyPassword(user.passwordHash, current))) {
    throw new AppError('invalid_credentials', 'current password is wrong');
  }
  checkNewPassword(next, email);
  if (current === next) throw new AppError('validation_failed', 'the new password must differ from the current one');
  await store.users.setPassword(email, await hashPassword(next), false, formatTimestamp(now));
  await store.sessions.removeAllFor(email);
  return openSession(store, email, now, settings);
}

