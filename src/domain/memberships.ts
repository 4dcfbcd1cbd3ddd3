import type { ActionContext } from './context.ts';
import { strongerRole } from './provider-groups.ts';
import type { Role } from './roles.ts';
import type { Store } from './store.ts';
import { formatTimestamp } from './validation.ts';

// The tenants a person may act in: Kupe's members list and the identity provider's groups, combined.

export interface Membership {
  tenant: string;
  role: Role;
  /** The identity provider's groups grant a role here (the stronger of the two roles applies). */
  viaProvider?: true;
  /** The operator has disabled the tenant: the person is refused there (docs/behaviour.md). */
  disabled?: true;
}

/**
 * The tenants a person may act in, with the role in each: Kupe's members list (accepted memberships) and the
 * identity provider's groups at sign-in, combined; where both name a tenant the stronger role applies.
 */
export async function listMemberships(
  store: Store, email: string, providerRoles: Readonly<Record<string, Role>> = {},
): Promise<Membership[]> {
  const byTenant = new Map<string, Membership>();
  for (const m of await store.members.tenantsOf(email)) byTenant.set(m.tenant, { tenant: m.tenant, role: m.role });
  for (const [tenant, role] of Object.entries(providerRoles)) {
    byTenant.set(tenant, { tenant, role: strongerRole(role, byTenant.get(tenant)?.role) ?? role, viaProvider: true });
  }
  return [...byTenant.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
}

/** The memberships as the console shows them: a tenant the operator disabled is marked. */
export async function membershipsWithTenantState(
  store: Store, email: string, providerRoles: Readonly<Record<string, Role>> = {},
): Promise<Membership[]> {
  const memberships = await listMemberships(store, email, providerRoles);
  const disabled = await store.tenants.disabledAmong(memberships.map((m) => m.tenant));
  return memberships.map((m) => (disabled.has(m.tenant) ? { ...m, disabled: true } : m));
}

/**
 * A person's role in one tenant: the stronger of what the provider's groups give and what Kupe's members list
 * gives (a pending membership gives nothing); and whether the tenant is disabled. One read.
 */
export async function personAccess(
  store: Store, tenant: string, email: string, providerRole: Role | undefined,
): Promise<{ role: Role | undefined; tenantDisabled: boolean }> {
  const { role, tenantDisabled } = await store.members.access(tenant, email);
  return { role: strongerRole(providerRole, role), tenantDisabled };
}

/** How a person signed in or out, for the audit log of each tenant they act in. */
export interface SessionEvent {
  email: string;
  /** How they signed in; for a password change, whether it replaced a one-time password. */
  method: 'password' | 'oidc' | 'one-time password replaced';
  providerRoles?: Readonly<Record<string, Role>> | undefined;
  ctx: Omit<ActionContext, 'actor'>;
}

/** One audit entry per tenant the person may act in: each tenant's admins see who came and went. */
export async function recordSessionEvent(store: Store, action: 'session.signin' | 'session.signout' | 'account.password_change', event: SessionEvent) {
  const memberships = await listMemberships(store, event.email, event.providerRoles);
  const time = formatTimestamp(event.ctx.now);
  for (const { tenant } of memberships) {
    await store.audit.append({
      tenant, time, actor: event.email, action, target: event.method,
      clientIp: event.ctx.clientIp, requestId: event.ctx.requestId,
    });
  }
}
