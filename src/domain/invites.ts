import { openSession, type OpenedSession, type SessionSettings } from './sessions.ts';
import { AppError } from './errors.ts';
import { newLinkToken, unspentLink } from './one-time-links.ts';
import { checkNewPassword, hashPassword } from './passwords.ts';
import type { InviteRecord, Store } from './store.ts';
import { formatTimestamp } from './validation.ts';
import { recordEvent } from './webhooks.ts';
import type { ActionContext } from './context.ts';
import { mailInvite, mailing, type NoticeContext } from './mail.ts';

/** How long an invite link works. */
export const INVITE_TTL_SECONDS = 7 * 86_400;

/**
 * An invite as the admin who made it learns of it. Email off: the link's token, shown once, for the admin to
 * pass on. Email on: only the address it was mailed to; the link goes to that address alone, so that opening
 * it proves the invitee owns the address (docs/notifications.md, "Email").
 */
export type IssuedInvite = { expiresAt: string } & ({ token: string } | { emailedTo: string });

/** Makes an invite for a pending member, in the caller's transaction, and mails it when email is on. */
export async function createInvite(
  tx: Store, tenant: string, member: { email: string; role: string }, ctx: ActionContext,
): Promise<IssuedInvite> {
  const { token, id } = newLinkToken();
  const expiresAt = formatTimestamp(new Date(ctx.now.getTime() + INVITE_TTL_SECONDS * 1000));
  await tx.invites.insert({
    id, email: member.email, tenant, createdBy: ctx.actor, createdAt: formatTimestamp(ctx.now), expiresAt,
    ...(mailing(ctx) && { emailed: true }),
  });
  if (!mailing(ctx)) return { token, expiresAt };
  await mailInvite(tx, { ...member, tenant, invitedBy: ctx.actor, token, expiresAt }, ctx);
  return { emailedTo: member.email, expiresAt };
}

const INVALID = 'this invite link is invalid, used or expired; ask a tenant admin for a new one';

async function usableInvite(store: Store, token: string, now: Date): Promise<InviteRecord> {
  const invite = await unspentLink(token, (id) => store.invites.get(id), now);
  if (!invite) throw new AppError('invite_invalid', INVALID);
  return invite;
}

export async function describeInvite(store: Store, token: string, now: Date) {
  const invite = await usableInvite(store, token, now);
  return { email: invite.email, tenant: invite.tenant, expiresAt: invite.expiresAt };
}

/** Where an acceptance came from, for the audit log. */
export interface AcceptContext extends NoticeContext {
  clientIp?: string | undefined;
  requestId?: string | undefined;
}

/** Inside the acceptance's transaction: the invite is spent and its pending membership takes effect. */
async function joinTenant(tx: Store, invite: InviteRecord, ctx: AcceptContext) {
  const at = formatTimestamp(ctx.now);
  if (!(await tx.invites.markUsed(invite.id, at))) throw new AppError('invite_invalid', INVALID);
  if (!(await tx.members.accept(invite.tenant, invite.email, at))) throw new AppError('invite_invalid', INVALID);
  await tx.tenants.update(invite.tenant, {});
  await tx.audit.append({
    tenant: invite.tenant, time: at, actor: invite.email, action: 'member.join', target: invite.email,
    clientIp: ctx.clientIp, requestId: ctx.requestId,
  });
  const member = await tx.members.get(invite.tenant, invite.email);
  await recordEvent(tx, invite.tenant, 'member.joined', { email: invite.email, ...(member && { role: member.role }) }, ctx);
}

const accountExists = (email: string) => new AppError('account_exists',
  `an account for ${email} exists already: sign in as ${email}, then open this link again to join`);

/**
 * The invitee has no account yet and chooses a password: the account is
 * created, the membership takes effect, and the browser is signed in. For an
 * email that has an account already, the link only works signed in to it
 * (joinWithInvite): holding a link never sets an existing account's password.
 */
export async function acceptInvite(
  store: Store, token: string, password: string, ctx: AcceptContext, settings: SessionSettings,
): Promise<{ email: string; session: OpenedSession }> {
  const invite = await usableInvite(store, token, ctx.now);
  checkNewPassword(password, invite.email);
  if (await store.users.get(invite.email)) throw accountExists(invite.email);
  const passwordHash = await hashPassword(password);
  const session = await store.transaction(async (tx) => {
    const at = formatTimestamp(ctx.now);
    const user = { email: invite.email, passwordHash, mustChangePassword: false, createdAt: at, passwordChangedAt: at };
    if (!(await tx.users.insert(invite.emailed ? { ...user, emailProof: 'email' } : user))) {
      throw accountExists(invite.email);
    }
    await joinTenant(tx, invite, ctx);
    return openSession(tx, invite.email, ctx.now, settings);
  });
  return { email: invite.email, session };
}

/** The invitee, signed in to the invited email's account, joins the tenant. */
export async function joinWithInvite(store: Store, token: string, signedInAs: string, ctx: AcceptContext): Promise<void> {
  const invite = await usableInvite(store, token, ctx.now);
  if (invite.email !== signedInAs) {
    throw new AppError('invite_for_another_account', `this invite is for ${invite.email}; sign in as ${invite.email} to join`);
  }
  await store.transaction((tx) => joinTenant(tx, invite, ctx));
}
