import type { SessionSettings } from './sessions.ts';
import type { Store } from './store.ts';
import { formatTimestamp } from './validation.ts';

export interface RetentionSettings {
  /** Audit entries older than this are deleted; 0 keeps them forever. */
  auditDays: number;
  /** Ended sessions and used or expired invites are deleted this long after they ended. */
  endedDays: number;
}

const DAY_MS = 86_400_000;
const AUDIT_BATCH = 1000;

/**
 * Deletes what the retention settings say is no longer kept (docs/behaviour.md, "Retention"). Audit entries
 * go in batches so that no single delete holds the database for long.
 */
export async function purgeExpiredRecords(
  store: Store, now: Date, retention: RetentionSettings, sessions: SessionSettings,
): Promise<{ audit: number; sessions: number; invites: number; revokedKeys: number; events: number; mails: number; passwordResets: number }> {
  const before = (ms: number) => formatTimestamp(new Date(now.getTime() - ms));
  let audit = 0;
  let revokedKeys = 0;
  if (retention.auditDays > 0) {
    const cutoff = before(retention.auditDays * DAY_MS);
    for (let deleted = AUDIT_BATCH; deleted === AUDIT_BATCH;) {
      deleted = await store.audit.purgeBefore(cutoff, AUDIT_BATCH);
      audit += deleted;
    }
    // Revoked keys stay visible as long as the audit entries that tell their story.
    revokedKeys = await store.apiKeys.purgeRevokedBefore(cutoff);
  }
  const ended = retention.endedDays * DAY_MS;
  return {
    audit,
    revokedKeys,
    sessions: await store.sessions.purgeEnded(before(ended), before(ended + sessions.idleSeconds * 1000)),
    invites: await store.invites.purgeBefore(before(ended)),
    // Webhook events and their deliveries, once none waits to be sent (retries end after about a day).
    events: await store.webhooks.purgeBefore(before(ended)),
    // Mails sent or given up (their bodies were erased then); password resets once expired.
    mails: await store.mail.purgeBefore(before(ended)),
    passwordResets: await store.passwordResets.purgeBefore(before(ended)),
  };
}
