import { createAccountWithOneTimePassword } from "./accounts.js";
import { AppError } from "./errors.js";
import { createTenant } from "./tenants.js";
export const DEMO_TENANT = 'demo';
export const DEMO_ADMIN = 'admin@example.com';
/**
 * First start on an empty store: tenant `demo` with admin `admin@example.com`
 * and a one-time password (returned, to be shown once). Undefined when the
 * store already has tenants.
 */
export async function bootstrapEmptyStore(store, now) {
    if ((await store.tenants.list()).length > 0)
        return undefined;
    try {
        await createTenant(store, { name: DEMO_TENANT, adminEmail: DEMO_ADMIN, displayName: 'Demo' }, now);
    }
    catch (error) {
        // Several instances started together on an empty store: one of them made it.
        if (error instanceof AppError && error.code === 'tenant_already_exists')
            return undefined;
        throw error;
    }
    const password = await createAccountWithOneTimePassword(store, DEMO_ADMIN, now);
    return password === undefined ? undefined : { tenant: DEMO_TENANT, email: DEMO_ADMIN, password };
}
