import { Type } from 'typebox';
import { getTenant, type TenantView, updateTenant } from '../../domain/tenants.ts';
import { AUTH_ERRORS, DisplayNameSchema, errorResponses, PlanSchema, type Tenant, TenantParamsSchema, TenantSchema } from '../schemas.ts';
import { actionContext, type App, ifMatchOf, type RouteDeps } from './context.ts';

export function toTenantJson(t: TenantView): Tenant {
  return {
    name: t.name, displayName: t.displayName, contactEmail: t.contactEmail, plan: t.plan,
    enforceMetricsLimit: t.enforceMetricsLimit, enforceLogLimit: t.enforceLogLimit,
    resourceVersion: String(t.resourceVersion), createdAt: t.createdAt,
    members: t.members, status: { phase: t.phase },
  };
}

const PatchTenantSchema = Type.Object(
  {
    displayName: Type.Optional(DisplayNameSchema({ examples: ['Acme Corp'] })),
    plan: Type.Optional(PlanSchema),
    enforceMetricsLimit: Type.Optional(Type.Boolean()),
    enforceLogLimit: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export function tenantRoutes(app: App, deps: RouteDeps) {
  app.get('/api/v1/tenants/:tenant', {
    config: { access: 'member' },
    schema: {
      summary: 'Get a tenant',
      description: 'Any member. Clients also use this call to check that a credential works. The ETag header carries resourceVersion.',
      tags: ['tenants'], security: [{ bearer: [] }],
      params: TenantParamsSchema,
      response: { 200: TenantSchema, ...errorResponses(400, ...AUTH_ERRORS) },
    },
  }, async (request, reply) => {
    const tenant = await getTenant(deps.store, request.params.tenant);
    return reply.header('etag', `"${tenant.resourceVersion}"`).send(toTenantJson(tenant));
  });

  app.patch('/api/v1/tenants/:tenant', {
    config: { access: 'admin' },
    schema: {
      summary: 'Update a tenant',
      description: 'Admin. Send any of the fields. Optional If-Match with the ETag: 412 on mismatch. A different `plan` is 403 ' +
        '`plan_change_forbidden` unless the operator lets tenant admins change plans (KUPE_TENANT_ADMINS_CHANGE_PLAN); the current one is accepted.',
      tags: ['tenants'], security: [{ bearer: [] }],
      params: TenantParamsSchema,
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ examples: ['"7"'] })) }),
      body: PatchTenantSchema,
      response: { 200: TenantSchema, ...errorResponses(400, ...AUTH_ERRORS, 412) },
    },
  }, async (request, reply) => {
    const tenant = await updateTenant(
      deps.store, request.params.tenant, request.body, ifMatchOf(request), actionContext(request, deps),
      { adminsChangePlan: deps.adminsChangePlan },
    );
    return reply.header('etag', `"${tenant.resourceVersion}"`).send(toTenantJson(tenant));
  });
}
