import { type Static, Type } from 'typebox';
import {
  API_KEY_ID_PATTERN, AUDIT_ACTIONS, DISPLAY_NAME_PATTERN, EMAIL_MAX_LENGTH, EMAIL_PATTERN, EVENT_TYPES, PLANS, REVOKE_REASONS, ROLES, TENANT_NAME_PATTERN,
  WEBHOOK_ID_PATTERN,
} from '../domain/vocabulary.ts';

/**
 * Every request and response shape. The same schemas validate requests,
 * serialize responses (so no stray field, such as a digest, can leak) and
 * generate the OpenAPI document.
 */
export const RoleSchema = Type.Enum([...ROLES], {
  description: 'admin: read and write, including members and API keys. readonly: read only, no /apikeys routes.',
});
export const PlanSchema = Type.Enum([...PLANS]);
const Timestamp = (description: string) =>
  Type.String({ description: `${description} (RFC 3339)`, examples: ['2026-03-15T08:00:00Z'] });

export const ErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'Human-readable message', examples: ['admin access required'] }),
    code: Type.String({ description: 'Stable machine code; see docs/errors.md', examples: ['admin_required'] }),
    requestId: Type.String({ description: 'Also sent as X-Request-Id' }),
  },
  { description: 'Every error response has this shape' },
);

export const TenantParamsSchema = Type.Object({
  tenant: Type.String({
    pattern: TENANT_NAME_PATTERN,
    description: 'Tenant name',
    examples: ['acme'],
  }),
});

/** An email in a request (body or path), as the domain takes it. */
export const EmailSchema = (options: { description?: string; examples?: string[] } = {}) =>
  Type.String({ pattern: EMAIL_PATTERN, maxLength: EMAIL_MAX_LENGTH, ...options });

/** A display name in a request: trimmed, 1-128 visible characters, no control or bidirectional-control characters. */
export const DisplayNameSchema = (options: { description?: string; examples?: string[] } = {}) => Type.String({
  pattern: DISPLAY_NAME_PATTERN,
  description: 'Trimmed; 1-128 characters, starting with a visible one; no control or bidirectional-control characters',
  ...options,
});

export const MemberSchema = Type.Object({
  email: Type.String({ description: 'Lowercase email', examples: ['alice@acme.com'] }),
  role: RoleSchema,
  pending: Type.Optional(Type.Literal(true, {
    description: 'Present while the member has not accepted the invite: listed, but grants nothing yet',
  })),
});
export type Member = Static<typeof MemberSchema>;

export const TenantSchema = Type.Object({
  name: Type.String({ examples: ['acme'] }),
  displayName: Type.String({ examples: ['Acme Corp'] }),
  contactEmail: Type.String({ examples: ['alice@acme.com'] }),
  plan: PlanSchema,
  enforceMetricsLimit: Type.Boolean(),
  enforceLogLimit: Type.Boolean(),
  resourceVersion: Type.String({ description: 'Changes on every change to the tenant or its members; the ETag', examples: ['7'] }),
  createdAt: Timestamp('When the tenant was created'),
  members: Type.Array(MemberSchema),
  status: Type.Object({ phase: Type.Enum(['Active', 'Terminating']) }),
});
export type Tenant = Static<typeof TenantSchema>;

export const ApiKeySchema = Type.Object({
  id: Type.String({ pattern: API_KEY_ID_PATTERN, examples: ['ak-7f3b2c1d'] }),
  displayName: Type.String({ examples: ['CI/CD Pipeline'] }),
  role: RoleSchema,
  createdBy: Type.String({ description: "Creating member's email, or the creating key's id", examples: ['alice@acme.com'] }),
  createdAt: Timestamp('When the key was created'),
  expiresAt: Type.Optional(Type.String({ description: 'Exactly as the creator sent it; absent when the key never expires', examples: ['2027-01-01T00:00:00Z'] })),
  lastUsedAt: Type.Optional(Timestamp('Last successful authentication; absent until first use. May lag by the flush interval')),
  revokedAt: Type.Optional(Timestamp('Revoked keys only (listed with `state=revoked` or `all`): when it was revoked')),
  revokedBy: Type.Optional(Type.String({
    description: "Revoked keys only: the revoking member's email, the revoking key's id, `operator`, or the scanner that reported a leak "
      + '(`github-secret-scanning`, `gitlab-secret-detection`)',
    examples: ['alice@acme.com'],
  })),
  revokeReason: Type.Optional(Type.Enum([...REVOKE_REASONS], {
    description: 'Revoked keys only: `manual` (the API or the console), `rotation` (the console\'s rotate flow), `leaked` (a secret-scanning report), `operator` (the operator\'s CLI)',
  })),
  leakSource: Type.Optional(Type.String({
    description: 'Keys revoked as leaked: where the key was found, as the scanner reported it (a URL) or the operator noted it',
    examples: ['https://github.com/octo/app/blob/1a2b3c/deploy.sh'],
  })),
  leakAcknowledgedAt: Type.Optional(Timestamp('Keys revoked as leaked: when a tenant admin acknowledged the leak (absent until then)')),
  leakAcknowledgedBy: Type.Optional(Type.String({ description: 'Keys revoked as leaked: who acknowledged it', examples: ['alice@acme.com'] })),
});
export type ApiKey = Static<typeof ApiKeySchema>;

export const CreatedApiKeySchema = Type.Object({
  ...ApiKeySchema.properties,
  key: Type.String({ description: 'The raw key. Shown only in this response: store it now', examples: ['kupe_a1b2c3d4_...'] }),
});

export type CreatedApiKey = Static<typeof CreatedApiKeySchema>;

export const InviteSchema = Type.Object({
  url: Type.Optional(Type.String({ description: 'Email off: the console link for the member, shown only in this response. With it they choose a password (no account yet) or, signed in to their account, join' })),
  emailedTo: Type.Optional(Type.String({ description: 'Email on (docs/notifications.md): the link was mailed to this address, and is shown to nobody else; there is no `url`' })),
  expiresAt: Type.String(),
});
export const NewMemberSchema = Type.Object({
  ...MemberSchema.properties,
  invite: Type.Object(InviteSchema.properties, {
    description: 'Always present, whether or not the email has an account: the answer says nothing about other tenants',
  }),
});
export type NewMember = Static<typeof NewMemberSchema>;

/** A console session, as every session route answers it. */
export const SessionSchema = Type.Object({
  email: Type.String({ examples: ['alice@acme.com'] }),
  mustChangePassword: Type.Boolean({ description: 'True until a one-time password has been replaced' }),
  csrfToken: Type.String({ description: 'Send as X-Kupe-CSRF on every unsafe request made with the session cookie' }),
  signedInWith: Type.Enum(['password', 'oidc'], { description: 'A Kupe password, or the identity provider (OpenID Connect)' }),
  memberships: Type.Array(Type.Object({
    tenant: Type.String(),
    role: RoleSchema,
    viaProvider: Type.Optional(Type.Literal(true, {
      description: "The identity provider's groups grant a role here; where Kupe's members list grants one too, the stronger applies",
    })),
    disabled: Type.Optional(Type.Literal(true, {
      description: 'The operator has disabled the tenant: its routes answer 403 tenant_disabled until it is enabled',
    })),
  })),
});
export type Session = Static<typeof SessionSchema>;

export const SignInMethodsSchema = Type.Object({
  password: Type.Boolean({ description: 'The console takes Kupe passwords' }),
  email: Type.Boolean({ description: 'Kupe sends email (docs/notifications.md): invites are mailed, and with passwords on, "forgot password" works' }),
  provider: Type.Optional(Type.Object({
    name: Type.String({ examples: ['Authentik'] }),
    url: Type.String({ description: 'Open in the browser (a full-page navigation) to sign in through the provider', examples: ['/oidc/login'] }),
  })),
});
export type SignInMethods = Static<typeof SignInMethodsSchema>;

/** A plan of the catalogue (src/domain/plans.ts), with the fields the real clients read. */
export const PlanEntrySchema = Type.Object({
  name: PlanSchema,
  displayName: Type.String({ examples: ['Pro'] }),
  platformFee: Type.Optional(Type.String({ examples: ['€49/month'] })),
  resourcePool: Type.Optional(Type.Object({
    cpu: Type.Optional(Type.String({ examples: ['16'] })), memory: Type.Optional(Type.String({ examples: ['64Gi'] })),
    storage: Type.Optional(Type.String({ examples: ['500Gi'] })),
  })),
  observabilityPool: Type.Optional(Type.Object({
    maxActiveSeries: Type.Optional(Type.Integer({ minimum: 0 })), logIngestGB: Type.Optional(Type.Integer({ minimum: 0 })),
    retentionDays: Type.Optional(Type.Integer({ minimum: 0 })), maxReceivers: Type.Optional(Type.Integer({ minimum: 0 })),
  })),
  maxClusters: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type PlanEntry = Static<typeof PlanEntrySchema>;

/** A tenant's webhook endpoint (docs/notifications.md), as listed; its secret only in the create's answer. */
export const EventsSchema = Type.Array(Type.Enum([...EVENT_TYPES]), { minItems: 1, maxItems: EVENT_TYPES.length, description: 'The event types it wants (docs/notifications.md)' });
export const WebhookSchema = Type.Object({
  id: Type.String({ pattern: WEBHOOK_ID_PATTERN, examples: ['wh-3f9c1a2b'] }),
  url: Type.String({ examples: ['https://hooks.example.com/kupe'] }),
  events: EventsSchema,
  enabled: Type.Boolean(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  failingSince: Type.Optional(Type.String({ description: 'Set when a delivery failed after every retry (about a day); cleared by the next success, or by enabling it again' })),
});
export const CreatedWebhookSchema = Type.Object({
  ...WebhookSchema.properties,
  secret: Type.String({ description: 'The Standard Webhooks signing secret (whsec_...). Shown only in this answer: store it now', examples: ['whsec_...'] }),
});
export const DeliverySchema = Type.Object({
  id: Type.String(), eventId: Type.String({ description: 'The webhook-id it is sent with' }), eventType: Type.String(),
  state: Type.Enum(['pending', 'delivered', 'failed']), attempts: Type.Integer(), nextAttemptAt: Type.String(),
  lastAttemptAt: Type.Optional(Type.String()), lastStatus: Type.Optional(Type.Integer({ description: "The endpoint's last HTTP status" })),
  lastError: Type.Optional(Type.String()), createdAt: Type.String(),
});
export type Webhook = Static<typeof WebhookSchema>;
export type CreatedWebhook = Static<typeof CreatedWebhookSchema>;
export type Delivery = Static<typeof DeliverySchema>;

export const ListOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ items: Type.Array(item) });

export const AuditActionSchema = Type.Enum([...AUDIT_ACTIONS]);

export const AuditEntrySchema = Type.Object({
  id: Type.String({ description: 'Pass as `before` to read older entries', examples: ['42'] }),
  time: Timestamp('When it happened'),
  actor: Type.String({ description: 'Member email, API key id, or "operator" for the kupe-server CLI' }),
  action: AuditActionSchema,
  target: Type.String({ examples: ['ak-7f3b2c1d'] }),
  clientIp: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const WhoamiSchema = Type.Object({
  kind: Type.Enum(['apikey', 'member']),
  tenant: Type.Optional(Type.String({ description: "An API key's tenant (a person may belong to several: see GET /api/v1/session)" })),
  role: Type.Optional(RoleSchema),
  keyId: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
});

/** Standard error responses, by status, for the OpenAPI document. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, ErrorSchema]));
}

export const AUTH_ERRORS = [401, 403, 429] as const;
