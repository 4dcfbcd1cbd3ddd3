import { formatTimestamp } from "./validation.js";
const DAY_MS = 86_400_000;
const AUDIT_BATCH = 1000;
/**
 * Deletes what the retention settings say is no longer kept. Audit entries
 * go in batches so that no single delete holds the database for long.
 */
export async function purgeExpiredRecords(store, now, retention, sessions) {
    const before = (ms) => formatTimestamp(new Date(now.getTime() - ms));
    let audit = 0;
    if (retention.auditDays > 0) {
        const cutoff = before(retention.auditDays * DAY_MS);
        for (let deleted = AUDIT_BATCH; deleted === AUDIT_BATCH;) {
            deleted = await store.audit.purgeBefore(cutoff, AUDIT_BATCH);
            audit += deleted;
        }
    }
    const ended = retention.endedDays * DAY_MS;
    return {
        audit,
        sessions: await store.sessions.purgeEnded(before(ended), before(ended + sessions.idleSeconds * 1000)),
        invites: await store.invites.purgeBefore(before(ended)),
    };
}
