import type pg from 'pg';
import type { PostgresPool } from './pg-pool.js';

/**
 * The versioned schema of a PostgreSQL index: PG_MIGRATIONS[n] takes a database from version n
 * to n + 1 (versions are kept in `schema_migrations`). To change the schema, append a step;
 * never edit one that shipped.
 *
 * Text that is searched or sorted is `COLLATE "C"`: byte order, as SQLite sorts and as the
 * contract expects, and what lets `LIKE 'prefix%'` use a btree index whatever the database's
 * locale. Times are ms since the epoch in double precision, as the records carry them (a start
 * may have a fraction of a ms). Composite fields are JSON text, read back exactly as written.
 *
 * Indexes, one per search shape:
 * - profile_tags (key, value, profile_id): a tag term with an exact value, a list of values, a
 *   literal prefix (`key:web-*` is a range on value) or just the key; (profile_id) for deletes
 *   and the per-profile lookups of EXISTS; (key, value, start_ms) INCLUDE (end_ms, profile_id):
 *   a query of one tag term in a window, one range (tag rows carry their profile's times;
 *   rows stored before migration 5 do not, see profile_tags_untimed);
 * - profile_metrics (name, value) INCLUDE (profile_id, start_ms, end_ms): a metric comparison or
 *   range is a range on value, listing its profiles and testing the window without reading a table;
 * - profiles (start_ms, id) INCLUDE (end_ms): the time window (the search bounds start_ms on both
 *   sides, see profile_span) and the default newest-first order, read backwards, with the end
 *   test on the index entry; the primary key (id) INCLUDE (start_ms, end_ms): the window test of
 *   a profile found through a tag or metric;
 * - profiles (service), (env), (version), (host): the text sorts, in either direction (a
 *   backward scan), with ties ordered by an incremental sort;
 * - profiles (cpu_cores NULLS LAST) in both directions: profiles without CPU sort last either way;
 * - profiles (received_at, id) and the partial one WHERE NOT raw_deleted: retention's batches.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
CREATE TABLE profiles (
  id text COLLATE "C" PRIMARY KEY,
  start_ms double precision NOT NULL,
  end_ms double precision NOT NULL,
  received_at double precision NOT NULL,
  protocol text NOT NULL,
  service text COLLATE "C" NOT NULL,
  env text COLLATE "C" NOT NULL,
  version text COLLATE "C" NOT NULL,
  host text COLLATE "C" NOT NULL,
  runtime text NOT NULL,
  pgo boolean,
  cpu_cores double precision,
  sample_count double precision NOT NULL,
  duration_nanos double precision NOT NULL,
  tags_json text NOT NULL,
  metrics_json text NOT NULL,
  attachments_json text NOT NULL,
  pgo_blob_key text,
  endpoint_counts_json text,
  raw_deleted boolean NOT NULL DEFAULT false
);
CREATE INDEX profiles_by_start ON profiles (start_ms, id);
CREATE INDEX profiles_by_service ON profiles (service);
CREATE INDEX profiles_by_env ON profiles (env);
CREATE INDEX profiles_by_version ON profiles (version);
CREATE INDEX profiles_by_host ON profiles (host);
CREATE INDEX profiles_by_cpu_asc ON profiles (cpu_cores ASC NULLS LAST);
CREATE INDEX profiles_by_cpu_desc ON profiles (cpu_cores DESC NULLS LAST);
CREATE INDEX profiles_by_received ON profiles (received_at, id);
CREATE INDEX profiles_raw_by_received ON profiles (received_at, id) WHERE NOT raw_deleted;

-- One row: the longest end - start of any profile ever stored. A profile overlaps [from, to]
-- only if from - longest <= start <= to, so a window is a range on profiles_by_start. Inserts
-- raise it in the same statement, so a search that reads it first never misses a profile.
CREATE TABLE profile_span (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  longest_ms double precision NOT NULL
);
INSERT INTO profile_span (longest_ms) VALUES (0);

CREATE TABLE profile_tags (
  profile_id text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  value text COLLATE "C" NOT NULL,
  PRIMARY KEY (key, value, profile_id)
);
CREATE INDEX profile_tags_by_profile ON profile_tags (profile_id);

CREATE TABLE profile_metrics (
  profile_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  value double precision NOT NULL,
  PRIMARY KEY (profile_id, name)
);
CREATE INDEX profile_metrics_by_value ON profile_metrics (name, value);

CREATE TABLE profile_blobs (
  blob_key text COLLATE "C" PRIMARY KEY,
  profile_id text COLLATE "C" NOT NULL,
  kind text NOT NULL CHECK (kind IN ('raw', 'pgo'))
);
CREATE INDEX profile_blobs_by_profile ON profile_blobs (profile_id);

CREATE TABLE jobs (
  name text PRIMARY KEY,
  last_started_at double precision NOT NULL,
  state text
);
`,
  `
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('api', 'app')),
  name text NOT NULL,
  scopes text NOT NULL,
  hash bytea NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  revoked_at bigint
);
`,
  // The key of the prepared form the flame graph views merge: NULL on rows stored before, which
  // the views read raw (adding a nullable column rewrites nothing). Its profile_blobs row has kind
  // 'raw', "goes with the raw data", as on SQLite: the prepared form is derived from it.
  `
ALTER TABLE profiles ADD COLUMN prepared_blob_key text;
`,
  // Covering indexes, so a search tests the time window from an index alone (an index-only scan
  // once VACUUM, or autovacuum after inserts, has marked the pages all-visible): the walk along
  // the window newest first reads the end time from profiles_by_start, a profile found through a
  // tag or metric is tested by its primary key, and a metric range lists its profiles from
  // profile_metrics_by_value. Without them each profile tested was a heap read (at a million
  // profiles, 20,000-30,000 of them for one broad search). Names stay as they were. The step
  // rebuilds three indexes of large tables under the migration lock: inserts wait for it (about
  // 4 s at a million profiles).
  `
CREATE INDEX profiles_by_start_covering ON profiles (start_ms, id) INCLUDE (end_ms);
DROP INDEX profiles_by_start;
ALTER INDEX profiles_by_start_covering RENAME TO profiles_by_start;
CREATE UNIQUE INDEX profiles_pkey_covering ON profiles (id) INCLUDE (start_ms, end_ms);
ALTER TABLE profiles DROP CONSTRAINT profiles_pkey, ADD CONSTRAINT profiles_pkey PRIMARY KEY USING INDEX profiles_pkey_covering;
CREATE INDEX profile_metrics_by_value_covering ON profile_metrics (name, value) INCLUDE (profile_id);
DROP INDEX profile_metrics_by_value;
ALTER INDEX profile_metrics_by_value_covering RENAME TO profile_metrics_by_value;
`,
  // Tag and metric rows carry their profile's start and end (copied at insert; a profile's times
  // never change), so a query of one term counts and pages its matches in the window from one
  // index range, without looking up a profile: `env:prod` read 30,000 profiles and probed each
  // one's tags to count 10,000 newest (130-290 ms at a million profiles), where the range reads
  // 10,000 index entries (5 ms). The columns stay nullable and rows stored before are not
  // filled in: filling 7 million tag rows took 9 minutes with the tables locked, and replicas
  // still running the previous release insert rows without the times during an upgrade. While
  // any row lacks them (the partial `_untimed` indexes say so at once), searches take the
  // general path; retention deletes such rows with their profiles. The window indexes are
  // partial, so building them on an upgraded table writes nothing: the step took 17 s at a
  // million profiles (7 million tag rows), mostly the `_untimed` index of the rows already there.
  `
ALTER TABLE profile_tags ADD COLUMN start_ms double precision, ADD COLUMN end_ms double precision;
CREATE INDEX profile_tags_by_window ON profile_tags (key, value, start_ms) INCLUDE (end_ms, profile_id) WHERE start_ms IS NOT NULL;
CREATE INDEX profile_tags_untimed ON profile_tags (profile_id) WHERE start_ms IS NULL;
ALTER TABLE profile_metrics ADD COLUMN start_ms double precision, ADD COLUMN end_ms double precision;
CREATE INDEX profile_metrics_by_value_window ON profile_metrics (name, value) INCLUDE (profile_id, start_ms, end_ms);
DROP INDEX profile_metrics_by_value;
ALTER INDEX profile_metrics_by_value_window RENAME TO profile_metrics_by_value;
CREATE INDEX profile_metrics_untimed ON profile_metrics (profile_id) WHERE start_ms IS NULL;
`,
  // Saves written together share their objects (src/store/group-writer.ts), so one blob key is
  // named by every profile of its group: the key and the profile together identify a row.
  // Retention deletes an object once no row names it. Rebuilds one index of profile_blobs
  // (about 2 s per million profiles, under the migration lock).
  `
ALTER TABLE profile_blobs DROP CONSTRAINT profile_blobs_pkey, ADD PRIMARY KEY (blob_key, profile_id);
`,
];

/** The schema version this code writes. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/**
 * Advisory lock keys of Hotpath (two-int form: this namespace, then a number). Migrations use
 * MIGRATION_LOCK; jobs use a hash of their name (see pg-index.ts).
 */
export const ADVISORY_LOCK_NAMESPACE = 0x48505448; // "HPTH"
const MIGRATION_LOCK = 0;
/** Longest a migration step, or the wait for another replica's migration, may take. */
const MIGRATION_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * A database Hotpath must not use: written by a newer schema (upgrade Hotpath, never write to it),
 * or not in UTF8.
 */
export class PostgresSchemaError extends Error {
  override readonly name = 'PostgresSchemaError';
}

/**
 * Brings the database to PG_SCHEMA_VERSION, in one transaction holding
 * `pg_advisory_xact_lock`: replicas starting together take turns, and the second finds the
 * schema current. A step that fails rolls back with everything else. Rejects with
 * PostgresSchemaError when the database was written by a newer schema, and refuses a database
 * whose encoding is not UTF8 (wildcards count characters, and keys and values are Unicode).
 * Resolves the version the database was at before.
 */
export async function migratePostgres(pool: PostgresPool): Promise<number> {
  return pool.transaction(async (client) => {
    // A step may rebuild an index of a large table, and a replica waits for another's steps:
    // longer than the pool's timeouts for everyday statements, but still bounded.
    await client.query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await client.query(migrationStatement('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MIGRATION_LOCK]));
    const encoding = (await client.query<{ server_encoding: string }>('SHOW server_encoding')).rows[0].server_encoding;
    if (encoding !== 'UTF8') {
      throw new PostgresSchemaError(
        `the index database has encoding ${encoding}; Hotpath needs UTF8 (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)`,
      );
    }
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const before = await currentVersion(client);
    if (before > PG_SCHEMA_VERSION) {
      throw new PostgresSchemaError(
        `the index database has schema version ${before}, newer than this Hotpath understands (${PG_SCHEMA_VERSION}); upgrade Hotpath on every replica`,
      );
    }
    for (let v = before; v < PG_SCHEMA_VERSION; v++) {
      await client.query(migrationStatement(PG_MIGRATIONS[v]));
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
    }
    return before;
  });
}

/** The GIN trigram index on tag values (see ensureTrigramIndex). */
export const TRIGRAM_INDEX = 'profile_tags_value_trgm';

/**
 * Makes sure tag values have a trigram index, so a wildcard without a literal prefix reads the
 * values that hold its literal parts instead of every value of the key: creates pg_trgm when
 * missing and allowed, then the index (building it holds the migration lock, so replicas
 * starting together build it once). Resolves null when the index is there, or a warning saying
 * why not and what to do; searches are correct either way, only slower. Cheap when done: two
 * catalog lookups.
 */
export async function ensureTrigramIndex(pool: PostgresPool): Promise<string | null> {
  return pool.transaction(async (client) => {
    await client.query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    const present = async (): Promise<boolean> =>
      (await client.query('SELECT 1 FROM pg_class WHERE relname = $1 AND relkind = $2', [TRIGRAM_INDEX, 'i'])).rows.length > 0;
    if (await present()) return null;
    await client.query(migrationStatement('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MIGRATION_LOCK]));
    if (await present()) return null;
    let reason: string | null = null;
    await client.query('SAVEPOINT hotpath_trgm');
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT hotpath_trgm');
      reason = (err as Error).message;
    }
    const { rows } = await client.query<{ schema: string }>(
      'SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1',
      ['pg_trgm'],
    );
    if (rows.length === 0) {
      return (
        `PostgreSQL extension pg_trgm is not available (${reason ?? 'not installed'}): searches with a leading wildcard ` +
        '(host:*-17) read every value of the key. Install it (Debian: the postgresql-contrib files, part of the postgresql package) ' +
        'and run CREATE EXTENSION pg_trgm in the index database as its owner or a superuser; Hotpath builds the index at its next start.'
      );
    }
    const opclass = `${quoteIdentifier(rows[0].schema)}.gin_trgm_ops`;
    await client.query(migrationStatement(`CREATE INDEX IF NOT EXISTS ${TRIGRAM_INDEX} ON profile_tags USING gin (value ${opclass})`));
    return null;
  });
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A statement with the client-side timeout of migrations (pg honours `query_timeout` per query; its types omit it). */
function migrationStatement(text: string, values: unknown[] = []): pg.QueryConfig {
  const config: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: MIGRATION_TIMEOUT_MS + 5000 };
  return config;
}

async function currentVersion(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  return rows[0].version ?? 0;
}
