// Frozen in time: this file never imports application code.
export function accounts() {
    return {
        async up(db) {
            await db.schema
                .createTable('users')
                .addColumn('email', 'text', (c) => c.primaryKey())
                .addColumn('password_hash', 'text', (c) => c.notNull())
                .addColumn('must_change_password', 'integer', (c) => c.notNull())
                .addColumn('created_at', 'text', (c) => c.notNull())
                .addColumn('password_changed_at', 'text', (c) => c.notNull())
                .execute();
            await db.schema
                .createTable('sessions')
                .addColumn('id', 'text', (c) => c.primaryKey()) // sha256 of the cookie's token, hex
                .addColumn('email', 'text', (c) => c.notNull().references('users.email'))
                .addColumn('csrf_token', 'text', (c) => c.notNull())
                .addColumn('created_at', 'text', (c) => c.notNull())
                .addColumn('last_seen_at', 'text', (c) => c.notNull())
                .addColumn('expires_at', 'text', (c) => c.notNull())
                .execute();
            await db.schema.createIndex('sessions_email').on('sessions').column('email').execute();
            await db.schema
                .createTable('invites')
                .addColumn('id', 'text', (c) => c.primaryKey()) // sha256 of the link's token, hex
                .addColumn('email', 'text', (c) => c.notNull())
                .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.name'))
                .addColumn('created_by', 'text', (c) => c.notNull())
                .addColumn('created_at', 'text', (c) => c.notNull())
                .addColumn('expires_at', 'text', (c) => c.notNull())
                .addColumn('used_at', 'text')
                .execute();
        },
    };
}
