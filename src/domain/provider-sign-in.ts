import { accountDisabled, NO_PASSWORD } from './accounts.ts';
import type { ActionContext } from './context.ts';
import { canonicalEmail } from './email.ts';
import { AppError } from './errors.ts';
import type { Role } from './roles.ts';
import { openSession, type OpenedSession, type SessionSettings } from './sessions.ts';
import type { Store, UserRecord } from './store.ts';
import { formatTimestamp } from './validation.ts';

// Sign-in through the identity provider, and the rules of "one person, one account" (docs/security.md):
// identities linked by issuer and subject, and an unproven password voided when the provider vouches.

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
    if ((await tx.users.get(email))?.disabledAt !== undefined) throw accountDisabled(email);
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
