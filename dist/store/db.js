import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, } from 'kysely';
import pg from 'pg';
import { describeStoreFault } from "./faults.js";
import { nonBlockingSqliteDialect } from "./sqlite-driver.js";
/** Opens the database that KUPE_DATABASE_URL names (validated by loadConfig). */
export function openDatabase(url, options) {
    if (url.startsWith('sqlite:'))
        return openSqlite(url.slice('sqlite:'.length), options);
    if (/^postgres(ql)?:\/\//.test(url))
        return openPostgres(url, options);
    throw new Error(`unsupported database URL scheme: ${url.split(':')[0]}`);
}
/**
 * PostgreSQL through node-postgres' pool. Every instance reads keys from the
 * primary: a replica could still show a revoked key as valid.
 *
 * A connection can break at any moment (a restart, a failover,
 * pg_terminate_backend): node-postgres then emits 'error' on the client, which
 * ends the process unless someone listens, so every client gets a listener
 * the moment it is made. A server that stops answering without closing the
 * socket (frozen, partitioned) is caught by the client's own deadline, one
 * second after the server's statement_timeout; a connection that failed that
 * way is discarded rather than handed to the next request.
 */
function openPostgres(url, options) {
    const report = options.onBackgroundError ?? (() => { });
    const pool = new pg.Pool({
        connectionString: url,
        application_name: 'kupe',
        max: options.poolSize,
        connectionTimeoutMillis: options.connectTimeoutMs,
        statement_timeout: options.statementTimeoutMs,
        query_timeout: options.statementTimeoutMs + 1000,
        idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs,
        keepAlive: true,
    });
    pool.on('connect', (client) => client.on('error', report));
    pool.on('error', () => { }); // an idle client's error: already reported by the listener above
    const db = new Kysely({ dialect: new PostgresDialect({ pool: discardingBrokenClients(pool) }) });
    // A named statement: each pooled connection parses and plans it once, then only binds and executes.
    // (pool.query discards a client whose query failed.)
    const readApiKeyRow = async (id) => {
        const result = await pool.query({
            name: 'kupe_api_key_by_id', text: 'select * from api_keys where id = $1', values: [id],
        });
        return result.rows[0];
    };
    return { db, dialect: 'postgres', readApiKeyRow };
}
/** The pool as Kysely sees it, except that a client whose query met a connection fault is not reused. */
function discardingBrokenClients(pool) {
    return {
        async connect() {
            const client = await pool.connect();
            let broken = false;
            return {
                query: (async (text, values) => {
                    try {
                        return await client.query(text, [...values]);
                    }
                    catch (error) {
                        const kind = describeStoreFault(error)?.kind;
                        broken ||= kind === 'unavailable' || kind === 'timeout';
                        throw error;
                    }
                }),
                release: () => client.release(broken),
            };
        },
        end: () => pool.end(),
    };
}
function openSqlite(path, options) {
    if (path !== ':memory:')
        mkdirSync(dirname(path), { recursive: true });
    const sqlite = new SQLite(path);
    sqlite.pragma('busy_timeout = 5000'); // opening may wait: nothing else runs yet
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL'); // an acknowledged write survives a power loss, not only a crash
    sqlite.pragma('foreign_keys = ON');
    // From now on a lock never blocks the event loop: the driver waits for it asynchronously.
    sqlite.pragma('busy_timeout = 0');
    const dialect = nonBlockingSqliteDialect(sqlite, withStatementCache(sqlite), options.statementTimeoutMs);
    const db = new Kysely({ dialect });
    // Prepared on first use: the table exists only once migrations have run.
    let lookup;
    const readApiKeyRow = (id) => {
        lookup ??= sqlite.prepare('select * from api_keys where id = ?');
        return lookup.get(id);
    };
    return { db, dialect: 'sqlite', readApiKeyRow, sqlite };
}
const STATEMENT_CACHE_SIZE = 256;
/**
 * Kysely prepares every query anew; on SQLite, preparing costs three times
 * as much as running a primary-key read, and the statements it leaves for
 * the garbage collector cost more again. The queries are a small fixed set
 * (values are bound, never inlined), so each SQL text is prepared once.
 * A statement still iterating (a streamed query) is never handed out twice.
 */
function withStatementCache(sqlite) {
    const cache = new Map();
    return {
        close: () => sqlite.close(),
        prepare(sql) {
            const cached = cache.get(sql);
            if (cached && !cached.busy)
                return cached;
            const statement = sqlite.prepare(sql);
            if (!cached) {
                if (cache.size >= STATEMENT_CACHE_SIZE)
                    cache.delete(cache.keys().next().value);
                cache.set(sql, statement);
            }
            return statement;
        },
    };
}
