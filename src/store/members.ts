import type { Kysely } from 'kysely';
import type { MemberRepository } from '../domain/store.ts';
import type { Role } from '../domain/roles.ts';
import { type Database, insertedOne } from './schema.ts';

export function memberRepository(db: Kysely<Database>): MemberRepository {
  return {
    async list(tenant) {
      const rows = await db
        .selectFrom('members').select(['email', 'role']).where('tenant', '=', tenant).orderBy('email').execute();
      return rows.map((r) => ({ email: r.email, role: r.role as Role }));
    },
    async get(tenant, email) {
      const row = await db
        .selectFrom('members').select(['email', 'role'])
        .where('tenant', '=', tenant).where('email', '=', email).executeTakeFirst();
      return row && { email: row.email, role: row.role as Role };
    },
    async insert(tenant, member, createdAt) {
      const result = await db
        .insertInto('members')
        .values({ tenant, email: member.email, role: member.role, created_at: createdAt })
        .onConflict((oc) => oc.columns(['tenant', 'email']).doNothing())
        .executeTakeFirst();
      return insertedOne(result);
    },
    async setRole(tenant, email, role) {
      await db.updateTable('members').set({ role }).where('tenant', '=', tenant).where('email', '=', email).execute();
    },
    async remove(tenant, email) {
      await db.deleteFrom('members').where('tenant', '=', tenant).where('email', '=', email).execute();
    },
    async tenantsOf(email) {
      const rows = await db
        .selectFrom('members').select(['tenant', 'role']).where('email', '=', email).orderBy('tenant').execute();
      return rows.map((r) => ({ tenant: r.tenant, role: r.role as Role }));
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
        .where('tenant', '=', tenant).where('role', '=', 'admin')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
