import type { KeyStore } from './keys.js';
import { PgProfileIndex } from './pg-index.js';
import { PgKeyStore } from './pg-keys.js';
import { ensureTrigramIndex, migratePostgres } from './pg-migrations.js';
import { PostgresPool, type PostgresPoolOptions } from './pg-pool.js';
import type { ProfileIndex } from './profile-index.js';

/** The index and the keys in one PostgreSQL database, over one pool of connections. */
export interface PostgresBackend {
  index: ProfileIndex;
  keys: KeyStore;
  /** What the operator should know about this database (e.g. a missing extension that makes some searches slow). */
  warnings: string[];
  /** Closes the index and the keys, waiting for calls in progress; calling it twice is harmless. */
  close(): Promise<void>;
}

export type OpenPostgresOptions = PostgresPoolOptions;

/**
 * Connects to the PostgreSQL database at `url` (`postgres://USER@HOST:PORT/DB`; PGPASSWORD,
 * ~/.pgpass and `?sslmode=` work as in libpq), brings its schema to the current version (under
 * an advisory lock, so replicas starting together take turns) and returns the index and key
 * store over one bounded pool. Rejects with StoreUnavailableError when the server cannot be
 * reached, and with PostgresSchemaError when the database has a newer schema than this Hotpath
 * or is not UTF8; nothing stays open then. The pool ends when both the index and the keys are
 * closed.
 */
export async function openPostgres(url: string, options: OpenPostgresOptions = {}): Promise<PostgresBackend> {
  const pool = new PostgresPool(url, options);
  const warnings: string[] = [];
  try {
    await migratePostgres(pool);
    const trigram = await ensureTrigramIndex(pool);
    if (trigram !== null) warnings.push(trigram);
  } catch (err) {
    await pool.close();
    throw err;
  }
  let users = 2;
  const release = async (): Promise<void> => {
    if (--users === 0) await pool.close();
  };
  const index = new PgProfileIndex(pool, release);
  const keys = new PgKeyStore(pool, release);
  return {
    index,
    keys,
    warnings,
    async close() {
      await index.close();
      await keys.close();
    },
  };
}
