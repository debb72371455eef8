import pg from 'pg';
import { StoreUnavailableError } from './errors.js';

/** Connection settings of the pool; every field has a default suited to one `hotpath serve`. */
export interface PostgresPoolOptions {
  /** Most connections this process opens; default 10 (two replicas stay far below PostgreSQL's default 100). */
  maxConnections?: number;
  /** Longest wait for a connection (a new one, or a free one of the pool); default 5 s. */
  connectTimeoutMs?: number;
  /** Longest a statement may run on the server (`statement_timeout`); default 30 s. */
  statementTimeoutMs?: number;
  /** Idle connections are closed after this; default 30 s. */
  idleTimeoutMs?: number;
  /** Called with errors of idle connections (the server restarted, the network dropped); they are discarded either way. */
  onIdleError?: (err: Error) => void;
}

/** SQLSTATE classes that mean "the server cannot serve now", not "this statement is wrong". */
const UNAVAILABLE_CLASSES = new Set([
  '08', // connection exception
  '53', // insufficient resources (too many connections, out of memory or disk)
  '57', // operator intervention: shutdown, crash, query canceled (statement_timeout)
  '58', // system error (I/O)
]);
/** Single SQLSTATEs of the same kind: serialization failure and deadlock, which a retry resolves. */
const UNAVAILABLE_STATES = new Set(['40001', '40P01']);

/**
 * Returns the error a caller of the index or key store gets for a driver error: a
 * StoreUnavailableError when the database could not serve the call (no connection, connection
 * lost, server shutting down or overloaded, statement timeout), the error itself otherwise (a bug
 * or a constraint the caller handles). pg reports connection-level failures as plain errors
 * (socket errors, its own timeouts) and the server's refusals as DatabaseError with a SQLSTATE,
 * so this goes by type and code.
 */
export function storeError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    if (!UNAVAILABLE_CLASSES.has(code.slice(0, 2)) && !UNAVAILABLE_STATES.has(code)) return err;
  } else if (!isConnectionError(err)) {
    // Our own errors (ProfileExistsError, a bad parameter) pass through as they are.
    return err;
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`the index database (PostgreSQL) is unavailable: ${detail}`, { cause: err });
}

/**
 * pg reports a lost or refused connection as a plain Error (its own timeouts and "Connection
 * terminated") or a socket's system error (ECONNREFUSED, ECONNRESET…); every error of ours is of a
 * class of its own.
 */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (Object.getPrototypeOf(err) === Error.prototype) return true;
  const { code, syscall } = err as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && typeof syscall === 'string';
}

/**
 * The settings of Hotpath's sessions, for short statements driven by indexes (a `?options=` in
 * the index URL replaces them all). Measured at a million profiles (bench/scale):
 * - `jit=off`: compiling cost 15-25 ms per statement whose estimated cost passed
 *   jit_above_cost, more than running the statement;
 * - `max_parallel_workers_per_gather=0`: a parallel plan's workers took 30-100 ms to start on a
 *   busy machine, for a page one process reads in a few;
 * - `random_page_cost=1.1`: the indexes a search reads stay in memory, so a lookup by id costs
 *   about what a step along an index costs; at the default 4, a metric term counted by hashing
 *   every profile of the window (500,000 index entries) instead of looking up its 10,000
 *   profiles (150 ms against 55 ms).
 */
export const SESSION_OPTIONS = '-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1';

/** A call after close(): a bug in the caller. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
}

/**
 * A pool of connections to one PostgreSQL database, with the timeouts a server needs: a bounded
 * number of connections, a bounded wait for one, a statement timeout on the server and a query
 * timeout in the client (a server that stops answering without closing the socket), TCP
 * keep-alive, and idle connections closed. A connection that fails is discarded and the next
 * call opens a new one, so the pool recovers by itself when the server is back. Every call
 * rejects with StoreUnavailableError when the database cannot serve it.
 */
export class PostgresPool {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(url: string, options: PostgresPoolOptions = {}) {
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
      statement_timeout: statementTimeoutMs,
      // The client gives up a little after the server would have: a dead peer that never answers.
      query_timeout: statementTimeoutMs + 5000,
      // A transaction left open by a crashed caller must not hold locks forever.
      idle_in_transaction_session_timeout: 60_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'hotpath',
      options: SESSION_OPTIONS,
    });
    // Without a listener, an idle connection's error (the server restarting) ends the process.
    this.pool.on('error', (err) => options.onIdleError?.(err));
  }

  /**
   * Runs one statement (its own transaction) and returns its rows. `name` makes it a prepared
   * statement, parsed once per connection: for fixed statements that run often (inserts), not for
   * searches, whose plans should see each call's values.
   */
  async query<R extends pg.QueryResultRow>(text: string, params: readonly unknown[] = [], name?: string): Promise<pg.QueryResult<R>> {
    this.checkOpen();
    try {
      return await this.pool.query<R>({ text, values: params as unknown[], name });
    } catch (err) {
      throw storeError(err);
    }
  }

  /**
   * Runs `f` with one connection of the pool to itself (session state: advisory locks, a
   * transaction). The connection returns to the pool afterwards, or is discarded when `f`
   * failed on it, so a broken connection is never reused.
   */
  async withClient<T>(f: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.checkOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    let broken: Error | undefined;
    // A checked-out connection that fails between statements (the server restarted during a
    // long job) emits 'error'; unheard, that would end the process. Its next statement fails too.
    const onError = (err: Error): void => {
      broken ??= new StoreUnavailableError(`the index database (PostgreSQL) connection failed: ${err.message}`, { cause: err });
    };
    client.on('error', onError);
    try {
      return await f(client);
    } catch (err) {
      const mapped = storeError(err);
      if (mapped instanceof StoreUnavailableError) broken ??= mapped;
      throw mapped;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /** Runs `f` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(f: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await f(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes every connection (waiting for those in use to be released); calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError('the PostgreSQL store is closed');
  }
}
