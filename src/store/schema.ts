import type { Generated } from 'kysely';

/** Table types: what the rows look like in SQL (snake_case, portable types). */
export interface TenantsTable {
  name: string;
  display_name: string;
  contact_email: string;
  plan: string;
  enforce_metrics_limit: number;
  enforce_log_limit: number;
  resource_version: number;
  created_at: string;
  phase: string;
  /** Set while the operator has the tenant disabled: its keys and members are refused. */
  disabled_at: string | null;
}

export interface MembersTable {
  tenant: string;
  email: string;
  role: string;
  created_at: string;
  /** null while the membership waits for its invite to be accepted. */
  accepted_at: string | null;
}

export interface ApiKeysTable {
  id: string;
  tenant: string;
  display_name: string;
  role: string;
  /** SHA-256 of the raw key, hex. Never leaves the store layer except for comparison. */
  digest: string;
  created_by: string;
  created_at: string;
  /** Exactly as the creator sent it. */
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  /** manual, rotation, leaked or operator (RevokeReason); null while the key is active. */
  revoke_reason: string | null;
  /** Revoked as leaked: where it was found (a scanner's URL, an operator's note); null otherwise. */
  leak_source: string | null;
  /** Revoked as leaked: when and by whom a tenant admin acknowledged it (the console's banner). */
  leak_acknowledged_at: string | null;
  leak_acknowledged_by: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  tenant: string;
  time: string;
  actor: string;
  action: string;
  target: string;
  client_ip: string | null;
  request_id: string | null;
}

export interface UsersTable {
  email: string;
  /** argon2id (PHC string). */
  password_hash: string;
  must_change_password: number;
  created_at: string;
  password_changed_at: string;
  /** 'provider' or 'operator'; null: nothing proved the email (src/domain/store.ts, EmailProof). */
  email_proof: string | null;
  /** Set while the operator has the account disabled: no sign-in, no access token. */
  disabled_at: string | null;
}

export interface ProviderIdentitiesTable {
  issuer: string;
  /** The provider's `sub` for the person: stable, never reassigned (OpenID Connect Core 1.0, 2). */
  subject: string;
  email: string;
  linked_at: string;
}

export interface SessionsTable {
  /** SHA-256 of the cookie's token, hex: the token itself is never stored. */
  id: string;
  email: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  /** The absolute end; the idle end is last_seen_at plus the idle timeout. */
  expires_at: string;
  /** 'oidc' for a sign-in through the identity provider; null: a password. */
  sign_in_method: string | null;
  /** JSON object tenant -> role, from the provider's groups claim at sign-in; null: none. */
  provider_roles: string | null;
}

export interface InvitesTable {
  /** SHA-256 of the link's token, hex. */
  id: string;
  email: string;
  tenant: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** 1: mailed to its address (email on), so accepting it proves the address; 0: shown to the admin. */
  emailed: Generated<number>;
}

export interface WebhookEndpointsTable {
  id: string;
  tenant: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  /** The Standard Webhooks signing secret (whsec_...): an HMAC key, so kept as it is. */
  secret: string;
  /** 1 or 0. */
  enabled: number;
  created_by: string;
  created_at: string;
  failing_since: string | null;
}

export interface OutboxEventsTable {
  /** The webhook-id every delivery of it carries. */
  id: string;
  tenant: string;
  type: string;
  /** The JSON body sent: {type, timestamp, data}. */
  payload: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: string;
  event_id: string;
  /** pending, delivered or failed. */
  state: string;
  attempts: number;
  next_attempt_at: string;
  /** While an instance sends it: no other claims it before this. */
  locked_until: string | null;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
}

export interface ExpiryNoticesTable {
  key_id: string;
  /** 14d, 7d, 1d or expired. */
  notice: string;
  sent_at: string;
}

export interface MailOutboxTable {
  id: Generated<number>;
  /** What the mail is about (src/domain/mail.ts MailKind). */
  kind: string;
  tenant: string | null;
  recipient: string;
  subject: string;
  /** The bodies: erased (null) once the mail was sent or given up, so no one-time link outlives its sending. */
  text_body: string | null;
  html_body: string | null;
  /** pending, sent or failed. */
  state: string;
  attempts: number;
  next_attempt_at: string;
  /** While an instance sends it: no other claims it before this. */
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface PasswordResetsTable {
  /** SHA-256 of the link's token, hex. */
  id: string;
  email: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface Database {
  mail_outbox: MailOutboxTable;
  password_resets: PasswordResetsTable;
  expiry_notices: ExpiryNoticesTable;
  webhook_endpoints: WebhookEndpointsTable;
  outbox_events: OutboxEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  tenants: TenantsTable;
  members: MembersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  users: UsersTable;
  sessions: SessionsTable;
  invites: InvitesTable;
  provider_identities: ProviderIdentitiesTable;
}

export type Dialect = 'sqlite' | 'postgres';

/** For `insert ... on conflict do nothing`: whether the row went in. */
export function insertedOne(result: { numInsertedOrUpdatedRows?: bigint | undefined }): boolean {
  return result.numInsertedOrUpdatedRows === 1n;
}
