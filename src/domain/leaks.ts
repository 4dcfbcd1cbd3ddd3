import type { ActionContext } from './context.ts';
import { revokeApiKey, verifyApiKey } from './api-keys.ts';
import { AppError } from './errors.ts';
import { API_KEY_ID, parseRawApiKey } from './key-format.ts';
import type { Store } from './store.ts';
import { formatTimestamp } from './validation.ts';

/**
 * Leaked keys (docs/leaks.md): a token found where it should not be (a public repository, a paste, a log),
 * reported by GitHub's secret scanning, GitLab's secret detection or the operator, is revoked at once through
 * the one revocation path, with reason `leaked`, the reporter as who revoked it, and where it was found.
 */

/** Who reports leaks: the actor of the revocation and of its `apikey.leaked` audit entry. */
export const LEAK_REPORTERS = {
  github: 'github-secret-scanning',
  gitlab: 'gitlab-secret-detection',
  operator: 'operator',
} as const;
export type LeakReporter = (typeof LEAK_REPORTERS)[keyof typeof LEAK_REPORTERS];

/** One reported token and where it was found (a URL, or the operator's note). */
export interface LeakReport {
  token: string;
  source?: string | undefined;
}

/**
 * - revoked: a genuine Kupe key (format, checksum, id and secret all verify) that was not revoked, revoked now;
 * - already_revoked: a genuine key revoked before (by anyone: a replayed report lands here and changes nothing);
 * - not_ours: anything else (another issuer's token, a mistyped or made-up key, a key deleted by retention).
 */
export type LeakOutcome = 'revoked' | 'already_revoked' | 'not_ours';

export interface LeakFinding {
  outcome: LeakOutcome;
  /** Genuine keys only. */
  keyId?: string;
  tenant?: string;
}

/** A leak's source as kept: at most this many characters (a longer one is cut, never refused: the key must die). */
export const MAX_LEAK_SOURCE_LENGTH = 2048;

/** The source as stored and shown: control characters dropped, cut to MAX_LEAK_SOURCE_LENGTH; undefined when empty. */
export function leakSource(source: string | undefined): string | undefined {
  if (typeof source !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const clean = source.replace(/[\u0000-\u001F\u007F-\u009F]/g, '').trim().slice(0, MAX_LEAK_SOURCE_LENGTH);
  return clean === '' ? undefined : clean;
}

/**
 * Decides one reported token and revokes it when it is a genuine key not yet revoked (an expired one too: it
 * is shown as leaked to its admins). The secret is compared in constant time (verifyApiKey), so a reported
 * token with a known id and a wrong secret is `not_ours` at the same cost as one with the right secret.
 */
export async function revokeLeakedKey(store: Store, report: LeakReport, reporter: LeakReporter, ctx: Omit<ActionContext, 'actor'>): Promise<LeakFinding> {
  const parsed = parseRawApiKey(report.token);
  if (!parsed) return { outcome: 'not_ours' };
  const row = await store.apiKeys.get(parsed.id);
  // A leaked key is revoked whatever its tenant's state: a disabled tenant may be enabled again.
  const verdict = verifyApiKey(parsed, row && { ...row, tenantDisabled: false }, ctx.now);
  if (!row || !(verdict.ok || verdict.reason === 'expired' || verdict.reason === 'revoked')) return { outcome: 'not_ours' };
  const found = { keyId: row.id, tenant: row.tenant };
  if (!verdict.ok && verdict.reason === 'revoked') return { outcome: 'already_revoked', ...found };
  try {
    await revokeApiKey(store, row.tenant, row.id, { ...ctx, actor: reporter }, 'leaked', leakSource(report.source));
  } catch (error) {
    // Revoked by someone else between the read and the write (another report, a DELETE).
    if (error instanceof AppError && error.code === 'api_key_not_found') return { outcome: 'already_revoked', ...found };
    throw error;
  }
  return { outcome: 'revoked', ...found };
}

/**
 * Each report in turn (a report of many tokens is handled one token at a time, so one store fault leaves the
 * earlier revocations in force and the sender's retry finds them revoked).
 */
export async function revokeLeakedKeys(
  store: Store, reports: readonly LeakReport[], reporter: LeakReporter, ctx: Omit<ActionContext, 'actor'>,
): Promise<LeakFinding[]> {
  const findings: LeakFinding[] = [];
  for (const report of reports) findings.push(await revokeLeakedKey(store, report, reporter, ctx));
  return findings;
}

/**
 * A tenant admin has seen a leak: the console's banner for it goes away. Acknowledging again changes nothing;
 * a key of the tenant that was not revoked as leaked is 409, a key the tenant does not have 404.
 */
export async function acknowledgeLeak(store: Store, tenant: string, id: string, ctx: ActionContext): Promise<void> {
  if (!API_KEY_ID.test(id)) throw new AppError('invalid_api_key_id', 'invalid api key id format');
  const at = formatTimestamp(ctx.now);
  await store.transaction(async (tx) => {
    if (await tx.apiKeys.acknowledgeLeak(tenant, id, ctx.actor, at)) {
      await tx.audit.append({
        tenant, time: at, actor: ctx.actor, action: 'apikey.leak_acknowledged', target: id,
        clientIp: ctx.clientIp, requestId: ctx.requestId,
      });
      return;
    }
    const key = await tx.apiKeys.get(id);
    if (key?.tenant !== tenant) throw new AppError('api_key_not_found', 'api key not found');
    if (key.revokeReason !== 'leaked') {
      throw new AppError('api_key_not_leaked', `api key ${id} was not revoked as leaked: there is no leak to acknowledge`);
    }
  });
}
