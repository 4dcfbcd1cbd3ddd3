import type { Kysely, Selectable } from 'kysely';
import type { ClaimedDelivery, DeliveryState, WebhookEndpointRecord, WebhookRepository } from '../domain/store.ts';
import type { EventType, WebhookEvent } from '../domain/vocabulary.ts';
import { type Database, type Dialect, insertedOne, type WebhookEndpointsTable } from './schema.ts';

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpointRecord {
  return {
    id: row.id, tenant: row.tenant, url: row.url, events: JSON.parse(row.events) as WebhookEvent[], secret: row.secret,
    enabled: row.enabled === 1, createdBy: row.created_by, createdAt: row.created_at, failingSince: row.failing_since ?? undefined,
  };
}

/**
 * Webhook endpoints, the outbox and deliveries. A claim is one transaction: it picks each endpoint's earliest
 * pending delivery that is due and not held by another instance (on PostgreSQL the rows are locked with
 * SKIP LOCKED, so instances claiming at once never take the same one), holds it until `lockUntil` and counts
 * the attempt. An instance that dies while sending leaves the hold to run out: the delivery is then claimed
 * again and sent again with the same webhook-id.
 */
export function webhookRepository(db: Kysely<Database>, dialect: Dialect): WebhookRepository {
  return {
    async listEndpoints(tenant) {
      const rows = await db.selectFrom('webhook_endpoints').selectAll().where('tenant', '=', tenant).orderBy('created_at').orderBy('id').execute();
      return rows.map(toEndpoint);
    },
    async getEndpoint(tenant, id) {
      const row = await db.selectFrom('webhook_endpoints').selectAll().where('tenant', '=', tenant).where('id', '=', id).executeTakeFirst();
      return row && toEndpoint(row);
    },
    async countEndpoints(tenant) {
      const row = await db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant', '=', tenant).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insertEndpoint(e) {
      const result = await db.insertInto('webhook_endpoints').values({
        id: e.id, tenant: e.tenant, url: e.url, events: JSON.stringify(e.events), secret: e.secret, enabled: e.enabled ? 1 : 0,
        created_by: e.createdBy, created_at: e.createdAt, failing_since: e.failingSince ?? null,
      }).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      return insertedOne(result);
    },
    async updateEndpoint(tenant, id, changes) {
      const result = await db.updateTable('webhook_endpoints').set({
        ...(changes.url !== undefined && { url: changes.url }),
        ...(changes.events !== undefined && { events: JSON.stringify(changes.events) }),
        ...(changes.enabled !== undefined && { enabled: changes.enabled ? 1 : 0 }),
        ...(changes.failingSince !== undefined && { failing_since: changes.failingSince }),
      }).where('tenant', '=', tenant).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async deleteEndpoint(tenant, id) {
      const result = await db.deleteFrom('webhook_endpoints').where('tenant', '=', tenant).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) !== 1) return false;
      await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      return true;
    },
    async appendEvent(event, endpointIds) {
      await db.insertInto('outbox_events').values({
        id: event.id, tenant: event.tenant, type: event.type, payload: event.payload, created_at: event.createdAt,
      }).execute();
      if (endpointIds.length === 0) return;
      await db.insertInto('webhook_deliveries').values(endpointIds.map((endpointId) => ({
        endpoint_id: endpointId, event_id: event.id, state: 'pending', attempts: 0, next_attempt_at: event.createdAt,
        locked_until: null, last_attempt_at: null, last_status: null, last_error: null, created_at: event.createdAt,
      }))).execute();
    },
    async claimDue(now, lockUntil, limit) {
      return db.transaction().execute(async (trx) => {
        let candidates = trx.selectFrom('webhook_deliveries as d').select(['d.id', 'd.attempts'])
          .where('d.state', '=', 'pending').where('d.next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('d.locked_until', 'is', null), eb('d.locked_until', '<', now)]))
          // One at a time per endpoint, in order: only its earliest pending delivery.
          .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries as e').select('e.id')
            .whereRef('e.endpoint_id', '=', 'd.endpoint_id').where('e.state', '=', 'pending').whereRef('e.id', '<', 'd.id'))))
          .orderBy('d.id').limit(limit);
        if (dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
        const picked = await candidates.execute();
        if (picked.length === 0) return [];
        const ids = picked.map((p) => p.id);
        await trx.updateTable('webhook_deliveries').set((eb) => ({ locked_until: lockUntil, attempts: eb('attempts', '+', 1) }))
          .where('id', 'in', ids).execute();
        const rows = await trx.selectFrom('webhook_deliveries as d')
          .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
          .innerJoin('outbox_events as o', 'o.id', 'd.event_id')
          .select(['d.id', 'd.attempts', 'w.id as endpointId', 'w.tenant', 'w.url', 'w.secret', 'w.failing_since', 'o.id as eventId', 'o.type', 'o.payload'])
          .where('d.id', 'in', ids).orderBy('d.id').execute();
        return rows.map((r): ClaimedDelivery => ({
          id: String(r.id), attempts: r.attempts,
          endpoint: { id: r.endpointId, tenant: r.tenant, url: r.url, secret: r.secret, failingSince: r.failing_since ?? undefined },
          event: { id: r.eventId, type: r.type as EventType, payload: r.payload },
        }));
      });
    },
    async recordAttempt(id, result) {
      await db.updateTable('webhook_deliveries').set({
        state: result.state, next_attempt_at: result.nextAttemptAt, locked_until: null, last_attempt_at: result.at,
        last_status: result.status ?? null, last_error: result.error ?? null,
      }).where('id', '=', Number(id)).execute();
    },
    async listDeliveries(endpointId, limit) {
      const rows = await db.selectFrom('webhook_deliveries as d').innerJoin('outbox_events as o', 'o.id', 'd.event_id')
        .select(['d.id', 'd.endpoint_id', 'd.event_id', 'o.type', 'd.state', 'd.attempts', 'd.next_attempt_at', 'd.last_attempt_at',
          'd.last_status', 'd.last_error', 'd.created_at'])
        .where('d.endpoint_id', '=', endpointId).orderBy('d.id', 'desc').limit(limit).execute();
      return rows.map((r) => ({
        id: String(r.id), endpointId: r.endpoint_id, eventId: r.event_id, eventType: r.type as EventType, state: r.state as DeliveryState,
        attempts: r.attempts, nextAttemptAt: r.next_attempt_at, lastAttemptAt: r.last_attempt_at ?? undefined,
        lastStatus: r.last_status ?? undefined, lastError: r.last_error ?? undefined, createdAt: r.created_at,
      }));
    },
    async purgeBefore(time) {
      const old = db.selectFrom('outbox_events').select('id').where('created_at', '<', time)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries').select('id')
          .whereRef('webhook_deliveries.event_id', '=', 'outbox_events.id').where('state', '=', 'pending'))));
      await db.deleteFrom('webhook_deliveries').where('event_id', 'in', old).execute();
      const result = await db.deleteFrom('outbox_events').where('created_at', '<', time)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries').select('id')
          .whereRef('webhook_deliveries.event_id', '=', 'outbox_events.id')))).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
