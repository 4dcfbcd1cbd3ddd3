import { validationError } from './errors.ts';
import type { AuditFilter, AuditRecord, Store } from './store.ts';
import { AUDIT_CURSOR_PATTERN } from './vocabulary.ts';

const AUDIT_CURSOR = new RegExp(AUDIT_CURSOR_PATTERN);

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;

export async function listAuditLog(
  store: Store, tenant: string,
  query: { limit?: number | undefined; before?: string | undefined } & AuditFilter,
): Promise<AuditRecord[]> {
  const limit = query.limit ?? AUDIT_PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) {
    throw validationError(`limit must be a whole number from 1 to ${AUDIT_PAGE_MAX}`);
  }
  if (query.before !== undefined && !AUDIT_CURSOR.test(query.before)) {
    throw validationError('before must be the id of an audit entry, e.g. 42');
  }
  return store.audit.list(tenant, limit, query.before, { action: query.action, actor: query.actor?.toLowerCase() });
}
