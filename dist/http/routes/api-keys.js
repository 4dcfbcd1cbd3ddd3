import { Type } from 'typebox';
import { createApiKey, listApiKeys, revokeApiKey, toApiKeyView } from "../../domain/api-keys.js";
import { TIMESTAMP_PATTERN } from "../../domain/validation.js";
import { ApiKeySchema, AUTH_ERRORS, CreatedApiKeySchema, DisplayNameSchema, errorResponses, ListOf, RoleSchema, TenantParamsSchema, } from "../schemas.js";
import { actionContext } from "./context.js";
const CreateApiKeyBodySchema = Type.Object({
    displayName: DisplayNameSchema({ examples: ['CI/CD Pipeline'] }),
    role: RoleSchema,
    expiresAt: Type.Optional(Type.String({
        pattern: TIMESTAMP_PATTERN,
        description: 'RFC 3339 with a time zone, a real date, in the future (a past one is 400). Returned exactly as sent',
        examples: ['2027-01-01T00:00:00Z'],
    })),
}, { additionalProperties: false, examples: [{ displayName: 'CI/CD Pipeline', role: 'readonly', expiresAt: '2027-01-01T00:00:00Z' }] });
const tags = ['api keys'];
const security = [{ bearer: [] }];
export function apiKeyRoutes(app, deps) {
    app.get('/api/v1/tenants/:tenant/apikeys', {
        config: { access: 'admin' },
        schema: {
            summary: 'List API keys',
            description: 'Admin. Metadata only: the raw key is never listed. Revoked keys are not listed; expired ones are.',
            tags, security, params: TenantParamsSchema,
            response: { 200: ListOf(ApiKeySchema), ...errorResponses(400, ...AUTH_ERRORS) },
        },
    }, async (request) => {
        const keys = await listApiKeys(deps.store, request.params.tenant, (id) => deps.lastUsed.pendingFor(id));
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
            description: 'Admin. Takes effect before the response is sent: the key gets 401 from then on. A second revoke is 404.',
            tags, security,
            params: Type.Object({ ...TenantParamsSchema.properties, id: Type.String({ examples: ['ak-7f3b2c1d'] }) }),
            response: { 204: Type.Null({ description: 'Revoked' }), ...errorResponses(400, ...AUTH_ERRORS, 404) },
        },
    }, async (request, reply) => {
        await revokeApiKey(deps.store, request.params.tenant, request.params.id, actionContext(request, deps));
        return reply.code(204).send(null);
    });
}
