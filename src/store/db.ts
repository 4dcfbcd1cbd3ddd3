import { createRequire } from 'node:module';
import type SQLite from 'better-sqlite3';
import {
  type DatabaseIntrospector, Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, sql,
} from 'kysely';
import type pg from 'pg';
import type { DatabaseTuning } from './tuning.ts';
import { describeStoreFault } from './faults.ts';
import {
  cachedPostgresKeyReader, cachedSqliteKeyReader, KeyRowCache, type KeyRows, postgresKeyReader, withStatementCache,
} from './fast-paths.ts';
import { postgresRevocations, type Revocations, RevocationFence } from './revocation-fence.ts';
import { createPrivateFile } from './private-file.ts';
import { nonBlockingSqliteDialect } from './sqlite-driver.ts';
import type { Database, Dialect } from './schema.ts';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The key lookup of every authenticated request, bypassing the query builder (outside transactions). */
  keyRows?: KeyRows;
  /** PostgreSQL: how revocations reach the other instances, and this instance's fence (with a key cache). */
  revocations?: Revocations;
  fence?: RevocationFence;
  /** The SQLite connection itself (for the readiness probe). */
  sqlite?: SQLite.Database;
}


export interface DatabaseOptions extends DatabaseTuning {
  /** Errors no request is waiting for (a pooled connection dropped by a restart): to log and count. */
  onBackgroundError?: ((error: unknown) => void) | undefined;
}

// Each driver is loaded only for the database it serves (node-postgres costs about 4 MB of memory on an
// instance that runs on SQLite); both are CommonJS, so require() keeps opening synchronous.
const require = createRequire(import.meta.url);

/**
 * PostgreSQL, with an introspector that reads only the schema the connection's search_path selects.
 * Kysely's own (which the migrator calls at every start) reads the columns of every schema in the database,
 * and fails with "schema ... does not exist" when another schema is dropped meanwhile (another deployment's,
 * or a test's next to this one); Kupe has nothing to learn from other schemas.
 */
class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<Database>): DatabaseIntrospector {
    const introspector: DatabaseIntrospector = {
      getSchemas: async () => [{ name: await currentSchema(db) }],
      getTables: async () => {
        const { rows } = await sql<{ schema: string; name: string; type: string }>`
          select table_schema as schema, table_name as name, table_type as type from information_schema.tables
          where table_schema = current_schema()`.execute(db);
        return rows.map((row) => ({ schema: row.schema, name: row.name, isView: row.type === 'VIEW', columns: [] }));
      },
      getMetadata: async () => ({ tables: await introspector.getTables() }),
    };
    return introspector;
  }
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  return (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]!.schema;
}

/** Opens the database that KUPE_DATABASE_URL names (validated by loadConfig). */
export function openDatabase(url: string, options: DatabaseOptions): OpenedDatabase {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), options);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options);
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
function openPostgres(url: string, options: DatabaseOptions): OpenedDatabase {
  const report = options.onBackgroundError ?? (() => {});
  const { Pool } = require('pg') as typeof pg;
  const pool = new Pool({
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
  pool.on('error', () => {}); // an idle client's error: already reported by the listener above
  const db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool: discardingBrokenClients(pool) }) });
  const read = postgresKeyReader(pool);
  if (options.keyCacheSize <= 0) {
    return { db, dialect: 'postgres', keyRows: { read, readForVerification: read, forget: () => {} }, revocations: postgresRevocations(pool, () => undefined, report) };
  }
  // The cache answers only while the fence holds a lease, i.e. once the server has started it.
  const cache = new KeyRowCache(options.keyCacheSize);
  const fence = new RevocationFence(pool, url, options.keyCacheLeaseMs, {
    onRevoked: (forgotten) => cache.forget(forgotten), onLapse: () => cache.clear(), onError: report,
  });
  return {
    db, dialect: 'postgres', keyRows: cachedPostgresKeyReader(read, cache, fence), fence,
    revocations: postgresRevocations(pool, () => fence.instanceId, report),
  };
}

/** The pool as Kysely sees it, except that a client whose query met a connection fault is not reused. */
function discardingBrokenClients(pool: pg.Pool): PostgresPool {
  return {
    async connect() {
      const client = await pool.connect();
      let broken = false;
      return {
        query: (async (text: string, values: readonly unknown[]) => {
          try {
            return await client.query(text, [...values]);
          } catch (error) {
            const kind = describeStoreFault(error)?.kind;
            broken ||= kind === 'unavailable' || kind === 'timeout';
            throw error;
          }
        }) as unknown as PostgresPoolClient['query'],
        release: () => client.release(broken),
      };
    },
    end: () => pool.end(),
  };
}

function openSqlite(path: string, options: DatabaseOptions): OpenedDatabase {
  if (path !== ':memory:') createPrivateFile(path);
  const Database = require('better-sqlite3') as typeof SQLite;
  const sqlite = new Database(path);
  sqlite.pragma('busy_timeout = 5000'); // opening may wait: nothing else runs yet
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL'); // an acknowledged write survives a power loss, not only a crash
  sqlite.pragma('foreign_keys = ON');
  // From now on a lock never blocks the event loop: the driver waits for it asynchronously.
  sqlite.pragma('busy_timeout = 0');
  const dialect = nonBlockingSqliteDialect(sqlite, withStatementCache(sqlite), options.statementTimeoutMs);
  const db = new Kysely<Database>({ dialect });
  return { db, dialect: 'sqlite', keyRows: cachedSqliteKeyReader(sqlite, options.keyCacheSize), sqlite };
}
