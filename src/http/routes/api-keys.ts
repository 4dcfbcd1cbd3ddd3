import { Type } from 'typebox';
import { createApiKey, listApiKeys, revokeApiKey, toApiKeyView } from '../../domain/api-keys.ts';
import { acknowledgeLeak } from '../../domain/leaks.ts';
import { TIMESTAMP_PATTERN } from '../../domain/vocabulary.ts';
import {
  ApiKeySchema, AUTH_ERRORS, CreatedApiKeySchema, DisplayNameSchema, errorResponses, ListOf, RoleSchema,
  TenantParamsSchema,
} from '../schemas.ts';
import { actionContext, type App, type RouteDeps } from './context.ts';

const CreateApiKeyBodySchema = Type.Object(
  {
    displayName: DisplayNameSchema({ examples: ['CI/CD Pipeline'] }),
    role: RoleSchema,
    expiresAt: Type.Optional(Type.String({
      pattern: TIMESTAMP_PATTERN,
      description: 'RFC 3339 with a time zone, a real date, in the future (a past one is 400). Returned exactly as sent',
      examples: ['2027-01-01T00:00:00Z'],
    })),
  },
  { additionalProperties: false, examples: [{ displayName: 'CI/CD Pipeline', role: 'readonly', expiresAt: '2027-01-01T00:00:00Z' }] },
);
const ListQuerySchema = Type.Object({
  state: Type.Optional(Type.Enum(['active', 'revoked', 'all'], {
    description: 'Which keys: `active` (the default: keys that still work, expired ones included), `revoked` (the latest revoked first, '
      + 'with when, by whom and why), or `all` (active, then revoked). Revoked keys are kept as long as the audit log (KUPE_AUDIT_RETENTION_DAYS).',
  })),
}, { additionalProperties: false });
const RevokeQuerySchema = Type.Object({
  reason: Type.Optional(Type.Enum(['manual', 'rotation'], {
    description: 'Why, as the key will show it: `manual` (the default) or `rotation` (replaced by a new key; the console\'s rotate flow says so)',
  })),
}, { additionalProperties: false });
const KeyParamsSchema = Type.Object({ ...TenantParamsSchema.properties, id: Type.String({ examples: ['ak-7f3b2c1d'] }) });
const tags = ['api keys'];
const security = [{ bearer: [] }];

export function apiKeyRoutes(app: App, deps: RouteDeps) {
  app.get('/api/v1/tenants/:tenant/apikeys', {
    config: { access: 'admin' },
    schema: {
      summary: 'List API keys',
      description: 'Admin. Metadata only: the raw key is never listed. By default revoked keys are not listed (expired ones are); '
        + '`state=revoked` or `state=all` lists them with `revokedAt`, `revokedBy` and `revokeReason`.',
      tags, security, params: TenantParamsSchema, querystring: ListQuerySchema,
      response: { 200: ListOf(ApiKeySchema), ...errorResponses(400, ...AUTH_ERRORS) },
    },
  }, async (request) => {
    const keys = await listApiKeys(deps.store, request.params.tenant, (id) => deps.lastUsed.pendingFor(id), request.query.state);
    return { items: keys.map(toApiKeyView) };
  });

  app.post('/api/v1/tenants/:tenant/apikeys', {
    config: { access: 'admin' },
    schema: {
      summary: 'Create an API key', operationId: 'createApiKey',
      description: 'Admin. The response carries the raw key in `key`, once; only its SHA-256 digest is stored.',
      tags, security, params: TenantParamsSchema, body: CreateApiKeyBodySchema,
      response: { 201: CreatedApiKeySchema, ...errorResponses(400, ...AUTH_ERRORS, 409) },
    },
    // OpenAPI links: what a client (or a stateful fuzzer) does next with the key it made.
    links: { 201: { revoke: { operationId: 'revokeApiKey', parameters: { tenant: '$request.path.tenant', id: '$response.body#/id' } } } },
  }, async (request, reply) => {
    const created = await createApiKey(deps.store, request.params.tenant, request.body, actionContext(request, deps), deps.caps);
    return reply.code(201).send({ ...toApiKeyView(created.record), key: created.key });
  });

  app.delete('/api/v1/tenants/:tenant/apikeys/:id', {
    config: { access: 'admin' },
    schema: {
      summary: 'Revoke an API key', operationId: 'revokeApiKey',
      description: 'Admin. Takes effect before the response is sent: the key gets 401 from then on. A second revoke is 404. '
        + 'The key stays visible with `state=revoked`, with who revoked it and `reason`.',
      tags, security, querystring: RevokeQuerySchema,
      params: KeyParamsSchema,
      response: { 204: Type.Null({ description: 'Revoked' }), ...errorResponses(400, ...AUTH_ERRORS, 404) },
    },
  }, async (request, reply) => {
    await revokeApiKey(deps.store, request.params.tenant, request.params.id, actionContext(request, deps), request.query.reason);
    return reply.code(204).send(null);
  });

  app.post('/api/v1/tenants/:tenant/apikeys/:id/leak-acknowledgement', {
    config: { access: 'admin' },
    schema: {
      summary: 'Acknowledge a leaked key',
      description: 'Admin. For a key revoked as leaked (`revokeReason: leaked`): records that an admin has seen it (`leakAcknowledgedAt`, '
        + '`leakAcknowledgedBy`, audit `apikey.leak_acknowledged`), and the console stops showing its banner. Again: 204, no change. '
        + 'A key of the tenant not revoked as leaked: 409 `api_key_not_leaked`; no such key: 404. See docs/leaks.md.',
      tags, security, params: KeyParamsSchema,
      response: { 204: Type.Null({ description: 'Acknowledged' }), ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
    },
  }, async (request, reply) => {
    await acknowledgeLeak(deps.store, request.params.tenant, request.params.id, actionContext(request, deps));
    return reply.code(204).send(null);
  });
}
