import { Migrator, sql } from 'kysely';
import { initial } from "./migrations/0001-initial.js";
import { accounts } from "./migrations/0002-accounts.js";
import { pendingMembers } from "./migrations/0003-pending-members.js";
function migrationsFor(dialect) {
    return { '0001-initial': initial(dialect), '0002-accounts': accounts(), '0003-pending-members': pendingMembers() };
}
/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db, dialect) {
    // Kysely looks for its own tables in every schema; pin them to the one the
    // connection's search_path selects, so several Kupe schemas can share a database.
    const schema = dialect === 'postgres'
        ? (await sql `select current_schema() as schema`.execute(db)).rows[0]?.schema
        : undefined;
    const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => migrationsFor(dialect) },
        ...(schema !== undefined && { migrationTableSchema: schema }),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error)
        throw error instanceof Error ? error : new Error('migration failed', { cause: error });
    return (results ?? [])
        .filter((r) => r.status === 'Success')
        .map((r) => r.migrationName);
}
