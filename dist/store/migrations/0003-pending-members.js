import { sql } from 'kysely';
// Frozen in time: this file never imports application code.
// A membership added through the API is pending (accepted_at null) until its invite is accepted;
// memberships that existed before count as accepted when they were made.
export function pendingMembers() {
    return {
        async up(db) {
            await db.schema.alterTable('members').addColumn('accepted_at', 'text').execute();
            await sql `update members set accepted_at = created_at`.execute(db);
        },
    };
}
