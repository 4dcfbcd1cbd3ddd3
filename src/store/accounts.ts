import { isRole, type Role } from '../domain/roles.ts';
import type { Kysely, Selectable } from 'kysely';
import type {
  InviteRepository, ProviderIdentityRepository, SessionRepository, UserRecord, UserRepository,
} from '../domain/store.ts';
import { type Database, insertedOne, type UsersTable } from './schema.ts';

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    email: row.email, passwordHash: row.password_hash, mustChangePassword: Boolean(row.must_change_password),
    createdAt: row.created_at, passwordChangedAt: row.password_changed_at,
    ...((row.email_proof === 'provider' || row.email_proof === 'operator' || row.email_proof === 'email') && { emailProof: row.email_proof }),
    ...(row.disabled_at !== null && { disabledAt: row.disabled_at }),
  };
}

export function userRepository(db: Kysely<Database>): UserRepository {
  return {
    async get(email) {
      const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      return row && toUser(row);
    },
    async list() {
      return (await db.selectFrom('users').selectAll().orderBy('email').execute()).map(toUser);
    },
    async insert(u) {
      const result = await db.insertInto('users').values({
        email: u.email, password_hash: u.passwordHash, must_change_password: Number(u.mustChangePassword),
        created_at: u.createdAt, password_changed_at: u.passwordChangedAt, email_proof: u.emailProof ?? null,
      }).onConflict((oc) => oc.column('email').doNothing()).executeTakeFirst();
      return insertedOne(result);
    },
    async setPassword(email, passwordHash, mustChange, at) {
      await db.updateTable('users')
        .set({ password_hash: passwordHash, must_change_password: Number(mustChange), password_changed_at: at })
        .where('email', '=', email).execute();
    },
    async setEmailProof(email, proof) {
      await db.updateTable('users').set({ email_proof: proof }).where('email', '=', email).execute();
    },
    async setDisabled(email, at) {
      await db.updateTable('users').set({ disabled_at: at }).where('email', '=', email).execute();
    },
    async isDisabled(email) {
      const row = await db.selectFrom('users').select('disabled_at').where('email', '=', email).executeTakeFirst();
      return (row?.disabled_at ?? null) !== null;
    },
  };
}

export function providerIdentityRepository(db: Kysely<Database>): ProviderIdentityRepository {
  const toRecord = (row: { issuer: string; subject: string; email: string; linked_at: string }) =>
    ({ issuer: row.issuer, subject: row.subject, email: row.email, linkedAt: row.linked_at });
  return {
    async get(issuer, subject) {
      const row = await db.selectFrom('provider_identities').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
      return row && toRecord(row);
    },
    async ofAccount(email, issuer) {
      const row = await db.selectFrom('provider_identities').selectAll().where('email', '=', email).where('issuer', '=', issuer).executeTakeFirst();
      return row && toRecord(row);
    },
    async insert(i) {
      const result = await db.insertInto('provider_identities')
        .values({ issuer: i.issuer, subject: i.subject, email: i.email, linked_at: i.linkedAt })
        .onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return insertedOne(result);
    },
    async removeFor(email) {
      const result = await db.deleteFrom('provider_identities').where('email', '=', email).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** The stored JSON back into roles; anything that is not a role is dropped (the column is written only here). */
function parseProviderRoles(json: string): Record<string, Role> {
  const parsed = JSON.parse(json) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, Role] => isRole(entry[1])));
}

export function sessionRepository(db: Kysely<Database>): SessionRepository {
  return {
    async get(id) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && {
        id: row.id, email: row.email, csrfToken: row.csrf_token, createdAt: row.created_at,
        lastSeenAt: row.last_seen_at, expiresAt: row.expires_at,
        ...(row.sign_in_method === 'oidc' && { method: 'oidc' as const }),
        ...(row.provider_roles !== null && { providerRoles: parseProviderRoles(row.provider_roles) }),
      };
    },
    async insert(s) {
      await db.insertInto('sessions').values({
        id: s.id, email: s.email, csrf_token: s.csrfToken, created_at: s.createdAt,
        last_seen_at: s.lastSeenAt, expires_at: s.expiresAt, sign_in_method: s.method ?? null,
        provider_roles: s.providerRoles === undefined ? null : JSON.stringify(s.providerRoles),
      }).execute();
    },
    async touch(id, at) {
      await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async remove(id) {
      await db.deleteFrom('sessions').where('id', '=', id).execute();
    },
    async removeAllFor(email) {
      await db.deleteFrom('sessions').where('email', '=', email).execute();
    },
    async purgeEnded(endedBefore, idleBefore) {
      const result = await db.deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<', endedBefore), eb('last_seen_at', '<', idleBefore)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export function inviteRepository(db: Kysely<Database>): InviteRepository {
  return {
    async get(id) {
      const row = await db.selectFrom('invites').selectAll().where('id', '=', id).executeTakeFirst();
      return row && {
        id: row.id, email: row.email, tenant: row.tenant, createdBy: row.created_by, createdAt: row.created_at,
        expiresAt: row.expires_at, usedAt: row.used_at ?? undefined, ...(row.emailed === 1 && { emailed: true as const }),
      };
    },
    async insert(i) {
      await db.insertInto('invites').values({
        id: i.id, email: i.email, tenant: i.tenant, created_by: i.createdBy, created_at: i.createdAt,
        expires_at: i.expiresAt, used_at: null, emailed: i.emailed ? 1 : 0,
      }).execute();
    },
    async markUsed(id, at) {
      const result = await db.updateTable('invites').set({ used_at: at })
        .where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async purgeBefore(time) {
      const result = await db.deleteFrom('invites')
        .where((eb) => eb.or([eb('used_at', '<', time), eb('expires_at', '<', time)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async removeFor(tenant, email) {
      await db.deleteFrom('invites').where('tenant', '=', tenant).where('email', '=', email).where('used_at', 'is', null).execute();
    },
  };
}
