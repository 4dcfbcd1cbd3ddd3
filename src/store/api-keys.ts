import { type Kysely, type Selectable, sql } from 'kysely';
import type { ApiKeyRecord, ApiKeyRepository, KeyForVerification } from '../domain/store.ts';
import type { Role } from '../domain/roles.ts';
import type { RevokeReason } from '../domain/vocabulary.ts';
import { KEY_BY_ID, type KeyRow } from './fast-paths.ts';
import { type RevocationParts, revokeEverywhere } from './revocation-fence.ts';
import { type ApiKeysTable, type Database, insertedOne } from './schema.ts';

function toApiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    displayName: row.display_name,
    role: row.role as Role,
    digest: row.digest,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    lastUsedAt: row.last_used_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
    revokedBy: row.revoked_by ?? undefined,
    revokeReason: (row.revoke_reason ?? undefined) as RevokeReason | undefined,
    leakSource: row.leak_source ?? undefined,
    leakAcknowledgedAt: row.leak_acknowledged_at ?? undefined,
    leakAcknowledgedBy: row.leak_acknowledged_by ?? undefined,
  };
}

function forVerification(row: KeyRow | undefined): KeyForVerification | undefined {
  return row && { ...toApiKey(row), tenantDisabled: row.tenant_disabled_at !== null };
}

/**
 * `parts.keyRows` (src/store/fast-paths.ts), where the dialect offers it, serves `get` outside transactions and
 * hears every revocation.
 */
export function apiKeyRepository(db: Kysely<Database>, parts: RevocationParts, inTransaction = false): ApiKeyRepository {
  const keyRows = inTransaction ? undefined : parts.keyRows;
  // Through the query builder (in a transaction): the fast path's query as it is.
  const readHere = async (id: string) => (await sql<KeyRow>`${sql.raw(KEY_BY_ID)} = ${id}`.execute(db)).rows[0];
  return {
    async get(id) {
      const row = keyRows ? await keyRows.read(id) : await readHere(id);
      return row && toApiKey(row);
    },
    // A row the fast reader has at hand (SQLite's, a cached one) is passed on at once, not in a promise.
    getForVerification(id) {
      if (!keyRows) return readHere(id).then(forVerification);
      const row = keyRows.readForVerification(id);
      return row instanceof Promise ? row.then(forVerification) : forVerification(row);
    },
    async listActive(tenant) {
      const rows = await db
        .selectFrom('api_keys').selectAll()
        .where('tenant', '=', tenant).where('revoked_at', 'is', null)
        .orderBy('created_at').orderBy('id')
        .execute();
      return rows.map(toApiKey);
    },
    async listWithExpiry() {
      const rows = await db.selectFrom('api_keys').selectAll().where('revoked_at', 'is', null).where('expires_at', 'is not', null).execute();
      return rows.map(toApiKey);
    },
    async noticesOf(keyIds) {
      if (keyIds.length === 0) return [];
      const rows = await db.selectFrom('expiry_notices').select(['key_id', 'notice']).where('key_id', 'in', [...keyIds]).execute();
      return rows.map((r) => ({ keyId: r.key_id, notice: r.notice }));
    },
    async recordNotice(keyId, notice, at) {
      const result = await db.insertInto('expiry_notices').values({ key_id: keyId, notice, sent_at: at })
        .onConflict((oc) => oc.columns(['key_id', 'notice']).doNothing()).executeTakeFirst();
      return insertedOne(result);
    },
    async listRevoked(tenant) {
      const rows = await db
        .selectFrom('api_keys').selectAll()
        .where('tenant', '=', tenant).where('revoked_at', 'is not', null)
        .orderBy('revoked_at', 'desc').orderBy('id')
        .execute();
      return rows.map(toApiKey);
    },
    async purgeRevokedBefore(time) {
      // The expiry warnings they had go with them.
      await db.deleteFrom('expiry_notices').where('key_id', 'in', db.selectFrom('api_keys').select('id')
        .where('revoked_at', 'is not', null).where('revoked_at', '<', time)).execute();
      const result = await db.deleteFrom('api_keys').where('revoked_at', 'is not', null).where('revoked_at', '<', time).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async countActive(tenant) {
      const row = await db
        .selectFrom('api_keys').select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant', '=', tenant).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insert(key) {
      const result = await db
        .insertInto('api_keys')
        .values({
          id: key.id, tenant: key.tenant, display_name: key.displayName, role: key.role,
          digest: key.digest, created_by: key.createdBy, created_at: key.createdAt,
          expires_at: key.expiresAt ?? null, last_used_at: null, revoked_at: null, revoked_by: null, revoke_reason: null,
          leak_source: null, leak_acknowledged_at: null, leak_acknowledged_by: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return insertedOne(result);
    },
    async revoke(tenant, id, { by, at, reason, leakSource }) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: at, revoked_by: by, revoke_reason: reason, leak_source: leakSource ?? null })
        .where('id', '=', id).where('tenant', '=', tenant).where('revoked_at', 'is', null)
        .executeTakeFirst();
      const revoked = Number(result.numUpdatedRows) === 1;
      if (revoked) await revokeEverywhere(db, parts, { keyId: id });
      return revoked;
    },
    async acknowledgeLeak(tenant, id, by, at) {
      const result = await db
        .updateTable('api_keys')
        .set({ leak_acknowledged_at: at, leak_acknowledged_by: by })
        .where('id', '=', id).where('tenant', '=', tenant).where('revoke_reason', '=', 'leaked')
        .where('leak_acknowledged_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async recordLastUsed(uses) {
      await db.transaction().execute(async (trx) => {
        for (const [id, at] of uses) {
          await trx
            .updateTable('api_keys')
            .set({ last_used_at: at })
            .where('id', '=', id)
            .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
            .execute();
        }
      });
    },
  };
}
