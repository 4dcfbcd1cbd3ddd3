import { randomBytes } from 'node:crypto';
import { openSession, type OpenedSession, type SessionSettings } from './accounts.ts';
import { AppError } from './errors.ts';
import { sha256Hex } from './key-format.ts';
import { checkNewPassword, hashPassword } from './passwords.ts';
import type { InviteRecord, Store } from './store.ts';
import { formatTimestamp, parseRfc3339 } from './validation.ts';

/** How long an invite link works. */
export const INVITE_TTL_SECONDS = 7 * 86_400;

export interface IssuedInvite {
  /** Goes into the link; only its SHA-256 is stored. Shown once to the admin who added the member. */
  token: string;
  expiresAt: string;
}

export async function createInvite(tx: Store, tenant: string, email: string, actor: string, now: Date): Promise<IssuedInvite> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = formatTimestamp(new Date(now.getTime() + INVITE_TTL_SECONDS * 1000));
  await tx.invites.insert({
    id: sha256Hex(token), email, tenant, createdBy: actor, createdAt: formatTimestamp(now), expiresAt,
  });
  return { token, expiresAt };
}

const INVALID = 'this invite link is invalid, used or expired; ask a tenant admin for a new one';

async function usableInvite(store: Store, token: string, now: Date): Promise<InviteRecord> {
  const invite = /^[A-Za-z0-9_-]{43}$/.test(token) ? await store.invites.get(sha256Hex(token)) : undefined;
  if (!invite || invite.usedAt !== undefined || (parseRfc3339(invite.expiresAt) ?? 0) <= now.getTime()) {
    throw new AppError('invite_invalid', INVALID);
  }
  return invite;
}

export async function describeInvite(store: Store, token: string, now: Date) {
  const invite = await usableInvite(store, token, now);
  return { email: invite.email, tenant: invite.tenant, expiresAt: invite.expiresAt };
}

/** The invitee chooses a password: the account is created and signed in. */
export async function acceptInvite(
  store: Store, token: string, password: string, now: Date, settings: SessionSettings,
): Promise<{ email: string; session: OpenedSession }> {
  const invite = await usableInvite(store, token, now);
  checkNewPassword(password, invite.email);
  const passwordHash = await hashPassword(password);
  const session = await store.transaction(async (tx) => {
    if (!(await tx.invites.markUsed(invite.id, formatTimestamp(now)))) throw new AppError('invite_invalid', INVALID);
    const at = formatTimestamp(now);
    if (!(await tx.users.insert({ email: invite.email, passwordHash, mustChangePassword: false, createdAt: at, passwordChangedAt: at }))) {
      throw new AppError('invite_invalid', 'an account for this email exists already: sign in instead');
    }
    return openSession(tx, invite.email, now, settings);
  });
  return { email: invite.email, session };
}
