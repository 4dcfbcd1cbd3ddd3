import type { NoticeContext } from './mail.ts';
import type { Store } from './store.ts';
import { formatTimestamp, parseRfc3339 } from './validation.ts';
import { recordEvent } from './webhooks.ts';

/**
 * Expiry warnings (docs/notifications.md): an `apikey.expiring` event when a key's expiry is 14, 7 and 1 day
 * away, and `apikey.expired` once it has passed, each once per key. Every instance sweeps every minute; the
 * notice's primary key (key id, threshold) makes each one happen once however many sweep at the same moment:
 * the event (and, with email on, the admins' mail) is written in the transaction that records the notice,
 * only when the notice is new. A key that
 * crosses several thresholds between sweeps (created with 3 days left) gets the most urgent one only.
 */
export const WARNING_DAYS = [14, 7, 1] as const;
const DAY_MS = 86_400_000;
const BATCH = 500;

/** The notices due for a key expiring at `expiresMs`, the most urgent first. */
export function noticesDue(expiresMs: number, nowMs: number): string[] {
  if (expiresMs <= nowMs) return ['expired', ...[...WARNING_DAYS].reverse().map((d) => `${d}d`)];
  return [...WARNING_DAYS].reverse().filter((d) => expiresMs - nowMs <= d * DAY_MS).map((d) => `${d}d`);
}

/** One sweep; how many events it wrote. */
export async function sweepExpiringKeys(store: Store, { now, mail }: NoticeContext): Promise<number> {
  const nowMs = now.getTime();
  const keys = (await store.apiKeys.listWithExpiry())
    .map((key) => ({ key, due: noticesDue(parseRfc3339(key.expiresAt!) ?? Number.POSITIVE_INFINITY, nowMs) }))
    .filter(({ due }) => due.length > 0);
  let written = 0;
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const had = new Set((await store.apiKeys.noticesOf(batch.map(({ key }) => key.id))).map((n) => `${n.keyId} ${n.notice}`));
    for (const { key, due } of batch) {
      const fresh = due.filter((notice) => !had.has(`${key.id} ${notice}`));
      if (fresh.length === 0) continue;
      const at = formatTimestamp(now);
      written += await store.transaction(async (tx) => {
        // Every notice due is recorded; an event only for the most urgent one this sweep made.
        let first: string | undefined;
        for (const notice of fresh) {
          if ((await tx.apiKeys.recordNotice(key.id, notice, at)) && first === undefined) first = notice;
        }
        if (first === undefined) return 0; // another instance made it a moment ago
        const data = { id: key.id, displayName: key.displayName, role: key.role, expiresAt: key.expiresAt };
        await recordEvent(tx, key.tenant, first === 'expired' ? 'apikey.expired' : 'apikey.expiring',
          first === 'expired' ? data : { ...data, daysLeft: Number(first.slice(0, -1)) }, { now, mail });
        return 1;
      });
    }
  }
  return written;
}
