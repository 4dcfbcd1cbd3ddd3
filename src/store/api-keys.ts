import type { Kysely, Selectable } from 'kysely';
import type { ApiKeyRecord, ApiKeyRepository } from '../domain/store.ts';
import type { Role } from '../domain/roles.ts';
import type { RevokeReason } from '../domain/vocabulary.ts';
import type { ApiKeyRowReader, KeyRows } from './fast-paths.ts';
import type { Revocations } from './revocation-fence.ts';
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

/**
 * `keyRows` (src/store/fast-paths.ts), where the dialect offers it, serves `get` outside transactions and
 * hears every revocation.
 */
export function apiKeyRepository(
  db: Kysely<Database>,
  { keyRows, revocations, afterCommit }: { keyRows?: KeyRows | undefined; revocations?: Revocations | undefined; afterCommit?: (() => Promise<void>)[] | undefined },
  inTransaction = false,
): ApiKeyRepository {
  const readRow = inTransaction ? undefined : keyRows?.read;
  const record = (row: Selectable<ApiKeysTable> | undefined) => row && toApiKey(row);
  const read = async (id: string, fast: ApiKeyRowReader | undefined): Promise<ApiKeyRecord | undefined> =>
    record(fast ? await fast(id) : await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst());
  const verifying = inTransaction ? undefined : keyRows?.readForVerification;
  return {
    get: (id) => read(id, readRow),
    // A row the fast reader has at hand (SQLite's, a cached one) is passed on at once, not in a promise.
    getForVerification(id) {
      if (!verifying) return read(id, undefined);
      const row = verifying(id);
      return row instanceof Promise ? row.then(record) : record(row);
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
      keyRows?.forget(id); // before the revocation can answer (committed or not: see fast-paths.ts)
      const revoked = Number(result.numUpdatedRows) === 1;
      if (revoked && revocations) {
        // PostgreSQL: other instances hear of it at commit; the answer waits until they have (or lapsed).
        const seq = await revocations.announce(db, id);
        const heard = () => revocations.awaitHeard(seq);
        if (afterCommit) afterCommit.push(heard);
        else await heard();
      }
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
