import type { Kysely } from 'kysely';
import type { MemberRecord, MemberRepository } from '../domain/store.ts';
import type { Role } from '../domain/roles.ts';
import { type Database, insertedOne } from './schema.ts';

function toMember(row: { email: string; role: string; accepted_at: string | null }): MemberRecord {
  return row.accepted_at === null ? { email: row.email, role: row.role as Role, pending: true } : { email: row.email, role: row.role as Role };
}

export function memberRepository(db: Kysely<Database>): MemberRepository {
  return {
    async list(tenant) {
      const rows = await db
        .selectFrom('members').select(['email', 'role', 'accepted_at']).where('tenant', '=', tenant).orderBy('email').execute();
      return rows.map(toMember);
    },
    async get(tenant, email) {
      const row = await db
        .selectFrom('members').select(['email', 'role', 'accepted_at'])
        .where('tenant', '=', tenant).where('email', '=', email).executeTakeFirst();
      return row && toMember(row);
    },
    async insert(tenant, member, createdAt, acceptedAt) {
      const result = await db
        .insertInto('members')
        .values({ tenant, email: member.email, role: member.role, created_at: createdAt, accepted_at: acceptedAt ?? null })
        .onConflict((oc) => oc.columns(['tenant', 'email']).doNothing())
        .executeTakeFirst();
      return insertedOne(result);
    },
    async accept(tenant, email, at) {
      const result = await db.updateTable('members').set({ accepted_at: at })
        .where('tenant', '=', tenant).where('email', '=', email).where('accepted_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async setRole(tenant, email, role) {
      await db.updateTable('members').set({ role }).where('tenant', '=', tenant).where('email', '=', email).execute();
    },
    async remove(tenant, email) {
      await db.deleteFrom('members').where('tenant', '=', tenant).where('email', '=', email).execute();
    },
    async tenantsOf(email) {
      const rows = await db
        .selectFrom('members').select(['tenant', 'role'])
        .where('email', '=', email).where('accepted_at', 'is not', null).orderBy('tenant').execute();
      return rows.map((r) => ({ tenant: r.tenant, role: r.role as Role }));
    },
    async access(tenant, email) {
      // From the tenant's row: its state is known even when the person is no member (a provider's group).
      const row = await db
        .selectFrom('tenants')
        .leftJoin('members', (join) => join.onRef('members.tenant', '=', 'tenants.name')
          .on('members.email', '=', email).on('members.accepted_at', 'is not', null))
        .select(['tenants.disabled_at', 'members.role'])
        .where('tenants.name', '=', tenant)
        .executeTakeFirst();
      return { role: (row?.role ?? undefined) as Role | undefined, tenantDisabled: (row?.disabled_at ?? null) !== null };
    },
    async count(tenant) {
      const row = await db
        .selectFrom('members').select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant', '=', tenant).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async countAdmins(tenant) {
      const row = await db
        .selectFrom('members')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant', '=', tenant).where('role', '=', 'admin').where('accepted_at', 'is not', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
