import type { ActionContext } from './context.ts';
import { AppError } from './errors.ts';
import type { Principal, Role } from './roles.ts';
import type { AuditAction, MemberRecord, Store } from './store.ts';
import { createInvite, type IssuedInvite } from './invites.ts';
import { DEFAULT_TENANT_CAPS, lockTenantForWrite, type TenantCaps } from './tenants.ts';
import { canonicalEmail } from './email.ts';
import { formatTimestamp } from './validation.ts';
import { recordEvent } from './webhooks.ts';

export function listMembers(store: Store, tenant: string): Promise<MemberRecord[]> {
  return store.members.list(tenant);
}

/**
 * Every membership change locks the tenant, checks If-Match, changes the
 * member, bumps resourceVersion and writes the audit entry in one transaction.
 */
async function changeMembership<T>(
  store: Store,
  tenant: string,
  ifMatch: string | undefined,
  ctx: ActionContext,
  audit: { action: AuditAction; target: string },
  change: (tx: Store) => Promise<T>,
): Promise<T> {
  return store.transaction(async (tx) => {
    await lockTenantForWrite(tx, tenant, ifMatch);
    const result = await change(tx);
    await tx.tenants.update(tenant, {});
    await tx.audit.append({
      tenant, time: formatTimestamp(ctx.now), actor: ctx.actor, ...audit,
      clientIp: ctx.clientIp, requestId: ctx.requestId,
    });
    return result;
  });
}

async function requireMember(tx: Store, tenant: string, email: string): Promise<MemberRecord> {
  const member = await tx.members.get(tenant, email);
  if (!member) throw new AppError('member_not_found', 'member not found');
  return member;
}

async function refuseLastAdmin(tx: Store, tenant: string, member: MemberRecord, verb: string) {
  if (member.role === 'admin' && !member.pending && (await tx.members.countAdmins(tenant)) <= 1) {
    throw new AppError(
      'last_admin',
      `cannot ${verb} ${member.email}: a tenant must keep at least one admin; promote another member to admin first`,
    );
  }
}

/**
 * Adds a member, pending: listed at once, but granting nothing until the
 * invite (returned once, for the admin to pass on to that person; with email
 * on, mailed to that address instead and never shown) is accepted, by choosing a password when the email has no account yet, or by
 * signing in to that account and joining. Whether the email has an account
 * is not said: the answer is the same either way. So an admin who adds an
 * email they do not own gets no access through it, and learns nothing.
 */
export async function addMember(
  store: Store, tenant: string, input: { email: string; role: Role },
  ifMatch: string | undefined, ctx: ActionContext, caps: TenantCaps = DEFAULT_TENANT_CAPS,
): Promise<{ member: MemberRecord; invite: IssuedInvite }> {
  const member: MemberRecord = { email: canonicalEmail('email', input.email), role: input.role, pending: true };
  return changeMembership(store, tenant, ifMatch, ctx,
    { action: 'member.add', target: `${member.email} (${member.role})` },
    async (tx) => {
      if ((await tx.members.count(tenant)) >= caps.maxMembers) {
        throw new AppError('member_limit_reached',
          `tenant ${tenant} has ${caps.maxMembers} members, the most allowed (KUPE_MAX_MEMBERS_PER_TENANT); remove one first`);
      }
      if (!(await tx.members.insert(tenant, member, formatTimestamp(ctx.now)))) {
        throw new AppError('member_already_exists', 'member already exists');
      }
      await recordEvent(tx, tenant, 'member.added', { email: member.email, role: member.role, addedBy: ctx.actor }, ctx);
      return { member, invite: await createInvite(tx, tenant, member, ctx) };
    });
}

export async function updateMember(
  store: Store, tenant: string, rawEmail: string, input: { role: Role },
  ifMatch: string | undefined, ctx: ActionContext,
): Promise<MemberRecord> {
  const email = canonicalEmail('email', rawEmail);
  return changeMembership(store, tenant, ifMatch, ctx,
    { action: 'member.update', target: `${email} (${input.role})` },
    async (tx) => {
      const member = await requireMember(tx, tenant, email);
      if (input.role !== 'admin') await refuseLastAdmin(tx, tenant, member, 'demote');
      await tx.members.setRole(tenant, email, input.role);
      await recordEvent(tx, tenant, 'member.role_changed', { email, role: input.role, previousRole: member.role, changedBy: ctx.actor }, ctx);
      return { ...member, role: input.role };
    });
}

export async function removeMember(
  store: Store, tenant: string, rawEmail: string, principal: Principal,
  ifMatch: string | undefined, ctx: ActionContext,
): Promise<void> {
  const email = canonicalEmail('email', rawEmail);
  if (principal.kind === 'member' && principal.email === email) {
    throw new AppError('cannot_remove_self', 'you cannot remove yourself from a tenant; ask another admin');
  }
  await changeMembership(store, tenant, ifMatch, ctx, { action: 'member.remove', target: email },
    async (tx) => {
      const member = await requireMember(tx, tenant, email);
      await refuseLastAdmin(tx, tenant, member, 'remove');
      await tx.members.remove(tenant, email);
      await tx.invites.removeFor(tenant, email); // its link stops working with it
      await recordEvent(tx, tenant, 'member.removed', { email, role: member.role, removedBy: ctx.actor }, ctx);
    });
}

/**
 * A fresh invite link for a member who has not joined yet (the first one was
 * lost, expired, or went to a client that does not show it, such as the CLI;
 * with email on, "send again"); earlier links of that membership stop working.
 */
export async function reissueInvite(store: Store, tenant: string, rawEmail: string, ctx: ActionContext): Promise<IssuedInvite> {
  const email = canonicalEmail('email', rawEmail);
  return store.transaction(async (tx) => {
    const member = await requireMember(tx, tenant, email);
    if (!member.pending) throw new AppError('member_not_pending', `${email} has joined already; no invite is needed`);
    await tx.invites.removeFor(tenant, email);
    const invite = await createInvite(tx, tenant, member, ctx);
    await tx.audit.append({
      tenant, time: formatTimestamp(ctx.now), actor: ctx.actor, action: 'member.invite', target: email,
      clientIp: ctx.clientIp, requestId: ctx.requestId,
    });
    return invite;
  });
}
