import type { ActionContext } from './context.ts';
import { AppError } from './errors.ts';
import { canonicalEmail } from './email.ts';
import { checkNewPassword, generateOneTimePassword, hashPassword, verifyAgainstNothing, verifyPassword } from './passwords.ts';
import { openSession, type OpenedSession, type SessionSettings } from './sessions.ts';
import type { Store, UserRecord } from './store.ts';
import { formatTimestamp } from './validation.ts';

// Console accounts with Kupe passwords: made by the operator (a one-time password), signed in to, changed.
// Sessions are in sessions.ts, the identity provider's sign-in in provider-sign-in.ts.

/** No password verifies against this: an account made through the identity provider has no local password. */
export const NO_PASSWORD = '';

/**
 * Creates the account with a one-time password that must be changed at first
 * sign-in. Returns the password, or undefined when the account already exists.
 */
export async function createAccountWithOneTimePassword(store: Store, rawEmail: string, now: Date): Promise<string | undefined> {
  const email = canonicalEmail('email', rawEmail);
  if (await store.users.get(email)) return undefined;
  const password = generateOneTimePassword();
  const at = formatTimestamp(now);
  const inserted = await store.users.insert({
    email, passwordHash: await hashPassword(password), mustChangePassword: true, createdAt: at, passwordChangedAt: at, emailProof: 'operator',
  });
  return inserted ? password : undefined;
}

/** Operator action: a fresh one-time password; every session of the account ends. Returns the account's email too. */
export async function resetPassword(store: Store, rawEmail: string, now: Date): Promise<{ email: string; password: string }> {
  const email = canonicalEmail('email', rawEmail);
  if (!(await store.users.get(email))) throw new AppError('user_not_found', `no console account for ${email}`);
  const password = generateOneTimePassword();
  await store.users.setPassword(email, await hashPassword(password), true, formatTimestamp(now));
  await store.users.setEmailProof(email, 'operator');
  await store.sessions.removeAllFor(email);
  return { email, password };
}

/**
 * The account a sign-in form names: the canonical form of what was typed (trimmed). An address the
 * canonical-email rule refuses names no account, so it is answered like a wrong password.
 */
export function signInEmail(typed: string): string {
  try {
    return canonicalEmail('email', typed.trim());
  } catch {
    throw new AppError('invalid_credentials', 'wrong email or password');
  }
}

export async function signIn(
  store: Store, rawEmail: string, password: string, now: Date, settings: SessionSettings,
): Promise<{ session: OpenedSession; user: UserRecord }> {
  const email = signInEmail(rawEmail);
  const user = await store.users.get(email);
  // An account made through the identity provider has no password: it takes as long as a missing one.
  const ok = user && user.passwordHash !== NO_PASSWORD
    ? await verifyPassword(user.passwordHash, password) : await verifyAgainstNothing(password);
  if (!user || !ok) throw new AppError('invalid_credentials', 'wrong email or password');
  // Said only to whoever knows the password.
  if (user.disabledAt !== undefined) throw accountDisabled(email);
  return { session: await openSession(store, email, now, settings), user };
}

/** The refusal of a disabled account's sign-in (with a password, or through the identity provider). */
export function accountDisabled(email: string): AppError {
  return new AppError('account_disabled', `the account ${email} is disabled by the operator; ask your operator`);
}

/** The console account of an email, if there is one. */
export function findAccount(store: Store, rawEmail: string): Promise<UserRecord | undefined> {
  return store.users.get(canonicalEmail('email', rawEmail));
}

/** Ends every session of the account (this browser's too) and opens a fresh one for this browser. */
export async function changePassword(
  store: Store, email: string, current: string, next: string, now: Date, settings: SessionSettings,
): Promise<OpenedSession> {
  const user = await store.users.get(email);
  if (user?.passwordHash === NO_PASSWORD) {
    throw new AppError('validation_failed', 'this account signs in through the identity provider and has no Kupe password to change');
  }
  if (!user || !(await verifyPassword(user.passwordHash, current))) {
    throw new AppError('invalid_credentials', 'current password is wrong');
  }
  checkNewPassword(next, email);
  if (current === next) throw new AppError('validation_failed', 'the new password must differ from the current one');
  await store.users.setPassword(email, await hashPassword(next), false, formatTimestamp(now));
  await store.sessions.removeAllFor(email);
  return openSession(store, email, now, settings);
}

/**
 * Operator action (docs/behaviour.md, "Disabled tenants and accounts"): a disabled account cannot sign in (403
 * `account_disabled`, told only once the password matched), every session of it ends, its password-reset links
 * stop working, and its access tokens are refused; its memberships stay. Audited in each tenant it is a member
 * of. `changed` is false when it already was so.
 */
export async function setAccountDisabled(
  store: Store, rawEmail: string, disabled: boolean, ctx: ActionContext,
): Promise<{ email: string; changed: boolean }> {
  const email = canonicalEmail('email', rawEmail);
  return store.transaction(async (tx) => {
    const user = await tx.users.get(email);
    if (!user) throw new AppError('user_not_found', `no console account for ${email}`);
    if ((user.disabledAt !== undefined) === disabled) return { email, changed: false };
    const at = formatTimestamp(ctx.now);
    await tx.users.setDisabled(email, disabled ? at : null);
    if (disabled) {
      await tx.sessions.removeAllFor(email);
      await tx.passwordResets.removeFor(email);
    }
    for (const { tenant } of await tx.members.tenantsOf(email)) {
      await tx.audit.append({
        tenant, time: at, actor: ctx.actor, action: disabled ? 'account.disable' : 'account.enable', target: email,
        clientIp: ctx.clientIp, requestId: ctx.requestId,
      });
    }
    return { email, changed: true };
  });
}
