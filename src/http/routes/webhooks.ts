import { Type } from 'typebox';
import {
  createWebhook, deleteWebhook, listWebhookDeliveries, sendTestEvent, toWebhookView, updateWebhook, type UrlRule,
} from '../../domain/webhooks.ts';
import { WEBHOOK_ID_PATTERN } from '../../domain/vocabulary.ts';
import {
  AUTH_ERRORS, CreatedWebhookSchema, DeliverySchema, errorResponses, EventsSchema, ListOf, TenantParamsSchema, WebhookSchema,
} from '../schemas.ts';
import { actionContext, type App, type RouteDeps } from './context.ts';

const tags = ['webhooks'];
const security = [{ bearer: [] }];
const WebhookParams = Type.Object({ ...TenantParamsSchema.properties, id: Type.String({ pattern: WEBHOOK_ID_PATTERN, examples: ['wh-3f9c1a2b'] }) });
const Url = Type.String({
  maxLength: 2000, pattern: '^https?://[^\\s]+$', examples: ['https://hooks.example.com/kupe'],
  description: 'An absolute URL: https (http only with KUPE_WEBHOOK_ALLOW_PRIVATE), no user name or password',
});

/** Tenant admins' webhooks (docs/notifications.md). */
export function webhookRoutes(app: App, deps: RouteDeps & { webhookUrls: UrlRule }) {
  const base = '/api/v1/tenants/:tenant/webhooks';
  app.get(base, {
    config: { access: 'admin' },
    schema: { summary: 'List webhooks', description: 'Admin. Never the signing secret.', tags, security, params: TenantParamsSchema,
      response: { 200: ListOf(WebhookSchema), ...errorResponses(400, ...AUTH_ERRORS) } },
  }, async (request) => ({ items: (await deps.store.webhooks.listEndpoints(request.params.tenant)).map(toWebhookView) }));

  app.post(base, {
    config: { access: 'admin' },
    schema: {
      summary: 'Create a webhook',
      description: 'Admin. The answer carries the signing secret, once. At most 10 a tenant. Deliveries are signed per Standard Webhooks '
        + '(`webhook-id`, `webhook-timestamp`, `webhook-signature`).',
      tags, security, params: TenantParamsSchema,
      body: Type.Object({ url: Url, events: EventsSchema, enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 201: CreatedWebhookSchema, ...errorResponses(400, ...AUTH_ERRORS, 409) },
    },
  }, async (request, reply) => {
    const endpoint = await createWebhook(deps.store, request.params.tenant, request.body, actionContext(request, deps), deps.webhookUrls);
    return reply.code(201).send({ ...toWebhookView(endpoint), secret: endpoint.secret });
  });

  app.patch(`${base}/:id`, {
    config: { access: 'admin' },
    schema: {
      summary: 'Change a webhook', description: 'Admin. Its URL, its events, or enabled (`false`: no deliveries are made for new events).',
      tags, security, params: WebhookParams,
      body: Type.Object({ url: Type.Optional(Url), events: Type.Optional(EventsSchema), enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: WebhookSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
    },
  }, async (request) => toWebhookView(await updateWebhook(deps.store, request.params.tenant, request.params.id, request.body, actionContext(request, deps), deps.webhookUrls)));

  app.delete(`${base}/:id`, {
    config: { access: 'admin' },
    schema: { summary: 'Delete a webhook', description: 'Admin. Its pending deliveries are dropped.', tags, security, params: WebhookParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, ...AUTH_ERRORS, 404) } },
  }, async (request, reply) => {
    await deleteWebhook(deps.store, request.params.tenant, request.params.id, actionContext(request, deps));
    return reply.code(204).send(null);
  });

  app.post(`${base}/:id/test`, {
    config: { access: 'admin' },
    schema: { summary: 'Send a test event', description: 'Admin. A `webhook.test` event to this endpoint only; see its deliveries for the outcome.',
      tags, security, params: WebhookParams,
      response: { 202: Type.Object({ eventId: Type.String({ description: 'The webhook-id it is sent with' }) }), ...errorResponses(400, ...AUTH_ERRORS, 404) } },
  }, async (request, reply) => {
    const eventId = await sendTestEvent(deps.store, request.params.tenant, request.params.id, actionContext(request, deps));
    return reply.code(202).send({ eventId });
  });

  app.get(`${base}/:id/deliveries`, {
    config: { access: 'admin' },
    schema: { summary: "A webhook's latest deliveries", description: 'Admin. The newest first, at most 50: state, attempts, last status or error, next retry.',
      tags, security, params: WebhookParams, response: { 200: ListOf(DeliverySchema), ...errorResponses(400, ...AUTH_ERRORS, 404) } },
  }, async (request) => ({ items: await listWebhookDeliveries(deps.store, request.params.tenant, request.params.id) }));
}
