import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { MAX_KEY_CACHE_LEASE_MS } from './tuning.ts';
import type { Database } from './schema.ts';
import type { Forgotten, KeyRows } from './fast-paths.ts';

const require = createRequire(import.meta.url);

/**
 * The channel revocations are announced on: one per schema. NOTIFY reaches every listener of the database,
 * and Kupe schemas may share one database (each with its own sequence of revocation numbers), so a shared
 * channel let an instance acknowledge another schema's revocation number in its own schema, and a later
 * revocation of its own with that number then did not wait for it. Named in SQL by both sides alike, from
 * the connection's own schema: `kupe_revocations_` and 16 hex digits of the md5 of current_schema().
 */
const SCHEMA_CHANNEL = "'kupe_revocations_' || left(md5(current_schema()), 16)";
/**
 * The channel of Kupe before 2026-12-02, shared by every schema: still announced on and listened to, so that
 * instances of both kinds hear each other during a rolling upgrade (what comes on it is never acknowledged).
 */
const SHARED_CHANNEL = 'kupe_revocations';
/** How often the wait for acknowledgements looks again. */
const POLL_MS = 10;

/**
 * PostgreSQL: what makes an instance's key cache safe while other instances revoke keys.
 *
 * - Every revocation announces itself in its own transaction (`pg_notify`, delivered at commit, with a
 *   sequence number), and after the commit waits until every other instance holding a live lease has
 *   acknowledged it, or until that instance's lease has run out; only then does the DELETE answer.
 * - An instance listens on a connection of its own. A notification evicts the key at once, then is
 *   acknowledged. Every leaseMs / 3 the instance renews its lease through that same connection; the
 *   renewal's answer comes after every notification committed before it, so a renewed lease means
 *   "every revocation before this moment has been heard". The lease in the database ends leaseMs after
 *   the renewal ran; the instance's own deadline ends 90 % of leaseMs after it sent the renewal, on the
 *   monotonic clock and on the wall clock (a suspended machine), both checked at every use. So once a revoker has stopped waiting for an instance, that
 *   instance's deadline has passed too: frozen (SIGSTOP), partitioned or dead, it cannot serve a cached
 *   key after the DELETE's 204; awake again, it reads the store.
 * - A lost listening connection means no renewal: the cache lapses (and is emptied) until a new
 *   connection is listening and a renewal has succeeded. Meanwhile verification reads the store.
 */
export class RevocationFence {
  readonly instanceId = randomBytes(8).toString('hex');
  readonly #pool: pg.Pool;
  readonly #connectionString: string;
  readonly #leaseMs: number;
  readonly #onRevoked: (forgotten: Forgotten) => void;
  readonly #onLapse: () => void;
  readonly #onError: (error: unknown) => void;
  #deadline = 0;
  #wallDeadline = 0;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(pool: pg.Pool, connectionString: string, leaseMs: number, hooks: {
    onRevoked: (forgotten: Forgotten) => void; onLapse: () => void; onError: (error: unknown) => void;
  }) {
    this.#pool = pool;
    this.#connectionString = connectionString;
    this.#leaseMs = leaseMs;
    this.#onRevoked = hooks.onRevoked;
    this.#onLapse = hooks.onLapse;
    this.#onError = hooks.onError;
  }

  /** Whether the cache may answer now. When the lease has lapsed, the cache is emptied first. */
  holdsLease(): boolean {
    // The monotonic clock does not jump with the wall clock, but does not run while the whole machine is
    // suspended; the wall clock does. Both deadlines must hold.
    if (performance.now() < this.#deadline && Date.now() < this.#wallDeadline) return true;
    if (this.#deadline !== 0) {
      this.#deadline = 0;
      this.#onLapse();
    }
    return false;
  }

  /** Starts listening and renewing; resolves after the first attempt (the cache waits for a lease). */
  async start(): Promise<void> {
    await this.#renew();
  }

  async #connect(): Promise<pg.Client> {
    const { Client } = require('pg') as typeof pg;
    // A renewal or connect that hangs (a silent partition, a frozen server) gives up after a lease, so the
    // connection is replaced then, not when TCP keep-alive notices hours later.
    const client = new Client({
      connectionString: this.#connectionString, application_name: `kupe-listen ${process.pid}`, keepAlive: true,
      query_timeout: this.#leaseMs, connectionTimeoutMillis: this.#leaseMs,
    });
    client.on('error', (error) => {
      this.#onError(error);
      if (this.#client === client) this.#client = undefined;
    });
    client.on('notification', (message) => {
      const heard = parsePayload(message.payload ?? '');
      if (!heard) return;
      const { seq, forgotten } = heard;
      this.#onRevoked(forgotten);
      // The shared channel may carry another schema's revocation: the key is forgotten (a cache miss at worst)
      // but never acknowledged. Its revoker, if it runs an older Kupe, stops waiting at this instance's next
      // renewal, which comes through this connection after the notification.
      if (message.channel === SHARED_CHANNEL) return;
      this.#pool.query('insert into kupe_revocation_acks (seq, instance) values ($1, $2) on conflict do nothing', [seq, this.instanceId])
        .catch(this.#onError);
    });
    await client.connect();
    const channel = (await client.query<{ channel: string | null }>(`select ${SCHEMA_CHANNEL} as channel`)).rows[0]?.channel;
    if (!channel || !/^kupe_revocations_[0-9a-f]{16}$/.test(channel)) throw new Error('no current schema to listen for revocations in');
    await client.query(`listen ${channel}; listen ${SHARED_CHANNEL}`);
    this.#onLapse(); // whatever was cached before this connection listened may have missed revocations
    return client;
  }

  /** One renewal through the listening connection; schedules the next. */
  async #renew(): Promise<void> {
    if (this.#stopped) return;
    try {
      this.#client ??= await this.#connect();
      const sent = performance.now();
      const sentWall = Date.now();
      await this.#client.query(
        `insert into kupe_instances (id, lease_until, renewed_at) values ($1, now() + $2 * interval '1 millisecond', now())
         on conflict (id) do update set lease_until = excluded.lease_until, renewed_at = excluded.renewed_at`,
        [this.instanceId, this.#leaseMs]);
      this.#deadline = Math.max(this.#deadline, sent + this.#leaseMs * 0.9);
      this.#wallDeadline = Math.max(this.#wallDeadline, sentWall + this.#leaseMs * 0.9);
    } catch (error) {
      this.#onError(error);
      const client = this.#client;
      this.#client = undefined;
      client?.end().catch(() => {});
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => void this.#renew(), Math.max(100, Math.floor(this.#leaseMs / 3)));
      this.#timer.unref();
    }
  }

  /** Leaves: no revoker waits for this instance any more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#deadline = 0;
    this.#wallDeadline = 0;
    await this.#pool.query('delete from kupe_instances where id = $1', [this.instanceId]).catch(() => {});
    await this.#client?.end().catch(() => {});
  }
}

/**
 * A notification's payload: `SEQ:KEY_ID` for a revoked key, `SEQ:tenant:NAME` for a disabled tenant (every
 * key of it). Kupe 0.1.0 reads the second as a key id `tenant` (nothing to forget) and knows nothing of
 * disabled tenants anyway (docs/upgrading.md).
 */
function payloadOf(seq: string, forgotten: Forgotten): string {
  return 'keyId' in forgotten ? `${seq}:${forgotten.keyId}` : `${seq}:tenant:${forgotten.tenant}`;
}

function parsePayload(payload: string): { seq: string; forgotten: Forgotten } | undefined {
  const [seq, first, second] = payload.split(':');
  if (!seq || !first) return undefined;
  if (first !== 'tenant') return { seq, forgotten: { keyId: first } };
  return second ? { seq, forgotten: { tenant: second } } : undefined;
}

/** How a PostgreSQL store's revocations reach the other instances (see RevocationFence). */
export interface Revocations {
  /** Inside the revoking transaction: the announcement, delivered to every listener at commit. */
  announce(db: Kysely<Database>, forgotten: Forgotten): Promise<string>;
  /** After the commit: returns once every other live instance has heard it, or its lease has run out. */
  awaitHeard(seq: string): Promise<void>;
}

export function postgresRevocations(
  pool: pg.Pool, ownInstance: () => string | undefined, onError: (error: unknown) => void,
): Revocations {
  return {
    async announce(db, forgotten) {
      const { rows } = await sql<{ seq: string }>`select nextval('kupe_revocation_seq')::text as seq`.execute(db);
      const seq = rows[0]!.seq;
      const payload = payloadOf(seq, forgotten);
      await sql`select pg_notify(${sql.raw(SCHEMA_CHANNEL)}, ${payload}), pg_notify(${SHARED_CHANNEL}, ${payload})`.execute(db);
      return seq;
    },
    async awaitHeard(seq) {
      // Each instance's own lease_until, not this instance's setting: instances may run with different leases.
      // Once every live lease has been acknowledged or has ended, no instance can serve the key from its cache
      // (its own deadline ends before its lease_until). No lease reaches past the largest Kupe accepts.
      // An instance whose renewal started after the commit is not waited for either: that renewal's answer came
      // through the listening connection after the notification, or the connection began listening after the
      // commit (and emptied the cache then).
      const until = performance.now() + MAX_KEY_CACHE_LEASE_MS + 1000;
      const committedBy = (await pool.query<{ at: string }>('select now()::text as at')).rows[0]!.at;
      for (;;) {
        const { rows } = await pool.query<{ waiting: number }>(
          `select count(*)::int as waiting from kupe_instances i
            where i.lease_until > now() and i.id is distinct from $2
              and (i.renewed_at is null or i.renewed_at <= $3::timestamptz)
              and not exists (select 1 from kupe_revocation_acks a where a.seq = $1 and a.instance = i.id)`,
          [seq, ownInstance() ?? null, committedBy]);
        if (rows[0]!.waiting === 0) break;
        if (performance.now() >= until) {
          onError(new Error(`revocation ${seq}: ${rows[0]!.waiting} instance(s) neither acknowledged nor let their lease end within ${MAX_KEY_CACHE_LEASE_MS + 1000} ms`));
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      // Housekeeping, on the rare path: old acknowledgements, and the lease rows of instances gone an hour.
      // Old acknowledgements are never waited for again (a revocation waits at most about a minute).
      await pool.query(`delete from kupe_revocation_acks where acked_at < now() - interval '5 minutes'`).catch(onError);
      await pool.query(`delete from kupe_instances where lease_until < now() - interval '1 hour'`).catch(onError);
    },
  };
}

/** What a store's revoking writes need: this process's key cache, the fence, the transaction's after-commit work. */
export interface RevocationParts {
  keyRows?: KeyRows | undefined;
  revocations?: Revocations | undefined;
  /** In a transaction: work that must follow its commit. */
  afterCommit?: (() => Promise<void>)[] | undefined;
}

/**
 * Called by a write that ends keys (a revocation, a tenant disabled) as soon as it has run: this process's key
 * cache forgets them at once (committed or not: see src/store/fast-paths.ts), and on PostgreSQL the other
 * instances hear of it at commit; the write's answer waits until they have (or their leases have ended).
 */
export async function revokeEverywhere(db: Kysely<Database>, parts: RevocationParts, forgotten: Forgotten): Promise<void> {
  parts.keyRows?.forget(forgotten);
  const { revocations } = parts;
  if (!revocations) return;
  const seq = await revocations.announce(db, forgotten);
  const heard = () => revocations.awaitHeard(seq);
  if (parts.afterCommit) parts.afterCommit.push(heard);
  else await heard();
}
