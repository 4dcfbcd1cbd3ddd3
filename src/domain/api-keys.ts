import type { ActionContext } from './context.ts';
import { AppError, validationError } from './errors.ts';
import {
  API_KEY_ID, digestApiKey, digestsEqual, generateApiKeyId, generateRawApiKey, parseRawApiKey,
  type ParsedApiKey,
} from './key-format.ts';
import type { Principal, Role } from './roles.ts';
import type { ApiKeyRecord, KeyForVerification, Store } from './store.ts';
import { DEFAULT_TENANT_CAPS, type TenantCaps } from './tenants.ts';
import { formatTimestamp, normalizeDisplayName, parseRfc3339 } from './validation.ts';
import { type RevokeReason, TIMESTAMP_RULE } from './vocabulary.ts';
import { recordEvent } from './webhooks.ts';

export interface CreateApiKeyInput {
  displayName: string;
  role: Role;
  expiresAt?: string | undefined;
}

export interface CreatedApiKey {
  record: ApiKeyRecord;
  /** The raw key: returned once, never stored. */
  key: string;
}

function checkExpiresAt(expiresAt: string | undefined, now: Date): void {
  if (expiresAt === undefined) return;
  const instant = parseRfc3339(expiresAt);
  if (instant === undefined) {
    throw validationError(`expiresAt must be ${TIMESTAMP_RULE}`);
  }
  if (instant <= now.getTime()) throw validationError('expiresAt must be in the future');
}

/** A key as the API shows it: never the digest; absent fields omitted, never null. */
export interface ApiKeyView {
  id: string;
  displayName: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  /** Revoked keys only (listed with `state=revoked` or `all`): when, by whom, why. */
  revokedAt?: string;
  revokedBy?: string;
  revokeReason?: RevokeReason;
  /** Revoked as leaked: where it was found, and whether an admin has acknowledged it (docs/leaks.md). */
  leakSource?: string;
  leakAcknowledgedAt?: string;
  leakAcknowledgedBy?: string;
}

export function toApiKeyView(k: ApiKeyRecord): ApiKeyView {
  return {
    id: k.id, displayName: k.displayName, role: k.role, createdBy: k.createdBy, createdAt: k.createdAt,
    ...(k.expiresAt !== undefined && { expiresAt: k.expiresAt }),
    ...(k.lastUsedAt !== undefined && { lastUsedAt: k.lastUsedAt }),
    ...(k.revokedAt !== undefined && { revokedAt: k.revokedAt }),
    ...(k.revokedBy !== undefined && { revokedBy: k.revokedBy }),
    ...(k.revokeReason !== undefined && { revokeReason: k.revokeReason }),
    ...(k.leakSource !== undefined && { leakSource: k.leakSource }),
    ...(k.leakAcknowledgedAt !== undefined && { leakAcknowledgedAt: k.leakAcknowledgedAt }),
    ...(k.leakAcknowledgedBy !== undefined && { leakAcknowledgedBy: k.leakAcknowledgedBy }),
  };
}

/**
 * Creates a key. `expiresAt` is stored exactly as sent (Terraform compares
 * it byte for byte). The id is random; a collision is retried.
 */
export async function createApiKey(
  store: Store, tenant: string, input: CreateApiKeyInput, ctx: ActionContext, caps: TenantCaps = DEFAULT_TENANT_CAPS,
): Promise<CreatedApiKey> {
  const displayName = normalizeDisplayName('displayName', input.displayName);
  checkExpiresAt(input.expiresAt, ctx.now);
  const createdAt = formatTimestamp(ctx.now);
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = generateApiKeyId();
    const key = generateRawApiKey(id);
    const record: ApiKeyRecord = {
      id, tenant, displayName, role: input.role, digest: digestApiKey(key),
      createdBy: ctx.actor, createdAt, expiresAt: input.expiresAt,
    };
    const inserted = await store.transaction(async (tx) => {
      // The tenant's row is held, so concurrent creates cannot pass the cap together.
      if (!(await tx.tenants.lock(tenant))) throw new AppError('tenant_not_found', `tenant ${tenant} not found`);
      if ((await tx.apiKeys.countActive(tenant)) >= caps.maxApiKeys) {
        throw new AppError('api_key_limit_reached',
          `tenant ${tenant} has ${caps.maxApiKeys} active API keys, the most allowed (KUPE_MAX_API_KEYS_PER_TENANT); revoke one first`);
      }
      if (!(await tx.apiKeys.insert(record))) return false;
      await tx.audit.append({
        tenant, time: createdAt, actor: ctx.actor, action: 'apikey.create',
        target: `${id} (${displayName}, ${input.role})`, clientIp: ctx.clientIp, requestId: ctx.requestId,
      });
      await recordEvent(tx, tenant, 'apikey.created', {
        id, displayName, role: input.role, createdBy: ctx.actor, ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
      }, ctx);
      return true;
    });
    if (inserted) return { record, key };
  }
  throw new Error('could not allocate a unique api key id after 5 attempts');
}

/** Which keys a list shows: the active ones (the default, what the CLI and Terraform read), revoked, or both. */
export type KeyListState = 'active' | 'revoked' | 'all';

/**
 * Keys with the freshest lastUsedAt this instance knows: the stored value, or a newer one not yet flushed.
 * Active keys oldest first, then revoked ones, the latest revoked first.
 */
export async function listApiKeys(
  store: Store, tenant: string, pendingLastUse: (id: string) => string | undefined, state: KeyListState = 'active',
): Promise<ApiKeyRecord[]> {
  const keys = [
    ...(state === 'revoked' ? [] : await store.apiKeys.listActive(tenant)),
    ...(state === 'active' ? [] : await store.apiKeys.listRevoked(tenant)),
  ];
  return keys.map((key) => {
    const pending = pendingLastUse(key.id);
    return pending && (!key.lastUsedAt || pending > key.lastUsedAt) ? { ...key, lastUsedAt: pending } : key;
  });
}

/**
 * Revokes an active key of the tenant, recording who and why (404 when there is none to revoke): the one
 * revocation path (a DELETE, the console's rotate flow, a leak report, the operator CLI). On PostgreSQL the
 * store's revoke announces it through the fence and the commit waits until every instance has heard it.
 * A leak (`leakSource`: where it was found) is audited as `apikey.leaked`, anything else as `apikey.revoke`.
 */
export async function revokeApiKey(
  store: Store, tenant: string, id: string, ctx: ActionContext, reason: RevokeReason = 'manual', leakSource?: string,
): Promise<void> {
  if (!API_KEY_ID.test(id)) {
    throw new AppError('invalid_api_key_id', 'invalid api key id format');
  }
  const at = formatTimestamp(ctx.now);
  await store.transaction(async (tx) => {
    // A revocation's audit entry names the key (people know keys by name); a leak's names where it was found.
    const name = leakSource === undefined ? (await tx.apiKeys.get(id))?.displayName : undefined;
    if (!(await tx.apiKeys.revoke(tenant, id, { by: ctx.actor, at, reason, leakSource }))) {
      throw new AppError('api_key_not_found', 'api key not found');
    }
    await recordEvent(tx, tenant, 'apikey.revoked', { id, revokedBy: ctx.actor, reason }, ctx);
    if (reason === 'leaked') {
      await recordEvent(tx, tenant, 'apikey.leaked', { id, reportedBy: ctx.actor, ...(leakSource !== undefined && { foundAt: leakSource }) }, ctx);
    }
    await tx.audit.append({
      tenant, time: at, actor: ctx.actor, action: reason === 'leaked' ? 'apikey.leaked' : 'apikey.revoke',
      target: leakSource === undefined ? `${id} (${name})` : `${id} found at ${leakSource}`,
      clientIp: ctx.clientIp, requestId: ctx.requestId,
    });
  });
}

export type AuthFailure = 'malformed' | 'unknown' | 'wrong_secret' | 'expired' | 'revoked' | 'tenant_disabled';

export type VerifyResult =
  | { ok: true; principal: Principal & { kind: 'apikey' } }
  | { ok: false; reason: AuthFailure };

// Compared against when the id is unknown, so that path does the same work.
const UNKNOWN_KEY_DIGEST = digestApiKey('kupe_00000000_unknown');

/**
 * Pure: decides from the parsed key, its row (if any) and the time. Revoked, expired and a disabled tenant
 * are only reported once the secret has matched.
 */
export function verifyApiKey(parsed: ParsedApiKey, row: KeyForVerification | undefined, now: Date): VerifyResult {
  const matches = digestsEqual(digestApiKey(parsed.raw), row?.digest ?? UNKNOWN_KEY_DIGEST);
  if (!row) return { ok: false, reason: 'unknown' };
  if (!matches) return { ok: false, reason: 'wrong_secret' };
  if (row.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
  if (row.expiresAt !== undefined && (parseRfc3339(row.expiresAt) ?? 0) <= now.getTime()) {
    return { ok: false, reason: 'expired' };
  }
  if (row.tenantDisabled) return { ok: false, reason: 'tenant_disabled' };
  return {
    ok: true,
    principal: { kind: 'apikey', tenant: row.tenant, role: row.role, keyId: row.id, displayName: row.displayName },
  };
}

/** Parses the token, reads one row by primary key, verifies: at once when the row is at hand (a cached one). */
export function authenticateApiKey(store: Store, token: string, now: Date): VerifyResult | Promise<VerifyResult> {
  const parsed = parseRawApiKey(token);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const row = store.apiKeys.getForVerification(parsed.id);
  return row instanceof Promise ? row.then((found) => verifyApiKey(parsed, found, now)) : verifyApiKey(parsed, row, now);
}
