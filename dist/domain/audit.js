import { validationError } from "./errors.js";
export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;
export async function listAuditLog(store, tenant, query) {
    const limit = query.limit ?? AUDIT_PAGE_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) {
        throw validationError(`limit must be a whole number from 1 to ${AUDIT_PAGE_MAX}`);
    }
    if (query.before !== undefined && !/^[1-9][0-9]{0,17}$/.test(query.before)) {
        throw validationError('before must be the id of an audit entry, e.g. 42');
    }
    return store.audit.list(tenant, limit, query.before, { action: query.action, actor: query.actor?.toLowerCase() });
}
