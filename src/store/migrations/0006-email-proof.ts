import { type Kysely, type Migration, sql } from 'kysely';

// Frozen in time: this file never imports application code.
// How each account's email was proven (users.email_proof: 'provider' when the identity provider vouched for it,
// 'operator' when the operator created or reset the account, null when nothing proved it: a password chosen
// through an invite link proves only that the link was held), and the identity provider's identities linked
// to accounts, by issuer and subject (one per account and issuer).
// Accounts made before this migration: those without a password came from the provider; the others are
// unproven (whether the operator or an invite link made them was not recorded), the safe side.
export function emailProof(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('email_proof', 'text').execute();
      await sql`update users set email_proof = 'provider' where password_hash = ''`.execute(db);
      await db.schema
        .createTable('provider_identities')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('linked_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('provider_identities_pk', ['issuer', 'subject'])
        .addUniqueConstraint('provider_identities_account', ['email', 'issuer'])
        .execute();
    },
  };
}
