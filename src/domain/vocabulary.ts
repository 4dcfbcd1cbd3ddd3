/**
 * Kupe's vocabulary: the roles, plans and audit actions, and the shapes of names, ids and texts. One list
 * each, imported by the domain (which checks), the API schemas (which state them in the OpenAPI document),
 * the CLI and the console. No imports and no code: the console bundles this file as it is.
 */

export const ROLES = ['admin', 'readonly'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Why a key was revoked: through the API or the console (manual), by the console's rotate flow (rotation), on a
 * secret-scanning report (leaked), by the operator's CLI (operator).
 */
export const REVOKE_REASONS = ['manual', 'rotation', 'leaked', 'operator'] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

export const PLANS = ['starter', 'pro', 'business', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Every kind of audit entry. */
export const AUDIT_ACTIONS = [
  'tenant.create', 'tenant.update', 'member.add', 'member.update', 'member.remove', 'member.invite', 'member.join',
  'apikey.create', 'apikey.revoke', 'apikey.leaked', 'apikey.leak_acknowledged', 'webhook.create', 'webhook.update', 'webhook.delete', 'session.signin', 'session.signout', 'account.password_voided', 'account.password_change',
  'tenant.disable', 'tenant.enable', 'account.disable', 'account.enable',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * What webhooks tell of (docs/notifications.md). `apikey.revoked` comes for every revocation, with its reason;
 * a leak brings `apikey.leaked` as well, with where the key was found. `webhook.test` is sent only by an
 * admin's "send test event", to that endpoint.
 */
export const EVENT_TYPES = [
  'apikey.created', 'apikey.revoked', 'apikey.leaked', 'apikey.expiring', 'apikey.expired',
  'member.added', 'member.joined', 'member.role_changed', 'member.removed',
] as const;
/** What an endpoint may ask for. */
export type WebhookEvent = (typeof EVENT_TYPES)[number];
export type EventType = WebhookEvent | 'webhook.test';

/** A webhook endpoint's id: `wh-` and 8 hex digits. */
export const WEBHOOK_ID_PATTERN = '^wh-[0-9a-f]{8}$';

/** A tenant name: a DNS label (lowercase letters, digits, hyphens; 2-63 characters). */
export const TENANT_NAME_PATTERN = '^[a-z][a-z0-9-]{0,61}[a-z0-9]$';
/** An API key's id: `ak-` and the 8 hex digits that also open the raw key. */
export const API_KEY_ID_PATTERN = '^ak-[0-9a-f]{8}$';
/** The audit log's paging cursor: an entry id. */
export const AUDIT_CURSOR_PATTERN = '^[1-9][0-9]{0,17}$';

// Character classes spelled with \uXXXX ranges only, so that a pattern made of them means the same to
// JavaScript (with the u flag: the domain, Ajv) and to Python's re (schemathesis, other generators).
export const CONTROL = '\\u0000-\\u001F\\u007F-\\u009F';
/** Bidirectional controls: they make a name display as something else (`lanif.exe` shown as `exe.final`). */
export const BIDI = '\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069';
/** What String.prototype.trim removes. */
const TRIMMED = '\\u0009-\\u000D\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
/** What shows nothing: the trimmed spaces, format characters, fillers, variation selectors, combining marks. */
const INVISIBLE = `${TRIMMED}\\u00AD\\u034F\\u0300-\\u036F\\u0600-\\u0605\\u06DD\\u070F\\u115F\\u1160\\u17B4\\u17B5` +
  '\\u180B-\\u180F\\u1AB0-\\u1AFF\\u1DC0-\\u1DFF\\u200B-\\u200F\\u2060-\\u206F\\u20D0-\\u20FF\\u3164\\uFE00-\\uFE0F' +
  '\\uFE20-\\uFE2F\\uFFA0\\uFFF9-\\uFFFB';
const FORBIDDEN = `${CONTROL}${BIDI}`;

/**
 * A display name: after trimming, 1-128 characters with no control character or bidirectional control,
 * starting with a visible one.
 */
// The class holds ranges of combining marks on purpose (to refuse a name that starts with one).
export const DISPLAY_NAME_PATTERN =
  `^[${TRIMMED}]*[^${INVISIBLE}${FORBIDDEN}](?:[^${FORBIDDEN}]{0,126}[^${TRIMMED}${FORBIDDEN}])?[${TRIMMED}]*$`;

/** An email address as Kupe takes one (with at most EMAIL_MAX_LENGTH characters). */
export const EMAIL_PATTERN = `^[^@${TRIMMED}${CONTROL}]+@[^@${TRIMMED}${CONTROL}]+\\.[^@${TRIMMED}${CONTROL}]+$`;
export const EMAIL_MAX_LENGTH = 254;

/**
 * The shape of an RFC 3339 timestamp with a zone (no leap second; the day of the month and "in the
 * future" are checked on top).
 */
export const TIMESTAMP_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]' +
  '(\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$';
export const TIMESTAMP_RULE = 'an RFC 3339 timestamp with a time zone, e.g. 2027-01-01T00:00:00Z';

/**
 * Why a sign-in through the identity provider failed, as the callback tells the console (`#/sign-in?error=CODE`):
 * the console shows the message of a code from this list, and nothing else, whatever the link says.
 */
export const SIGN_IN_FAILURES = {
  provider_unreachable: 'The identity provider could not be reached. Try again later, or ask your operator.',
  not_started: 'This sign-in was not started from this browser, or took longer than 10 minutes. Sign in again.',
  provider_refused: 'The identity provider did not sign you in (you may have cancelled). Sign in again.',
  email_unverified: 'The identity provider has not verified your email address. Kupe signs in verified addresses only.',
  email_not_accepted: 'The identity provider gave an email address Kupe does not accept (see docs/security.md, "One person, one account").',
  identity_conflict: 'This email address is linked to another identity at the provider, or your identity to another address. Ask your operator.',
  account_disabled: 'This account is disabled. Ask your operator.',
  sign_in_failed: 'Sign-in through the identity provider failed. Try again, or ask your operator.',
} as const;
export type SignInFailure = keyof typeof SIGN_IN_FAILURES;
