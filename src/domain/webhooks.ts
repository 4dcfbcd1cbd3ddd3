import { randomBytes } from 'node:crypto';
import type { ActionContext } from './context.ts';
import { AppError, validationError } from './errors.ts';
import type { DeliveryRecord, OutboxEventRecord, Store, WebhookEndpointRecord } from './store.ts';
import { formatTimestamp } from './validation.ts';
import { mailing, mailWebhookFailing, type NoticeContext, warnAdmins } from './mail.ts';
import { EVENT_TYPES, type EventType, WEBHOOK_ID_PATTERN, type WebhookEvent } from './vocabulary.ts';

/**
 * Webhooks (docs/notifications.md): a tenant's admins register endpoints; every change that matters writes an
 * event to the outbox in its own transaction, with a pending delivery to each enabled endpoint that wants it;
 * the delivery worker (src/webhook-worker.ts) signs and sends them. Payloads carry ids and metadata, never a
 * key, a token or a secret.
 */

/** A signing secret as Standard Webhooks writes one: `whsec_` and base64 of 24 random bytes (the HMAC key). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export function newWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
}

/** Endpoints one tenant may have. */
export const MAX_ENDPOINTS_PER_TENANT = 10;
const WEBHOOK_ID = new RegExp(WEBHOOK_ID_PATTERN);

/** Retry waits after each failed attempt: about a day in all (27.5 hours), then the delivery has failed. */
export const RETRY_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
  createdBy: string;
  createdAt: string;
  failingSince?: string;
}

export function toWebhookView(e: WebhookEndpointRecord): WebhookView {
  return {
    id: e.id, url: e.url, events: e.events, enabled: e.enabled, createdBy: e.createdBy, createdAt: e.createdAt,
    ...(e.failingSince !== undefined && { failingSince: e.failingSince }),
  };
}

/** The rule for endpoint URLs: https, or http only where the operator allows private destinations (tests). */
export interface UrlRule {
  allowHttp: boolean;
}

function checkUrl(url: string, rule: UrlRule): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw validationError('url must be an absolute URL');
  }
  if (parsed.protocol !== 'https:' && !(rule.allowHttp && parsed.protocol === 'http:')) {
    throw validationError('url must be https');
  }
  if (parsed.username !== '' || parsed.password !== '') throw validationError('url must not carry a user name or password');
  if (url.length > 2000) throw validationError('url must be at most 2000 characters');
  return parsed.toString();
}

function checkEvents(events: readonly string[]): WebhookEvent[] {
  const unknown = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0) throw validationError(`unknown event type ${JSON.stringify(unknown[0])}: one of ${EVENT_TYPES.join(', ')}`);
  if (events.length === 0) throw validationError('events must name at least one event type');
  return [...new Set(events)] as WebhookEvent[];
}

function requireId(id: string): void {
  if (!WEBHOOK_ID.test(id)) throw new AppError('validation_failed', 'webhook id must be wh- and 8 hex digits');
}

async function requireEndpoint(store: Store, tenant: string, id: string): Promise<WebhookEndpointRecord> {
  requireId(id);
  const endpoint = await store.webhooks.getEndpoint(tenant, id);
  if (!endpoint) throw new AppError('webhook_not_found', 'webhook not found');
  return endpoint;
}

/** Registers an endpoint; the signing secret is in the answer, once (kept for signing, never shown again). */
export async function createWebhook(
  store: Store, tenant: string, input: { url: string; events: string[]; enabled?: boolean | undefined }, ctx: ActionContext, rule: UrlRule,
): Promise<WebhookEndpointRecord> {
  const endpoint: WebhookEndpointRecord = {
    id: `wh-${randomBytes(4).toString('hex')}`, tenant, url: checkUrl(input.url, rule), events: checkEvents(input.events),
    secret: newWebhookSecret(), enabled: input.enabled ?? true, createdBy: ctx.actor, createdAt: formatTimestamp(ctx.now),
  };
  await store.transaction(async (tx) => {
    if (!(await tx.tenants.lock(tenant))) throw new AppError('tenant_not_found', `tenant ${tenant} not found`);
    if ((await tx.webhooks.countEndpoints(tenant)) >= MAX_ENDPOINTS_PER_TENANT) {
      throw new AppError('webhook_limit_reached', `tenant ${tenant} has ${MAX_ENDPOINTS_PER_TENANT} webhooks, the most allowed; delete one first`);
    }
    if (!(await tx.webhooks.insertEndpoint(endpoint))) throw new Error('webhook id taken; try again');
    await tx.audit.append({ tenant, time: endpoint.createdAt, actor: ctx.actor, action: 'webhook.create', target: `${endpoint.id} (${endpoint.url})`, clientIp: ctx.clientIp, requestId: ctx.requestId });
  });
  return endpoint;
}

export async function updateWebhook(
  store: Store, tenant: string, id: string, input: { url?: string | undefined; events?: string[] | undefined; enabled?: boolean | undefined },
  ctx: ActionContext, rule: UrlRule,
): Promise<WebhookEndpointRecord> {
  requireId(id);
  const changes = {
    ...(input.url !== undefined && { url: checkUrl(input.url, rule) }),
    ...(input.events !== undefined && { events: checkEvents(input.events) }),
    ...(input.enabled !== undefined && { enabled: input.enabled }),
    // Enabled again, or pointed elsewhere: no longer failing until a delivery fails for good again.
    ...((input.enabled === true || input.url !== undefined) && { failingSince: null }),
  };
  if (Object.keys(changes).length === 0) return requireEndpoint(store, tenant, id); // nothing to change
  return store.transaction(async (tx) => {
    if (!(await tx.webhooks.updateEndpoint(tenant, id, changes))) throw new AppError('webhook_not_found', 'webhook not found');
    await tx.audit.append({ tenant, time: formatTimestamp(ctx.now), actor: ctx.actor, action: 'webhook.update', target: id, clientIp: ctx.clientIp, requestId: ctx.requestId });
    return (await tx.webhooks.getEndpoint(tenant, id))!;
  });
}

export async function deleteWebhook(store: Store, tenant: string, id: string, ctx: ActionContext): Promise<void> {
  requireId(id);
  await store.transaction(async (tx) => {
    if (!(await tx.webhooks.deleteEndpoint(tenant, id))) throw new AppError('webhook_not_found', 'webhook not found');
    await tx.audit.append({ tenant, time: formatTimestamp(ctx.now), actor: ctx.actor, action: 'webhook.delete', target: id, clientIp: ctx.clientIp, requestId: ctx.requestId });
  });
}

export async function listWebhookDeliveries(store: Store, tenant: string, id: string, limit = 50): Promise<DeliveryRecord[]> {
  await requireEndpoint(store, tenant, id);
  return store.webhooks.listDeliveries(id, limit);
}

/** An event as the outbox keeps it: a fresh id (its webhook-id, saying nothing) and the body every delivery sends. */
function newEvent(tenant: string, type: EventType, data: Record<string, unknown>, now: Date): OutboxEventRecord {
  const at = formatTimestamp(now);
  return {
    id: `msg_${randomBytes(12).toString('hex')}`, tenant, type, createdAt: at,
    payload: JSON.stringify({ type, timestamp: at, data: { tenant, ...data } }),
  };
}

/**
 * Writes an event to the outbox, with a pending delivery to every enabled endpoint of the tenant that wants
 * it, in the caller's transaction: the event exists exactly when the change does. With email on, the
 * tenant's admins are mailed of the events they must hear of (src/domain/mail.ts), in the same transaction.
 */
export async function recordEvent(tx: Store, tenant: string, type: EventType, data: Record<string, unknown>, ctx: NoticeContext): Promise<void> {
  const endpoints = (await tx.webhooks.listEndpoints(tenant)).filter((e) => e.enabled && (e.events as EventType[]).includes(type));
  await tx.webhooks.appendEvent(newEvent(tenant, type, data, ctx.now), endpoints.map((e) => e.id));
  if (mailing(ctx)) await warnAdmins(tx, tenant, type, data, ctx); // the same change, told by email too
}

/** "Send test event": a `webhook.test` event to this endpoint only (even a disabled one). */
export async function sendTestEvent(store: Store, tenant: string, id: string, ctx: ActionContext): Promise<string> {
  const endpoint = await requireEndpoint(store, tenant, id);
  const event = newEvent(tenant, 'webhook.test', { webhook: endpoint.id, requestedBy: ctx.actor }, ctx.now);
  await store.webhooks.appendEvent(event, [endpoint.id]);
  return event.id;
}

/**
 * A delivery failed after every retry: the endpoint is marked failing and, with email on, its tenant's admins
 * are told, in one transaction (once: only when it was not failing already).
 */
export async function markEndpointFailing(
  store: Store, endpoint: { tenant: string; id: string; url: string }, error: string, ctx: NoticeContext,
): Promise<void> {
  await store.transaction(async (tx) => {
    const current = await tx.webhooks.getEndpoint(endpoint.tenant, endpoint.id);
    if (!current || current.failingSince !== undefined) return;
    await tx.webhooks.updateEndpoint(endpoint.tenant, endpoint.id, { failingSince: formatTimestamp(ctx.now) });
    if (mailing(ctx)) await mailWebhookFailing(tx, current, error, ctx);
  });
}
