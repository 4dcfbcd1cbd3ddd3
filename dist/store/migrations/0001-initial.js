import {} from 'kysely';
// Frozen in time: this file never imports application code.
export function initial(dialect) {
    return {
        async up(db) {
            await db.schema
                .createTable('tenants')
                .addColumn('name', 'text', (c) => c.primaryKey())
                .addColumn('display_name', 'text', (c) => c.notNull())
                .addColumn('contact_email', 'text', (c) => c.notNull())
                .addColumn('plan', 'text', (c) => c.notNull())
                .addColumn('enforce_metrics_limit', 'integer', (c) => c.notNull())
                .addColumn('enforce_log_limit', 'integer', (c) => c.notNull())
                .addColumn('resource_version', 'integer', (c) => c.notNull())
                .addColumn('created_at', 'text', (c) => c.notNull())
                .addColumn('phase', 'text', (c) => c.notNull())
                .execute();
            await db.schema
                .createTable('members')
                .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.name'))
                .addColumn('email', 'text', (c) => c.notNull())
                .addColumn('role', 'text', (c) => c.notNull())
                .addColumn('created_at', 'text', (c) => c.notNull())
                .addPrimaryKeyConstraint('members_pk', ['tenant', 'email'])
                .execute();
            await db.schema
                .createTable('api_keys')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.name'))
                .addColumn('display_name', 'text', (c) => c.notNull())
                .addColumn('role', 'text', (c) => c.notNull())
                .addColumn('digest', 'text', (c) => c.notNull())
                .addColumn('created_by', 'text', (c) => c.notNull())
                .addColumn('created_at', 'text', (c) => c.notNull())
                .addColumn('expires_at', 'text')
                .addColumn('last_used_at', 'text')
                .addColumn('revoked_at', 'text')
                .addColumn('revoked_by', 'text')
                .execute();
            await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant', 'created_at']).execute();
            await db.schema
                .createTable('audit_log')
                .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement())
                .addColumn('tenant', 'text', (c) => c.notNull())
                .addColumn('time', 'text', (c) => c.notNull())
                .addColumn('actor', 'text', (c) => c.notNull())
                .addColumn('action', 'text', (c) => c.notNull())
                .addColumn('target', 'text', (c) => c.notNull())
                .addColumn('client_ip', 'text')
                .addColumn('request_id', 'text')
                .execute();
            await db.schema.createIndex('audit_log_tenant').on('audit_log').columns(['tenant', 'id']).execute();
        },
    };
}
