import { randomBytes } from 'node:crypto';
import type { ActionContext } from './context.ts';
import { AppError } from './errors.ts';
import { strongerRole } from './provider-groups.ts';
import type { Role } from './roles.ts';
import { sha256Hex } from './digest.ts';
import { checkNewPassword, generateOneTimePassword, hashPassword, verifyAgainstNothing, verifyPassword } from './passwords.ts';
import type { SessionRecord, Store, UserRecord } from './store.ts';
import { canonicalEmail } from './email.ts';
import { formatTimestamp, parseRfc3339 } from './validation.ts';

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

/** Operator action: a fresh one-time password; every session of the account ends. */
export async function resetPassword(store: Store, rawEmail: string, now: Date): Promise<string> {
  const email = canonicalEmail('email', rawEmail);
  if (!(await store.users.get(email))) throw new AppError('user_not_found', `no console account for ${email}`);
  const password = generateOneTimePassword();
  await store.users.setPassword(email, await hashPassword(password), true, formatTimestamp(now));
  await store.users.setEmailProof(email, 'operator');
  await store.sessions.removeAllFor(email);
  return password;
}

/** No password verifies against this: an account made through the identity provider has no local password. */
export const NO_PASSWORD = '';

export async function signIn(
  store: Store, rawEmail: string, password: string, now: Date, settings: SessionSettings,
): Promise<{ session: OpenedSession; user: UserRecord }> {
  const email = canonicalEmail('email', rawEmail.trim());
  const user = await store.users.get(email);
  // An account made through the identity provider has no password: it takes as long as a missing one.
  const ok = user && user.passwordHash !== NO_PASSWORD
    ? await verifyPassword(user.passwordHash, password) : await verifyAgainstNothing(password);
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
  return store.users.get(canonicalEmail('email', rawEmail));
}

export interface Membership {
  tenant: string;
  role: Role;
  /** The identity provider's groups grant a role here (the stronger of the two roles applies). */
  viaProvider?: true;
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

/**
 * A person's role in one tenant: the stronger of what the provider's groups give and what Kupe's members list
 * gives (a pending membership gives nothing). Admin through the groups needs no read.
 */
export async function personRole(
  store: Store, tenant: string, email: string, providerRole: Role | undefined,
): Promise<Role | undefined> {
  if (providerRole === 'admin') return 'admin';
  const member = await store.members.get(tenant, email);
  return strongerRole(providerRole, member?.pending ? undefined : member?.role);
}

/** How a person signed in or out, for the audit log of each tenant they act in. */
export interface SessionEvent {
  email: string;
  method: 'password' | 'oidc';
  providerRoles?: Readonly<Record<string, Role>> | undefined;
  ctx: Omit<ActionContext, 'actor'>;
}

/** One audit entry per tenant the person may act in: each tenant's admins see who came and went. */
export async function recordSessionEvent(store: Store, action: 'session.signin' | 'session.signout', event: SessionEvent) {
  const memberships = await listMemberships(store, event.email, event.providerRoles);
  const time = formatTimestamp(event.ctx.now);
  for (const { tenant } of memberships) {
    await store.audit.append({
      tenant, time, actor: event.email, action, target: event.method,
      clientIp: event.ctx.clientIp, requestId: event.ctx.requestId,
    });
  }
}

/** What the identity provider vouched for at sign-in (from its verified ID token). */
export interface ProviderIdentity {
  /** The ID token's `iss` and `sub`: the person at the provider, whatever their email becomes. */
  issuer: string;
  subject: string;
  email: string;
  emailVerified: boolean;
  /** From the groups claim; undefined when the ID token has none (then only Kupe's members list applies). */
  roles: ReadonlyMap<string, Role> | undefined;
}

export interface ProviderSignIn {
  session: OpenedSession;
  user: UserRecord;
  providerRoles: Record<string, Role>;
  /**
   * Set when this sign-in voided a password that nobody had proven the email for: the tenants the account is
   * a member of, for the person to check (one they do not know may be someone else's doing).
   */
  voidedPassword?: { tenants: string[] };
}

/**
 * Links the provider's identity to the account of its email, or checks the link there is: an identity signs
 * in to one account, and an account takes one identity per issuer. A provider that gives an address to
 * someone new (another `sub`) does not hand over the account that address named.
 */
async function linkIdentity(tx: Store, identity: ProviderIdentity, email: string, at: string): Promise<void> {
  const linked = await tx.identities.get(identity.issuer, identity.subject);
  if (linked && linked.email !== email) {
    throw new AppError('identity_conflict', `your identity at the provider signs in to the Kupe account ${linked.email}, ` +
      `but the provider now gives your email as ${email}; ask your operator to unlink ${linked.email}`);
  }
  if (linked) return;
  const other = await tx.identities.ofAccount(email, identity.issuer);
  if (other) {
    throw new AppError('identity_conflict', `the Kupe account ${email} belongs to another identity at the provider ` +
      '(an address given to someone new does not hand over the account); ask your operator');
  }
  if (!(await tx.identities.insert({ issuer: identity.issuer, subject: identity.subject, email, linkedAt: at }))) {
    throw new AppError('identity_conflict', `the Kupe account ${email} was linked to another identity at this moment; sign in again`);
  }
}

/**
 * Sign-in through the identity provider: the email must be verified by the provider; the account is made on
 * first sign-in (without a local password) and linked to the provider's identity (issuer and subject); the
 * provider's roles are kept with the session, for tenants that exist.
 *
 * An account whose password nobody proved the email for (chosen through an invite link, which only proves the
 * link was held) is not merged silently: its password is voided, every session of it ends, every tenant it is
 * a member of gets an audit entry, and the answer says so (docs/security.md, "One person, one account").
 */
export async function signInWithProvider(
  store: Store, identity: ProviderIdentity, ctx: Omit<ActionContext, 'actor'>, settings: SessionSettings,
): Promise<ProviderSignIn> {
  if (!identity.emailVerified) {
    throw new AppError('invalid_credentials', `the identity provider has not verified ${identity.email}: Kupe signs in verified emails only`);
  }
  const email = canonicalEmail('email', identity.email);
  const at = formatTimestamp(ctx.now);
  const { user, voidedPassword } = await store.transaction(async (tx) => {
    await linkIdentity(tx, identity, email, at);
    await tx.users.insert({
      email, passwordHash: NO_PASSWORD, mustChangePassword: false, createdAt: at, passwordChangedAt: at, emailProof: 'provider',
    });
    const found = await tx.users.get(email);
    if (!found) throw new Error(`account ${email} vanished after its insert`);
    let voided: { tenants: string[] } | undefined;
    if (found.passwordHash !== NO_PASSWORD && found.emailProof === undefined) {
      await tx.users.setPassword(email, NO_PASSWORD, false, at);
      await tx.sessions.removeAllFor(email);
      const tenants = (await tx.members.tenantsOf(email)).map((m) => m.tenant);
      for (const tenant of tenants) {
        await tx.audit.append({
          tenant, time: at, actor: email, action: 'account.password_voided', target: email,
          clientIp: ctx.clientIp, requestId: ctx.requestId,
        });
      }
      voided = { tenants };
    }
    if (found.emailProof !== 'provider') await tx.users.setEmailProof(email, 'provider');
    const user: UserRecord = { ...found, emailProof: 'provider', ...(voided && { passwordHash: NO_PASSWORD, mustChangePassword: false }) };
    return { user, voidedPassword: voided };
  });
  const providerRoles: Record<string, Role> = {};
  for (const [tenant, role] of identity.roles ?? []) {
    if (await store.tenants.get(tenant)) providerRoles[tenant] = role;
  }
  const session = await openSession(store, email, ctx.now, settings, { roles: providerRoles });
  return { session, user, providerRoles, ...(voidedPassword && { voidedPassword }) };
}

/**
 * For an access token of the provider (issuer, subject, canonical email): whether it may act as that email.
 * Not when the identity is linked to another account, nor when the email's account is linked to another
 * identity of that issuer (the provider gave the address to someone new). An identity never seen is taken
 * (tokens make no account and link nothing: the first console sign-in does).
 */
export async function providerIdentityMatches(store: Store, issuer: string, subject: string, email: string): Promise<boolean> {
  const linked = await store.identities.get(issuer, subject);
  if (linked) return linked.email === email;
  return (await store.identities.ofAccount(email, issuer)) === undefined;
}

/** Operator action: the account's provider identities are unlinked (the next provider sign-in links anew). */
export async function unlinkProviderIdentities(store: Store, rawEmail: string): Promise<number> {
  const email = canonicalEmail('email', rawEmail);
  if (!(await store.users.get(email))) throw new AppError('user_not_found', `no console account for ${email}`);
  return store.identities.removeFor(email);
}

export async function signOut(store: Store, token: string): Promise<void> {
  await store.sessions.remove(sha256Hex(token));
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

