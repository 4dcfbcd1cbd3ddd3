import type { AuditAction, EventType, Plan, RevokeReason, Role, WebhookEvent } from './vocabulary.ts';

export type { AuditAction, Plan };

/**
 * The store as the domain sees it. src/store implements it with Kysely; the
 * domain never imports that implementation.
 */
export interface TenantRecord {
  name: string;
  displayName: string;
  contactEmail: string;
  plan: Plan;
  enforceMetricsLimit: boolean;
  enforceLogLimit: boolean;
  resourceVersion: number;
  createdAt: string;
  phase: 'Active' | 'Terminating';
  /** Set while the operator has the tenant disabled (docs/behaviour.md, "Disabled tenants and accounts"). */
  disabledAt?: string | undefined;
}

export interface MemberRecord {
  email: string;
  role: Role;
  /** Listed, but grants nothing until the invite is accepted. Absent once accepted. */
  pending?: true;
}

export interface ApiKeyRecord {
  id: string;
  tenant: string;
  displayName: string;
  role: Role;
  /** SHA-256 of the raw key, hex. */
  digest: string;
  createdBy: string;
  createdAt: string;
  expiresAt?: string | undefined;
  lastUsedAt?: string | undefined;
  revokedAt?: string | undefined;
  /** Who revoked it (a member's email, a key's id, `operator`): set with revokedAt. */
  revokedBy?: string | undefined;
  revokeReason?: RevokeReason | undefined;
  /** Revoked as leaked: where it was found (the URL a scanner reported, or the operator's note). */
  leakSource?: string | undefined;
  /** Revoked as leaked: when and by whom a tenant admin acknowledged it (the console shows a banner until then). */
  leakAcknowledgedAt?: string | undefined;
  leakAcknowledgedBy?: string | undefined;
}

/** A key as verification reads it: the row, and whether its tenant is disabled. */
export interface KeyForVerification extends ApiKeyRecord {
  tenantDisabled: boolean;
}

/** What a revocation records with the row. */
export interface Revocation {
  /** Who: a member's email, a key's id, `operator`, or the scanner that reported a leak. */
  by: string;
  at: string;
  reason: RevokeReason;
  /** Reason `leaked`: where it was found, if known. */
  leakSource?: string | undefined;
}

export interface AuditRecord {
  id: string;
  tenant: string;
  time: string;
  actor: string;
  action: AuditAction;
  target: string;
  clientIp?: string | undefined;
  requestId?: string | undefined;
}


export type TenantChanges = Partial<
  Pick<TenantRecord, 'displayName' | 'plan' | 'enforceMetricsLimit' | 'enforceLogLimit'>
>;

export interface TenantRepository {
  get(name: string): Promise<TenantRecord | undefined>;
  list(): Promise<TenantRecord[]>;
  /** Inserts; false when the name is taken. */
  insert(tenant: TenantRecord): Promise<boolean>;
  /**
   * Reads the tenant inside a transaction and holds it against concurrent
   * writers until the transaction ends, so rules that span rows (the last
   * admin, If-Match) cannot race.
   */
  lock(name: string): Promise<TenantRecord | undefined>;
  /** Applies the changes (if any) and increments resourceVersion. */
  update(name: string, changes: TenantChanges): Promise<void>;
  /**
   * Disables the tenant (`at`) or enables it (null). Disabling is heard like a revocation: this process's key
   * cache forgets the tenant's keys at once and, on PostgreSQL, every other instance's has before the
   * transaction's commit returns.
   */
  setDisabled(name: string, at: string | null): Promise<void>;
  /** Which of these tenants are disabled. */
  disabledAmong(names: readonly string[]): Promise<Set<string>>;
}

export interface MemberRepository {
  list(tenant: string): Promise<MemberRecord[]>;
  get(tenant: string, email: string): Promise<MemberRecord | undefined>;
  /** Inserts (pending unless `acceptedAt`); false when the member exists. */
  insert(tenant: string, member: Pick<MemberRecord, 'email' | 'role'>, createdAt: string, acceptedAt?: string): Promise<boolean>;
  /** A pending membership takes effect; false when there is none. */
  accept(tenant: string, email: string, at: string): Promise<boolean>;
  setRole(tenant: string, email: string, role: Role): Promise<void>;
  remove(tenant: string, email: string): Promise<void>;
  /** Admins whose membership is in effect. */
  countAdmins(tenant: string): Promise<number>;
  count(tenant: string): Promise<number>;
  /** Every tenant the email belongs to (accepted memberships only), with its role there. */
  tenantsOf(email: string): Promise<{ tenant: string; role: Role }[]>;
  /**
   * In one read, what a person's request to a tenant needs: their role from the members list (accepted
   * memberships only) and whether the tenant is disabled (false when there is no such tenant).
   */
  access(tenant: string, email: string): Promise<{ role: Role | undefined; tenantDisabled: boolean }>;
}

export interface ApiKeyRepository {
  /** The row by primary key, revoked or not. */
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /**
   * The row as verification needs it (id, tenant, role, digest, expiry, revocation), possibly from a cache
   * that hears every revocation before it answers: other fields (lastUsedAt) may be stale. A row at hand (a
   * cached one, SQLite's) comes at once, not in a promise: this runs on every verification.
   */
  getForVerification(id: string): KeyForVerification | undefined | Promise<KeyForVerification | undefined>;
  /** Keys of the tenant that are not revoked, oldest first. */
  listActive(tenant: string): Promise<ApiKeyRecord[]>;
  /** Every active key (any tenant) that has an expiry: what the expiry warnings look at. */
  listWithExpiry(): Promise<ApiKeyRecord[]>;
  /** Which expiry notices these keys have had. */
  noticesOf(keyIds: readonly string[]): Promise<{ keyId: string; notice: string }[]>;
  /** Records a notice; false when it was recorded before (by this instance or another). */
  recordNotice(keyId: string, notice: string, at: string): Promise<boolean>;
  /** Keys of the tenant that are revoked, the latest revoked first. */
  listRevoked(tenant: string): Promise<ApiKeyRecord[]>;
  /** Deletes keys revoked before `time` (retention); how many. */
  purgeRevokedBefore(time: string): Promise<number>;
  countActive(tenant: string): Promise<number>;
  /** Inserts; false when the id is taken. */
  insert(key: ApiKeyRecord): Promise<boolean>;
  /** Soft delete; false when the key is unknown, in another tenant or already revoked. */
  revoke(tenant: string, id: string, revocation: Revocation): Promise<boolean>;
  /** Marks a leaked key's leak as seen by an admin; false when it is not a leaked key of the tenant or was already. */
  acknowledgeLeak(tenant: string, id: string, by: string, at: string): Promise<boolean>;
  /** Moves lastUsedAt forward (never back) for each key. */
  recordLastUsed(uses: ReadonlyMap<string, string>): Promise<void>;
}

export interface AuditFilter {
  action?: AuditAction | undefined;
  actor?: string | undefined;
}

export interface AuditRepository {
  append(entry: Omit<AuditRecord, 'id'>): Promise<void>;
  /** Newest first; `before` is the id of the last entry already seen. */
  list(tenant: string, limit: number, before?: string, filter?: AuditFilter): Promise<AuditRecord[]>;
  /** Deletes up to `batch` entries older than `time`; returns how many. */
  purgeBefore(time: string, batch: number): Promise<number>;
}

/**
 * How an account's email was proven: the identity provider vouched for it (`email_verified: true`), or the
 * operator created or reset the account. Absent: nothing proved it (a password chosen through an invite
 * link proves only that the link was held). docs/security.md, "One person, one account".
 */
/**
 * How the account's address is known to be its owner's: the identity provider verified it, the operator made
 * the account, or a link mailed to it was opened (an invite or a password reset, with email on).
 */
export type EmailProof = 'provider' | 'operator' | 'email';

export interface UserRecord {
  email: string;
  /** argon2id, PHC string format; NO_PASSWORD (src/domain/accounts.ts) for none. */
  passwordHash: string;
  mustChangePassword: boolean;
  createdAt: string;
  passwordChangedAt: string;
  emailProof?: EmailProof | undefined;
  /** Set while the operator has the account disabled (docs/behaviour.md, "Disabled tenants and accounts"). */
  disabledAt?: string | undefined;
}

/** An identity at the identity provider, linked to the account it signed in to. */
export interface ProviderIdentityRecord {
  issuer: string;
  subject: string;
  email: string;
  linkedAt: string;
}

export interface ProviderIdentityRepository {
  get(issuer: string, subject: string): Promise<ProviderIdentityRecord | undefined>;
  /** The identity of this issuer linked to the account, if any. */
  ofAccount(email: string, issuer: string): Promise<ProviderIdentityRecord | undefined>;
  /** Inserts; false when the identity or the account's link for that issuer exists. */
  insert(identity: ProviderIdentityRecord): Promise<boolean>;
  /** Unlinks the account from every provider identity; returns how many. */
  removeFor(email: string): Promise<number>;
}

export interface SessionRecord {
  /** SHA-256 of the cookie's token, hex. */
  id: string;
  email: string;
  csrfToken: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  /** Set when the person signed in through the identity provider. */
  method?: 'oidc' | undefined;
  /** The roles by tenant the provider's groups claim gave at sign-in (tenants that existed then). */
  providerRoles?: Readonly<Record<string, Role>> | undefined;
}

export interface InviteRecord {
  /** SHA-256 of the link's token, hex. */
  id: string;
  email: string;
  tenant: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt?: string | undefined;
  /** Mailed to its address (email on): accepting it proves the address is the invitee's. */
  emailed?: true | undefined;
}

export interface UserRepository {
  get(email: string): Promise<UserRecord | undefined>;
  /** Every account, by email (the operator CLI's list). */
  list(): Promise<UserRecord[]>;
  /** Inserts; false when the account exists. */
  insert(user: UserRecord): Promise<boolean>;
  setPassword(email: string, passwordHash: string, mustChange: boolean, at: string): Promise<void>;
  setEmailProof(email: string, proof: EmailProof): Promise<void>;
  /** Disables the account (`at`) or enables it (null). */
  setDisabled(email: string, at: string | null): Promise<void>;
  /** Whether the email's account is disabled (false when there is none): read on every access token's request. */
  isDisabled(email: string): Promise<boolean>;
}

export interface SessionRepository {
  get(id: string): Promise<SessionRecord | undefined>;
  insert(session: SessionRecord): Promise<void>;
  touch(id: string, at: string): Promise<void>;
  remove(id: string): Promise<void>;
  removeAllFor(email: string): Promise<void>;
  /** Deletes sessions that ended (past expiresAt, or idle since `idleBefore`) before `endedBefore`; returns how many. */
  purgeEnded(endedBefore: string, idleBefore: string): Promise<number>;
}

export interface InviteRepository {
  get(id: string): Promise<InviteRecord | undefined>;
  insert(invite: InviteRecord): Promise<void>;
  /** False when already used. */
  markUsed(id: string, at: string): Promise<boolean>;
  /** Unused invites of a membership are deleted (the member was removed). */
  removeFor(tenant: string, email: string): Promise<void>;
  /** Deletes invites used or expired before `time`; returns how many. */
  purgeBefore(time: string): Promise<number>;
}

/**
 * Why the store could not do its work, when the cause is the database and
 * not the request: the request may succeed later, so callers answer 503.
 */
export type StoreFaultKind = 'unavailable' | 'timeout' | 'locked' | 'disk_full' | 'read_only' | 'corrupt' | 'io_error';

export interface StoreFault {
  kind: StoreFaultKind;
  /** The driver's own words (error code and message), for the log. */
  detail: string;
}

export interface WebhookEndpointRecord {
  id: string;
  tenant: string;
  url: string;
  events: WebhookEvent[];
  /** The Standard Webhooks signing secret (whsec_...). */
  secret: string;
  enabled: boolean;
  createdBy: string;
  createdAt: string;
  /** Set when a delivery to it failed for good; cleared when one succeeds. */
  failingSince?: string | undefined;
}

export interface OutboxEventRecord {
  /** The webhook-id of every delivery of the event. */
  id: string;
  tenant: string;
  type: EventType;
  /** The body every delivery sends. */
  payload: string;
  createdAt: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: EventType;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string;
  lastAttemptAt?: string | undefined;
  lastStatus?: number | undefined;
  lastError?: string | undefined;
  createdAt: string;
}

/** A delivery an instance has claimed: what to send, where, signed with what. */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
  endpoint: Pick<WebhookEndpointRecord, 'id' | 'tenant' | 'url' | 'secret' | 'failingSince'>;
  event: Pick<OutboxEventRecord, 'id' | 'type' | 'payload'>;
}

export interface WebhookRepository {
  listEndpoints(tenant: string): Promise<WebhookEndpointRecord[]>;
  getEndpoint(tenant: string, id: string): Promise<WebhookEndpointRecord | undefined>;
  countEndpoints(tenant: string): Promise<number>;
  /** False when the id is taken. */
  insertEndpoint(endpoint: WebhookEndpointRecord): Promise<boolean>;
  updateEndpoint(tenant: string, id: string, changes: { url?: string; events?: WebhookEvent[]; enabled?: boolean; failingSince?: string | null }): Promise<boolean>;
  /** Deletes the endpoint and its deliveries; false when there was none. */
  deleteEndpoint(tenant: string, id: string): Promise<boolean>;
  /** The event, and a pending delivery of it to each endpoint named (in the caller's transaction). */
  appendEvent(event: OutboxEventRecord, endpointIds: readonly string[]): Promise<void>;
  /**
   * Claims up to `limit` due deliveries, at most one per endpoint and only its earliest pending one, none
   * claimed by another instance (PostgreSQL: SKIP LOCKED), each held until `lockUntil`; counts the attempt.
   */
  claimDue(now: string, lockUntil: string, limit: number): Promise<ClaimedDelivery[]>;
  /** What an attempt came to: delivered, failed for good, or pending again at nextAttemptAt. */
  recordAttempt(id: string, result: { state: DeliveryState; at: string; nextAttemptAt: string; status?: number | undefined; error?: string | undefined }): Promise<void>;
  /** The endpoint's latest deliveries, the newest first. */
  listDeliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]>;
  /** Deletes events (and their deliveries) created before `time` that no delivery still waits for; how many. */
  purgeBefore(time: string): Promise<number>;
}

/** A mail as the outbox keeps it until it is sent (src/domain/mail.ts writes them). */
export interface MailRecord {
  kind: string;
  tenant?: string | undefined;
  to: string;
  subject: string;
  text: string;
  html: string;
  createdAt: string;
}

/** A mail an instance has claimed to send. */
export interface ClaimedMail extends MailRecord {
  id: string;
  attempts: number;
}

export type MailState = 'pending' | 'sent' | 'failed';

export interface MailRepository {
  /** The mails, pending from their createdAt (in the caller's transaction). */
  enqueue(mails: readonly MailRecord[]): Promise<void>;
  /** Claims up to `limit` due mails none claimed by another instance (PostgreSQL: SKIP LOCKED), held until `lockUntil`; counts the attempt. */
  claimDue(now: string, lockUntil: string, limit: number): Promise<ClaimedMail[]>;
  /** What an attempt came to; a mail sent or given up loses its bodies. */
  recordAttempt(id: string, result: { state: MailState; at: string; nextAttemptAt: string; error?: string | undefined }): Promise<void>;
  /** Deletes mails sent or given up before `time`; how many. */
  purgeBefore(time: string): Promise<number>;
}

/** A password reset a person asked for: the link's token is kept only as its SHA-256. */
export interface PasswordResetRecord {
  id: string;
  email: string;
  createdAt: string;
  expiresAt: string;
  usedAt?: string | undefined;
}

export interface PasswordResetRepository {
  insert(reset: PasswordResetRecord): Promise<void>;
  get(id: string): Promise<PasswordResetRecord | undefined>;
  /** When the account's latest reset was asked for. */
  latestFor(email: string): Promise<string | undefined>;
  /** False when already used. */
  markUsed(id: string, at: string): Promise<boolean>;
  /** Every unused reset of the account stops working (its password was just set). */
  removeFor(email: string): Promise<void>;
  /** Deletes resets that expired before `time`; how many. */
  purgeBefore(time: string): Promise<number>;
}

export interface Store {
  readonly tenants: TenantRepository;
  readonly users: UserRepository;
  readonly identities: ProviderIdentityRepository;
  readonly sessions: SessionRepository;
  readonly invites: InviteRepository;
  readonly members: MemberRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly audit: AuditRepository;
  readonly webhooks: WebhookRepository;
  readonly mail: MailRepository;
  readonly passwordResets: PasswordResetRepository;
  /** Runs fn atomically; every repository call inside goes through `tx`. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Throws when the store cannot serve right now (unreachable, locked against writes, damaged). */
  ping(): Promise<void>;
  /** The fault behind an error a repository threw; undefined for anything else (a bug). */
  describeFault(error: unknown): StoreFault | undefined;
  close(): Promise<void>;
}
