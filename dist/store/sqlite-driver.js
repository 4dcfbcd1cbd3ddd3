import { CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, } from 'kysely';
/**
 * better-sqlite3 is synchronous: with a busy_timeout, a write that meets
 * another process's lock (the operator CLI, a backup) blocks the whole event
 * loop until the lock goes or the timeout ends. So the connection runs with
 * busy_timeout 0, and a statement refused with SQLITE_BUSY is tried again
 * after an asynchronous pause, until `lockWaitMs` have passed; then the
 * error goes up (and the request answers 503). Meanwhile every other request,
 * health checks included, is served.
 *
 * Transactions take the write lock at BEGIN (BEGIN IMMEDIATE), so a
 * statement inside one never meets a lock and a refused BEGIN can simply be
 * tried again. Only a transaction needs the connection to itself: other
 * statements run whenever no transaction is open, each one synchronous, so
 * none can interleave with another.
 */
export class NonBlockingSqliteDriver {
    #sqlite;
    #database;
    #lockWaitMs;
    /** Held from BEGIN to COMMIT/ROLLBACK: one transaction at a time on the one connection. */
    #transaction;
    #endTransaction;
    #owner;
    constructor(sqlite, database, lockWaitMs) {
        this.#sqlite = sqlite;
        this.#database = database;
        this.#lockWaitMs = lockWaitMs;
    }
    async init() { }
    async acquireConnection() {
        return new Connection(this);
    }
    /** Waits (for this process's transaction, then for other processes' locks) at most lockWaitMs in all. */
    async beginTransaction(connection) {
        const deadline = Date.now() + this.#lockWaitMs;
        while (this.#transaction) {
            const left = deadline - Date.now();
            if (left <= 0)
                throw lockTimeout(this.#lockWaitMs);
            let timer;
            await Promise.race([this.#transaction, new Promise((resolve) => { timer = setTimeout(resolve, left); })]);
            clearTimeout(timer);
        }
        this.#transaction = new Promise((resolve) => { this.#endTransaction = resolve; });
        try {
            await retryWhileBusy(() => this.#sqlite.exec('begin immediate'), deadline);
            this.#owner = connection;
        }
        catch (error) {
            this.#release();
            throw error;
        }
    }
    async commitTransaction(connection) {
        if (this.#owner !== connection)
            throw new Error('commit without a transaction of this connection');
        this.#sqlite.exec('commit');
        this.#release();
    }
    /** After a failed COMMIT (a full disk) SQLite may have rolled back already: a second ROLLBACK would hide why. */
    async rollbackTransaction(connection) {
        if (this.#owner !== connection)
            return; // never another connection's transaction
        try {
            if (this.#sqlite.inTransaction)
                this.#sqlite.exec('rollback');
        }
        finally {
            this.#release();
        }
    }
    async releaseConnection() { }
    async destroy() {
        this.#database.close();
    }
    #release() {
        this.#owner = undefined;
        this.#transaction = undefined;
        this.#endTransaction?.();
    }
    /** Runs one statement: at once inside the caller's own transaction, otherwise once no transaction is open. */
    async execute(connection, query) {
        if (this.#owner === connection)
            return this.#run(query);
        return retryWhileBusy(async () => {
            while (this.#owner !== undefined)
                await this.#transaction;
            return this.#run(query);
        }, Date.now() + this.#lockWaitMs);
    }
    #run(query) {
        const statement = this.#database.prepare(query.sql);
        const parameters = query.parameters;
        if (statement.reader)
            return { rows: statement.all(parameters) };
        const { changes, lastInsertRowid } = statement.run(parameters);
        return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    }
}
class Connection {
    #driver;
    constructor(driver) {
        this.#driver = driver;
    }
    executeQuery(query) {
        return this.#driver.execute(this, query);
    }
    // eslint-disable-next-line require-yield
    async *streamQuery() {
        throw new Error('streaming is not used by Kupe');
    }
}
/**
 * Tries `attempt` until it does not fail with SQLITE_BUSY, pausing
 * asynchronously between tries (1 ms doubling to 50 ms); past the deadline,
 * the last SQLITE_BUSY is thrown.
 */
async function retryWhileBusy(attempt, deadline) {
    for (let pause = 1;; pause = Math.min(pause * 2, 50)) {
        try {
            return await attempt();
        }
        catch (error) {
            if (!isBusy(error) || Date.now() + pause > deadline)
                throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
    }
}
/** Classified like SQLite's own SQLITE_BUSY (a lock fault). */
function lockTimeout(ms) {
    return Object.assign(new Error(`database is locked: no write lock within ${ms} ms`), { code: 'SQLITE_BUSY' });
}
export function isBusy(error) {
    const code = error?.code;
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
/** Kysely's SQLite dialect with the driver above. */
export function nonBlockingSqliteDialect(sqlite, database, lockWaitMs) {
    return {
        createAdapter: () => new SqliteAdapter(),
        createDriver: () => new NonBlockingSqliteDriver(sqlite, database, lockWaitMs),
        createIntrospector: (db) => new SqliteIntrospector(db),
        createQueryCompiler: () => new SqliteQueryCompiler(),
    };
}
/**
 * Readiness on SQLite: a real table can be read, and the write lock can be
 * had within ~100 ms (another process holding it longer means every write
 * would wait and then fail). Our own open transaction holds the lock already.
 */
export async function probeSqlite(sqlite) {
    sqlite.prepare('select id from api_keys limit 1').get();
    await retryWhileBusy(() => {
        if (sqlite.inTransaction)
            return;
        sqlite.exec('begin immediate');
        sqlite.exec('rollback');
    }, Date.now() + 100);
}
