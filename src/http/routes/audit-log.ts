import { Type } from 'typebox';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, listAuditLog } from '../../domain/audit.ts';
import { AUDIT_CURSOR_PATTERN } from '../../domain/vocabulary.ts';
import { AuditActionSchema, AuditEntrySchema, AUTH_ERRORS, errorResponses, ListOf, TenantParamsSchema } from '../schemas.ts';
import type { App, RouteDeps } from './context.ts';

export function auditLogRoutes(app: App, deps: RouteDeps) {
  app.get('/api/v1/tenants/:tenant/auditlog', {
    config: { access: 'admin' },
    schema: {
      summary: 'Read the audit log',
      description: 'Admin. Newest first. To read further back, pass the `id` of the last entry you have as `before`; an empty page means the end.',
      tags: ['audit log'], security: [{ bearer: [] }],
      params: TenantParamsSchema,
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: AUDIT_PAGE_DEFAULT })),
        before: Type.Optional(Type.String({ pattern: AUDIT_CURSOR_PATTERN, description: 'Entry id', examples: ['42'] })),
        action: Type.Optional(AuditActionSchema),
        actor: Type.Optional(Type.String({ maxLength: 254, description: 'Member email, API key id or "operator"', examples: ['alice@acme.com'] })),
      }, { additionalProperties: false }),
      response: { 200: ListOf(AuditEntrySchema), ...errorResponses(400, ...AUTH_ERRORS) },
    },
  }, async (request) => {
    const entries = await listAuditLog(deps.store, request.params.tenant, request.query);
    return { items: entries.map(({ tenant: _tenant, ...entry }) => entry) };
  });
}
