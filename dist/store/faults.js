/** SQLite result codes (better-sqlite3's `code`, extended codes included by prefix). */
const SQLITE_KINDS = [
    ['SQLITE_BUSY', 'locked'],
    ['SQLITE_LOCKED', 'locked'],
    ['SQLITE_FULL', 'disk_full'],
    ['SQLITE_READONLY', 'read_only'],
    ['SQLITE_CORRUPT', 'corrupt'],
    ['SQLITE_NOTADB', 'corrupt'],
    ['SQLITE_IOERR', 'io_error'],
    ['SQLITE_CANTOPEN', 'io_error'],
];
/** PostgreSQL SQLSTATEs that say the database, not the request, is the problem. */
const POSTGRES_KINDS = {
    '57P01': 'unavailable', // admin_shutdown: a restart or pg_terminate_backend
    '57P02': 'unavailable', // crash_shutdown
    '57P03': 'unavailable', // cannot_connect_now: starting up or shutting down
    '53300': 'unavailable', // too_many_connections
    '53200': 'unavailable', // out_of_memory
    '57014': 'timeout', // query_canceled: statement_timeout
    '25P03': 'timeout', // idle_in_transaction_session_timeout
    '55P03': 'locked', // lock_not_available
    '40001': 'locked', // serialization_failure
    '40P01': 'locked', // deadlock_detected
    '53100': 'disk_full',
    '25006': 'read_only', // read_only_sql_transaction: a replica, or default_transaction_read_only
    'XX001': 'corrupt', // data_corrupted
    'XX002': 'corrupt', // index_corrupted
    '58030': 'io_error',
};
/** Socket-level errors of node-postgres (and Node's net module). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-postgres reports these without a code. */
const POSTGRES_MESSAGES = [
    [/^Query read timeout$/, 'timeout'],
    [/timeout exceeded when trying to connect|connection timeout/i, 'timeout'],
    [/^Connection terminated|not queryable|Client was closed/, 'unavailable'],
];
function kindOf(error) {
    const code = typeof error.code === 'string' ? error.code : '';
    const message = typeof error.message === 'string' ? error.message : '';
    if (code.startsWith('SQLITE_'))
        return SQLITE_KINDS.find(([prefix]) => code.startsWith(prefix))?.[1];
    if (code in POSTGRES_KINDS)
        return POSTGRES_KINDS[code];
    if (code.startsWith('08'))
        return 'unavailable'; // connection_exception
    if (NETWORK_CODES.has(code))
        return 'unavailable';
    return POSTGRES_MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
}
/**
 * The fault behind a driver error (or one it caused: `cause` chains are
 * followed), or undefined when the error is not the database's doing.
 */
export function describeStoreFault(error) {
    for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
        const kind = kindOf(current);
        if (kind) {
            const code = current.code;
            return { kind, detail: typeof code === 'string' ? `${code}: ${current.message}` : current.message };
        }
    }
    return undefined;
}
