import { NO_PASSWORD } from './accounts.ts';
import type { ActionContext } from './context.ts';
import { newLinkToken, unspentLink } from './one-time-links.ts';
import { canonicalEmail } from './email.ts';
import { AppError } from './errors.ts';
import { mailing, mailPasswordReset } from './mail.ts';
import { checkNewPassword, hashPassword } from './passwords.ts';
import type { PasswordResetRecord, Store } from './store.ts';
import { formatTimestamp, parseRfc3339 } from './validation.ts';

/**
 * "Forgot password" (docs/notifications.md, "Email"): a person asks for a link by their address; if an
 * account with a password has that address, a one-time link is mailed to it. The answer is the same whether
 * or not there is such an account (no oracle), and an address gets at most one mail per RESET_QUIET_SECONDS
 * however often it is asked for (no mail bombing). Opening the link sets a new password, ends every session
 * of the account and voids its other links; it also proves the address is the account's.
 */
export const RESET_TTL_SECONDS = 3600;
export const RESET_QUIET_SECONDS = 300;

const INVALID = 'this password reset link is invalid, used or expired; ask for a new one';

/** Off without email: there is no way to reach the person. */
export function resetsOff(): AppError {
  return new AppError('password_reset_off',
    'password reset by email is off here (no mail server is set up); ask your operator to reset it: kupe-server users reset-password');
}

/** Asks for a reset link for the address; says nothing about whether it has an account. */
export async function requestPasswordReset(store: Store, rawEmail: string, ctx: Omit<ActionContext, 'actor'>): Promise<void> {
  if (!mailing(ctx)) throw resetsOff();
  const email = canonicalEmail('email', rawEmail.trim());
  const user = await store.users.get(email);
  // An account of the identity provider has no Kupe password to reset: its owner signs in there. A disabled
  // account gets no link (its sign-in is refused anyway).
  if (!user || user.passwordHash === NO_PASSWORD || user.disabledAt !== undefined) return;
  await store.transaction(async (tx) => {
    const latest = parseRfc3339((await tx.passwordResets.latestFor(email)) ?? '');
    if (latest !== undefined && ctx.now.getTime() - latest < RESET_QUIET_SECONDS * 1000) return;
    const { token, id } = newLinkToken();
    const expiresAt = formatTimestamp(new Date(ctx.now.getTime() + RESET_TTL_SECONDS * 1000));
    await tx.passwordResets.insert({ id, email, createdAt: formatTimestamp(ctx.now), expiresAt });
    await mailPasswordReset(tx, email, token, expiresAt, ctx);
  });
}

async function usableReset(store: Store, token: string, now: Date): Promise<PasswordResetRecord> {
  const reset = await unspentLink(token, (id) => store.passwordResets.get(id), now);
  if (!reset) throw new AppError('password_reset_invalid', INVALID);
  return reset;
}

/** Which account a link is for, while it works (the page shows it). */
export async function describePasswordReset(store: Store, token: string, now: Date): Promise<{ email: string; expiresAt: string }> {
  const reset = await usableReset(store, token, now);
  return { email: reset.email, expiresAt: reset.expiresAt };
}

/** Sets the new password; every session of the account ends and every other link stops working. */
export async function completePasswordReset(store: Store, token: string, password: string, now: Date): Promise<{ email: string }> {
  const reset = await usableReset(store, token, now);
  checkNewPassword(password, reset.email);
  const passwordHash = await hashPassword(password);
  await store.transaction(async (tx) => {
    const at = formatTimestamp(now);
    if (!(await tx.passwordResets.markUsed(reset.id, at))) throw new AppError('password_reset_invalid', INVALID);
    await tx.users.setPassword(reset.email, passwordHash, false, at);
    if ((await tx.users.get(reset.email))?.emailProof === undefined) await tx.users.setEmailProof(reset.email, 'email');
    await tx.sessions.removeAllFor(reset.email);
    await tx.passwordResets.removeFor(reset.email);
  });
  return { email: reset.email };
}
