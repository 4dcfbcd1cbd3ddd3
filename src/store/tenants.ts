import type { Kysely, Selectable } from 'kysely';
import type { Plan, TenantChanges, TenantRecord, TenantRepository } from '../domain/store.ts';
import { type RevocationParts, revokeEverywhere } from './revocation-fence.ts';
import { type Database, type Dialect, insertedOne, type TenantsTable } from './schema.ts';

function toTenant(row: Selectable<TenantsTable>): TenantRecord {
  return {
    name: row.name,
    displayName: row.display_name,
    contactEmail: row.contact_email,
    plan: row.plan as Plan,
    enforceMetricsLimit: Boolean(row.enforce_metrics_limit),
    enforceLogLimit: Boolean(row.enforce_log_limit),
    resourceVersion: Number(row.resource_version),
    createdAt: row.created_at,
    phase: row.phase === 'Terminating' ? 'Terminating' : 'Active',
    ...(row.disabled_at !== null && { disabledAt: row.disabled_at }),
  };
}

/** `parts`: what disabling a tenant tells the key caches (src/store/revocation-fence.ts). */
export function tenantRepository(db: Kysely<Database>, dialect: Dialect, parts: RevocationParts): TenantRepository {
  return {
    async get(name) {
      const row = await db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toTenant(row);
    },
    async list() {
      const rows = await db.selectFrom('tenants').selectAll().orderBy('name').execute();
      return rows.map(toTenant);
    },
    async insert(t) {
      const result = await db
        .insertInto('tenants')
        .values({
          name: t.name, display_name: t.displayName, contact_email: t.contactEmail, plan: t.plan,
          enforce_metrics_limit: Number(t.enforceMetricsLimit), enforce_log_limit: Number(t.enforceLogLimit),
          resource_version: t.resourceVersion, created_at: t.createdAt, phase: t.phase, disabled_at: t.disabledAt ?? null,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return insertedOne(result);
    },
    async lock(name) {
      // SQLite: the one connection is held by the transaction, so readers of
      // this process are already serialized; PostgreSQL takes a row lock.
      let query = db.selectFrom('tenants').selectAll().where('name', '=', name);
      if (dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row && toTenant(row);
    },
    async update(name, changes: TenantChanges) {
      await db
        .updateTable('tenants')
        .set((eb) => ({
          resource_version: eb('resource_version', '+', 1),
          ...(changes.displayName !== undefined && { display_name: changes.displayName }),
          ...(changes.plan !== undefined && { plan: changes.plan }),
          ...(changes.enforceMetricsLimit !== undefined && {
            enforce_metrics_limit: Number(changes.enforceMetricsLimit),
          }),
          ...(changes.enforceLogLimit !== undefined && { enforce_log_limit: Number(changes.enforceLogLimit) }),
        }))
        .where('name', '=', name)
        .execute();
    },
    async disabledAmong(names) {
      if (names.length === 0) return new Set();
      const rows = await db.selectFrom('tenants').select('name').where('name', 'in', [...names]).where('disabled_at', 'is not', null).execute();
      return new Set(rows.map((r) => r.name));
    },
    async setDisabled(name, at) {
      await db.updateTable('tenants').set({ disabled_at: at }).where('name', '=', name).execute();
      // Its keys may be in caches: they forget them, as they forget a revoked key. Enabling needs nothing: no
      // cache keeps a key of a disabled tenant.
      if (at !== null) await revokeEverywhere(db, parts, { tenant: name });
    },
  };
}
