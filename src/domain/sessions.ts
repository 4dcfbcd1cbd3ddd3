import { randomBytes } from 'node:crypto';
import { sha256Hex } from './digest.ts';
import type { Role } from './roles.ts';
import type { SessionRecord, Store, UserRecord } from './store.ts';
import { formatTimestamp, parseRfc3339 } from './validation.ts';

// Console sessions: opened at sign-in, found by the cookie's token (only its SHA-256 is stored), ended by
// sign-out, idleness or age.

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

export async function openSession(
  store: Store, email: string, now: Date, settings: SessionSettings,
  provider?: { roles: Readonly<Record<string, Role>> },
): Promise<OpenedSession> {
  const token = newToken();
  const at = formatTimestamp(now);
  const session: SessionRecord = {
    id: sha256Hex(token), email, csrfToken: newToken(), createdAt: at, lastSeenAt: at,
    expiresAt: formatTimestamp(new Date(now.getTime() + settings.absoluteSeconds * 1000)),
    ...(provider && { method: 'oidc' as const, providerRoles: provider.roles }),
  };
  await store.sessions.insert(session);
  return { token, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
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
  // Disabling an account ends its sessions; one opened at that very moment ends here.
  if (!user || user.disabledAt !== undefined) return { ok: false };
  if (nowMs - lastSeen >= TOUCH_EVERY_MS) await store.sessions.touch(session.id, formatTimestamp(now));
  return { ok: true, session, user };
}

export async function signOut(store: Store, token: string): Promise<void> {
  await store.sessions.remove(sha256Hex(token));
}
