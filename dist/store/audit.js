export function auditRepository(db) {
    return {
        async append(e) {
            await db
                .insertInto('audit_log')
                .values({
                tenant: e.tenant, time: e.time, actor: e.actor, action: e.action, target: e.target,
                client_ip: e.clientIp ?? null, request_id: e.requestId ?? null,
            })
                .execute();
        },
        async purgeBefore(time, batch) {
            // In batches, by primary key: a year of entries never holds the write lock for long.
            const result = await db.deleteFrom('audit_log')
                .where('id', 'in', db.selectFrom('audit_log').select('id').where('time', '<', time).orderBy('id').limit(batch))
                .executeTakeFirst();
            return Number(result.numDeletedRows);
        },
        async list(tenant, limit, before, filter = {}) {
            let query = db.selectFrom('audit_log').selectAll().where('tenant', '=', tenant);
            if (before !== undefined)
                query = query.where('id', '<', Number(before));
            if (filter.action !== undefined)
                query = query.where('action', '=', filter.action);
            if (filter.actor !== undefined)
                query = query.where('actor', '=', filter.actor);
            const rows = await query.orderBy('id', 'desc').limit(limit).execute();
            return rows.map((r) => ({
                id: String(r.id), tenant: r.tenant, time: r.time, actor: r.actor, action: r.action,
                target: r.target, clientIp: r.client_ip ?? undefined, requestId: r.request_id ?? undefined,
            }));
        },
    };
}
