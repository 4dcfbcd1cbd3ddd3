import type { ActionContext } from './context.ts';
import { AppError } from './errors.ts';
import { OPERATOR_ACTOR } from './roles.ts';
import type { MemberRecord, Plan, Store, TenantChanges, TenantRecord } from './store.ts';
import { canonicalEmail } from './email.ts';
import { formatTimestamp, isTenantName, normalizeDisplayName } from './validation.ts';

export interface TenantView extends TenantRecord {
  members: MemberRecord[];
}

/**
 * If-Match is compared tolerantly: `W/` and quotes are stripped, a list
 * matches when any entry does, and `*` matches any version.
 */
export function etagMatches(ifMatch: string, resourceVersion: number): boolean {
  return ifMatch.split(',').some((part) => {
    const tag = part.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
    return tag === '*' || tag === String(resourceVersion);
  });
}

/** Locks the tenant and checks If-Match; shared by every tenant and member write. */
/** How much one tenant may hold: bounds the cost of its lists, and what one tenant can take from the others. */
export interface TenantCaps {
  /** Active (not revoked) API keys. */
  maxApiKeys: number;
  maxMembers: number;
}

export const DEFAULT_TENANT_CAPS: Readonly<TenantCaps> = Object.freeze({ maxApiKeys: 1000, maxMembers: 1000 });

export async function lockTenantForWrite(
  tx: Store,
  name: string,
  ifMatch: string | undefined,
): Promise<TenantRecord> {
  const tenant = await tx.tenants.lock(name);
  if (!tenant) throw new AppError('tenant_not_found', `tenant ${name} not found`);
  if (ifMatch !== undefined && !etagMatches(ifMatch, tenant.resourceVersion)) {
    throw new AppError('etag_mismatch', 'etag mismatch');
  }
  return tenant;
}

export async function getTenant(store: Store, name: string): Promise<TenantView> {
  const tenant = await store.tenants.get(name);
  if (!tenant) throw new AppError('tenant_not_found', `tenant ${name} not found`);
  return { ...tenant, members: await store.members.list(name) };
}

export function listTenants(store: Store): Promise<TenantRecord[]> {
  return store.tenants.list();
}

export interface CreateTenantInput {
  name: string;
  adminEmail: string;
  displayName?: string | undefined;
  plan?: Plan | undefined;
}

/** Operator action: a tenant is born with its first admin. */
export async function createTenant(store: Store, input: CreateTenantInput, now: Date): Promise<TenantView> {
  if (!isTenantName(input.name)) {
    throw new AppError('invalid_tenant_name', 'invalid tenant name');
  }
  const adminEmail = canonicalEmail('admin', input.adminEmail);
  const tenant: TenantRecord = {
    name: input.name,
    displayName: normalizeDisplayName('displayName', input.displayName ?? input.name),
    contactEmail: adminEmail,
    plan: input.plan ?? 'starter',
    enforceMetricsLimit: true,
    enforceLogLimit: true,
    resourceVersion: 1,
    createdAt: formatTimestamp(now),
    phase: 'Active',
  };
  const admin: MemberRecord = { email: adminEmail, role: 'admin' };
  await store.transaction(async (tx) => {
    if (!(await tx.tenants.insert(tenant))) {
      throw new AppError('tenant_already_exists', `tenant ${input.name} already exists`);
    }
    await tx.members.insert(tenant.name, admin, tenant.createdAt, tenant.createdAt); // the operator's word: in effect at once
    await tx.audit.append({
      tenant: tenant.name, time: tenant.createdAt, actor: OPERATOR_ACTOR,
      action: 'tenant.create', target: tenant.name,
    });
  });
  return { ...tenant, members: [admin] };
}

/**
 * Who may move a tenant to another plan: the operator only (plans are billing's decision), unless the operator
 * lets tenant admins do it too (KUPE_TENANT_ADMINS_CHANGE_PLAN).
 */
export interface PlanPolicy {
  adminsChangePlan: boolean;
}

export async function updateTenant(
  store: Store,
  name: string,
  changes: TenantChanges,
  ifMatch: string | undefined,
  ctx: ActionContext,
  policy: PlanPolicy = { adminsChangePlan: false },
): Promise<TenantView> {
  const wanted: TenantChanges = { ...changes };
  if (wanted.displayName !== undefined) {
    wanted.displayName = normalizeDisplayName('displayName', wanted.displayName);
  }
  await store.transaction(async (tx) => {
    const current = await lockTenantForWrite(tx, name, ifMatch);
    const changed = (Object.keys(wanted) as (keyof TenantChanges)[]).filter(
      (field) => wanted[field] !== current[field],
    );
    // Sending the current plan back (a client that PATCHes the whole object) is no change.
    if (changed.includes('plan') && ctx.actor !== OPERATOR_ACTOR && !policy.adminsChangePlan) {
      throw new AppError('plan_change_forbidden', `the plan of ${name} is changed by the operator (kupe-server tenants set-plan), ` +
        `not by tenant admins; it stays ${current.plan}`);
    }
    if (changed.length === 0) return; // nothing changes, so neither does resourceVersion
    await tx.tenants.update(name, wanted);
    await tx.audit.append({
      tenant: name, time: formatTimestamp(ctx.now), actor: ctx.actor, action: 'tenant.update',
      target: `${name} (${changed.join(', ')})`, clientIp: ctx.clientIp, requestId: ctx.requestId,
    });
  });
  return getTenant(store, name);
}

/**
 * Operator action (docs/behaviour.md, "Disabled tenants and accounts"): a disabled tenant's keys and members
 * are refused (403 `tenant_disabled`) until it is enabled again; nothing of it is deleted. Disabling reaches
 * every key cache before it returns, like a revocation. `changed` is false when it already was so.
 */
export async function setTenantDisabled(
  store: Store, name: string, disabled: boolean, ctx: ActionContext,
): Promise<{ tenant: TenantRecord; changed: boolean }> {
  if (!isTenantName(name)) throw new AppError('invalid_tenant_name', 'invalid tenant name');
  return store.transaction(async (tx) => {
    const tenant = await lockTenantForWrite(tx, name, undefined);
    if ((tenant.disabledAt !== undefined) === disabled) return { tenant, changed: false };
    const at = formatTimestamp(ctx.now);
    await tx.tenants.setDisabled(name, disabled ? at : null);
    await tx.audit.append({
      tenant: name, time: at, actor: ctx.actor, action: disabled ? 'tenant.disable' : 'tenant.enable', target: name,
      clientIp: ctx.clientIp, requestId: ctx.requestId,
    });
    return { tenant: { ...tenant, disabledAt: disabled ? at : undefined }, changed: true };
  });
}
