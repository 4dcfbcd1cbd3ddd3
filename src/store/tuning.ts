/**
 * What the store needs to be told: the settings it runs with are read and validated by src/config.ts and
 * passed in by the caller (the composition root, the operator CLI, the tests); the store has no defaults of
 * its own and reads no environment.
 *
 * How Kupe uses its database: connections, and how long it waits before answering 503.
 */
export interface DatabaseTuning {
  /** PostgreSQL connections per instance. */
  poolSize: number;
  /** PostgreSQL: how long opening a connection (or waiting for a free one) may take. */
  connectTimeoutMs: number;
  /**
   * How long one statement may take: PostgreSQL's statement_timeout (and, a second later, the client's own
   * deadline for a server that does not answer at all); SQLite: how long a write waits for another
   * process's lock, without blocking the event loop.
   */
  statementTimeoutMs: number;
  /** PostgreSQL: a transaction left idle this long is ended by the server. */
  idleInTransactionTimeoutMs: number;
  /** API keys whose rows verification keeps in memory (0: none); see src/store/fast-paths.ts. */
  keyCacheSize: number;
  /** PostgreSQL: an instance's lease on the revocation channel; a DELETE waits for a silent instance until its own lease ends. */
  keyCacheLeaseMs: number;
}

/**
 * The longest lease KUPE_KEY_CACHE_LEASE_MS takes. Instances may run with different leases; a DELETE waits for
 * each silent one until its own lease ends, and never longer than this and a second.
 */
export const MAX_KEY_CACHE_LEASE_MS = 60_000;
