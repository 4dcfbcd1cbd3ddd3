import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { openApiWebhooks } from './event-schemas.ts';

/** Every string field refuses NUL characters (PostgreSQL cannot store one); the document says so. */
const NO_NUL = '^[^\\u0000]*$';

/** Adds the NUL rule to every free-form string schema under `node` (those without a pattern, enum or const). */
function declareNoNul(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) declareNoNul(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  if (schema.type === 'string' && schema.pattern === undefined && schema.enum === undefined && schema.const === undefined) {
    schema.pattern = NO_NUL;
  }
  for (const value of Object.values(schema)) declareNoNul(value);
}

/**
 * The OpenAPI 3.1 document, generated from the schemas that validate
 * requests, at /api/v1/openapi.json, and the human docs at /api/v1/docs.
 */
/** Where the human API reference (Swagger UI) is served. */
export const API_DOCS_PREFIX = '/api/v1/docs';

export async function registerOpenApi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kupe tenant API',
        version: '1.0.0',
        description: 'Tenants, their members and the API keys that CI pipelines, Terraform and scripts use. ' +
          'Every tenant route takes `Authorization: Bearer <api key>` (or an access token from the identity provider ' +
          'when one is configured). Errors: `{error, code, requestId}`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (kupe_...), or an access token (JWT) from the configured OpenID Connect issuer' } } },
    },
    transformObject: (document) => {
      const object = 'openapiObject' in document ? document.openapiObject : document.swaggerObject;
      // What requests may carry: parameters and bodies (answers never hold NUL either, but need not say so).
      for (const path of Object.values(object.paths ?? {})) {
        for (const operation of Object.values(path as Record<string, { parameters?: unknown; requestBody?: unknown }>)) {
          declareNoNul(operation.parameters);
          declareNoNul(operation.requestBody);
        }
      }
      // The events a webhook receiver gets (OpenAPI 3.1's `webhooks`), as JSON Schema.
      (object as { webhooks?: unknown }).webhooks = openApiWebhooks();
      return object;
    },
  });
  await app.register(swaggerUi, { routePrefix: API_DOCS_PREFIX });
  app.get('/api/v1/openapi.json', {
    config: { access: 'public' },
    schema: { hide: true },
  }, async () => app.swagger());
}
