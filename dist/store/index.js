import { sql } from 'kysely';
import { inviteRepository, sessionRepository, userRepository } from "./accounts.js";
import { apiKeyRepository } from "./api-keys.js";
import { auditRepository } from "./audit.js";
import { DATABASE_TUNING_DEFAULTS } from "../config.js";
import { openDatabase } from "./db.js";
import { describeStoreFault } from "./faults.js";
import { memberRepository } from "./members.js";
import { migrateToLatest } from "./migrate.js";
import { probeSqlite } from "./sqlite-driver.js";
import { tenantRepository } from "./tenants.js";
function storeOn(db, parts, inTransaction) {
    const store = {
        tenants: tenantRepository(db, parts.dialect),
        members: memberRepository(db),
        apiKeys: apiKeyRepository(db, inTransaction ? undefined : parts.readApiKeyRow),
        users: userRepository(db),
        sessions: sessionRepository(db),
        invites: inviteRepository(db),
        audit: auditRepository(db),
        transaction: (fn) => inTransaction ? fn(store) : db.transaction().execute((trx) => fn(storeOn(trx, parts, true))),
        ping: parts.ping,
        describeFault: describeStoreFault,
        close: parts.close,
    };
    return store;
}
function once(fn) {
    let done;
    return () => (done ??= fn());
}
/** Opens the store that the database URL names. Migrations are a separate, explicit step. */
export function openStore(databaseUrl, options = {}) {
    const { db, dialect, readApiKeyRow, sqlite } = openDatabase(databaseUrl, { ...DATABASE_TUNING_DEFAULTS, ...options });
    const ping = sqlite ? () => probeSqlite(sqlite) : async () => { await sql `select 1`.execute(db); };
    return {
        store: storeOn(db, { close: once(() => db.destroy()), dialect, readApiKeyRow, ping }, false),
        migrate: () => migrateToLatest(db, dialect),
    };
}
