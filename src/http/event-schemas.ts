import { type TSchema, Type } from 'typebox';
import { EVENT_TYPES, type EventType, REVOKE_REASONS, ROLES } from '../domain/vocabulary.ts';

/**
 * The webhook events as JSON Schema, in the OpenAPI document's `webhooks` (OpenAPI 3.1): what a receiver gets
 * in the body of each delivery (docs/notifications.md). The domain writes them (src/domain/webhooks.ts,
 * recordEvent); test/http/webhooks.test.ts checks delivered bodies against these schemas.
 */
const Role = Type.Enum([...ROLES]);
const Email = Type.String({ description: 'A member\'s email' });
const KeyId = Type.String({ description: 'The key\'s id', examples: ['ak-3f9c1a2b'] });
const Actor = (description: string) => Type.String({ description: `${description}: a member's email, a key's id, \`operator\`, or a scanner` });

const DATA: Record<EventType, TSchema> = {
  'apikey.created': Type.Object({ id: KeyId, displayName: Type.String(), role: Role, createdBy: Actor('Who created it'), expiresAt: Type.Optional(Type.String()) }),
  'apikey.revoked': Type.Object({ id: KeyId, revokedBy: Actor('Who revoked it'), reason: Type.Enum([...REVOKE_REASONS]) }),
  'apikey.leaked': Type.Object({ id: KeyId, reportedBy: Actor('Who reported it'), foundAt: Type.Optional(Type.String({ description: 'Where it was found (a URL, or the operator\'s note)' })) }),
  'apikey.expiring': Type.Object({ id: KeyId, displayName: Type.String(), role: Role, expiresAt: Type.String(), daysLeft: Type.Enum([14, 7, 1]) }),
  'apikey.expired': Type.Object({ id: KeyId, displayName: Type.String(), role: Role, expiresAt: Type.String() }),
  'member.added': Type.Object({ email: Email, role: Role, addedBy: Actor('Who added it') }),
  'member.joined': Type.Object({ email: Email, role: Type.Optional(Role) }),
  'member.role_changed': Type.Object({ email: Email, role: Role, previousRole: Role, changedBy: Actor('Who changed it') }),
  'member.removed': Type.Object({ email: Email, role: Role, removedBy: Actor('Who removed it') }),
  'webhook.test': Type.Object({ webhook: Type.String(), requestedBy: Actor('Who asked for it') }),
};

/** An event's whole body: `{type, timestamp, data}`, `data.tenant` always there. */
export function eventSchema(type: EventType): TSchema {
  const data = DATA[type] as ReturnType<typeof Type.Object>;
  return Type.Object({
    type: Type.Literal(type),
    timestamp: Type.String({ description: 'When the change happened (RFC 3339, UTC)' }),
    data: Type.Object({ tenant: Type.String(), ...data.properties }, { additionalProperties: false }),
  }, { additionalProperties: false });
}

/** OpenAPI 3.1 `webhooks`: one entry per event type, as a POST to the receiver. */
export function openApiWebhooks(): Record<string, unknown> {
  return Object.fromEntries([...EVENT_TYPES, 'webhook.test' as const].map((type) => [type, {
    post: {
      summary: type,
      description: 'Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); see docs/notifications.md.',
      requestBody: { required: true, content: { 'application/json': { schema: eventSchema(type) } } },
      responses: { '2XX': { description: 'Received: any 2xx; anything else is retried' } },
    },
  }]));
}
