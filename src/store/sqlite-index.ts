import Database from 'better-sqlite3';
import type { QueryNode } from '../query/ast.js';
import { type SqlDialect, sqliteDialect } from '../query/dialect.js';
import { queryToSql, termRowsSql } from '../query/sql.js';
import { likelyDense } from './dense-query.js';
import { ProfileExistsError } from './errors.js';
import {
  checkCountCap,
  checkProfileRecord,
  checkSearch,
  type FacetCounts,
  type FacetField,
  MAX_REFERENCE_CHECK,
  type ProfileFilter,
  type ProfileIndex,
  type ProfileSearch,
  type ProfileSort,
  queryTree,
  type ServiceSummary,
} from './profile-index.js';
import { profileObjects } from './profile-objects.js';
import { QUERY_SCHEMA_SQLITE } from './sqlite-query-schema.js';
import { DRIVING_TERM_ROWS, type DrivingTerm, planSearch, type SearchPlan } from './sqlite-search-plan.js';
import type { ProfileRecord } from './types.js';

/** The schema this code writes, kept in `PRAGMA user_version`. Bump it and add a step to SQLITE_MIGRATIONS to change the schema. */
export const SQLITE_SCHEMA_VERSION = 5;

/**
 * SQLITE_MIGRATIONS[n] takes an index from version n to n + 1. Scalars the index filters or sorts on
 * are columns; composite fields are JSON read back as they were written. profile_blobs holds the
 * keys that must be kept, so orphan collection is one index scan.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
CREATE TABLE profiles (
  id TEXT PRIMARY KEY,
  start_ms REAL NOT NULL,
  end_ms REAL NOT NULL,
  received_at REAL NOT NULL,
  protocol TEXT NOT NULL,
  service TEXT NOT NULL,
  env TEXT NOT NULL,
  version TEXT NOT NULL,
  host TEXT NOT NULL,
  runtime TEXT NOT NULL,
  pgo INTEGER,
  cpu_cores REAL,
  sample_count REAL NOT NULL,
  duration_nanos REAL NOT NULL,
  tags_json TEXT NOT NULL,
  metrics_json TEXT NOT NULL,
  attachments_json TEXT NOT NULL,
  pgo_blob_key TEXT,
  endpoint_counts_json TEXT,
  raw_deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX profiles_by_start ON profiles (start_ms);
CREATE INDEX profiles_by_cpu ON profiles (cpu_cores);
CREATE INDEX profiles_by_received ON profiles (received_at);
CREATE TABLE profile_blobs (
  blob_key TEXT PRIMARY KEY,
  profile_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('raw', 'pgo'))
) WITHOUT ROWID;
CREATE INDEX profile_blobs_by_profile ON profile_blobs (profile_id);
${QUERY_SCHEMA_SQLITE}
`,
  `
CREATE TABLE jobs (
  name TEXT PRIMARY KEY,
  last_started_at REAL NOT NULL,
  state TEXT
);
`,
  // The prepared form's key; NULL on the rows already there, which the views read raw. Its
  // profile_blobs row has kind 'raw': that kind means "goes with the raw data", and the prepared
  // form is derived from it. A kind of its own would need profile_blobs rebuilt (SQLite cannot
  // change a CHECK), about 10 s per million blobs at open, for nothing any query tells apart.
  `
ALTER TABLE profiles ADD COLUMN prepared_blob_key TEXT;
`,
  // A metric comparison or range is a range of this index, not a read of every value of the
  // metric. The window's times beside the start and beside the id: a walk along the window, and
  // a driven plan's lookup of each profile, test the window without reading the row. The distinct values of each tag key: a wildcard without a literal prefix tests
  // these instead of every tag row (see SqlDialect.tagValuesTable); values no profile has any
  // more are pruned by delete.
  `
CREATE INDEX IF NOT EXISTS profile_metrics_by_value ON profile_metrics (name, value);
DROP INDEX IF EXISTS profiles_by_start;
CREATE INDEX profiles_by_start ON profiles (start_ms, id, end_ms);
CREATE INDEX IF NOT EXISTS profiles_window_by_id ON profiles (id, start_ms, end_ms);
CREATE TABLE IF NOT EXISTS profile_tag_values (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (key, value)
) WITHOUT ROWID;
INSERT OR IGNORE INTO profile_tag_values (key, value) SELECT DISTINCT key, value FROM profile_tags;
`,
  // Saves written together share their objects (src/store/group-writer.ts), so one blob key is
  // named by every profile of its group: the key and the profile together identify a row, and
  // retention deletes an object once no row names it. SQLite cannot change a primary key, so the
  // table is copied (about 2 s per million profiles at open).
  `
CREATE TABLE profile_blobs_shared (
  blob_key TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('raw', 'pgo')),
  PRIMARY KEY (blob_key, profile_id)
) WITHOUT ROWID;
INSERT INTO profile_blobs_shared (blob_key, profile_id, kind) SELECT blob_key, profile_id, kind FROM profile_blobs;
DROP TABLE profile_blobs;
ALTER TABLE profile_blobs_shared RENAME TO profile_blobs;
CREATE INDEX profile_blobs_by_profile ON profile_blobs (profile_id);
`,
];

const ORDER_BY: Record<ProfileSort, string> = {
  '-start': 'p.start_ms DESC, p.id DESC',
  start: 'p.start_ms ASC, p.id ASC',
  '-cpu': 'p.cpu_cores IS NULL, p.cpu_cores DESC, p.start_ms DESC, p.id DESC',
  cpu: 'p.cpu_cores IS NULL, p.cpu_cores ASC, p.start_ms DESC, p.id DESC',
  // Text columns: ties newest first, so a page of one service reads like the default order.
  service: 'p.service ASC, p.start_ms DESC, p.id DESC',
  '-service': 'p.service DESC, p.start_ms DESC, p.id DESC',
  env: 'p.env ASC, p.start_ms DESC, p.id DESC',
  '-env': 'p.env DESC, p.start_ms DESC, p.id DESC',
  version: 'p.version ASC, p.start_ms DESC, p.id DESC',
  '-version': 'p.version DESC, p.start_ms DESC, p.id DESC',
  host: 'p.host ASC, p.start_ms DESC, p.id DESC',
  '-host': 'p.host DESC, p.start_ms DESC, p.id DESC',
};

/** The column behind each facet; pgo is stored as 1/0/NULL and reported as "true"/"false". */
const FACET_COLUMNS: Record<FacetField, string> = {
  service: 'p.service',
  env: 'p.env',
  version: 'p.version',
  pgo: "CASE p.pgo WHEN 1 THEN 'true' WHEN 0 THEN 'false' END",
};

/** Overlap with [from, to] as a range on the start index (parameters from `window`). */
const WINDOW = 'p.start_ms <= ? AND p.start_ms >= ? AND p.end_ms >= ?';

/** Profiles in the newest slice a first page is looked for in (see searchNewestSlice). */
const NEWEST_SLICE = 20_000;
/** Pages ending after this many matches are searched in the whole window. */
const MAX_SLICE_PAGE_END = 1000;

/** SQLite with this index's table of distinct tag values. */
const INDEX_DIALECT: SqlDialect = { ...sqliteDialect, tagValuesTable: 'profile_tag_values' };
/** The query as EXISTS tests, run once per profile a driven or windowed plan reads. */
const EXISTS_DIALECT: SqlDialect = { ...INDEX_DIALECT, childRowTest: 'exists' };
/** A driving term with at most this many rows runs before the newest slice is tried (it costs about as much). */
const DRIVEN_BEFORE_SLICE_ROWS = 5000;

/** Distinct search statements kept prepared; queries repeat (dashboards, CI), so a small cache covers them. */
const SEARCH_CACHE_SIZE = 200;

interface ProfileRow {
  id: string;
  start_ms: number;
  end_ms: number;
  received_at: number;
  protocol: ProfileRecord['protocol'];
  service: string;
  env: string;
  version: string;
  host: string;
  runtime: string;
  pgo: number | null;
  cpu_cores: number | null;
  sample_count: number;
  duration_nanos: number;
  tags_json: string;
  metrics_json: string;
  attachments_json: string;
  pgo_blob_key: string | null;
  prepared_blob_key: string | null;
  endpoint_counts_json: string | null;
  raw_deleted: number;
}

/**
 * ProfileIndex in one SQLite file (or `:memory:`) through better-sqlite3. WAL journal with
 * `synchronous=FULL`: a resolved insert survives power loss, since clients are told their
 * profile is stored. Calls run synchronously on the event loop; each is a few indexed lookups.
 */
export class SqliteProfileIndex implements ProfileIndex {
  /** SQLite runs every call synchronously on the event loop. */
  readonly callsRunInline = true;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly searchStatements = new Map<string, Database.Statement>();
  private readonly runningJobs = new Set<string>();
  /** The longest end − start of any profile ever inserted (deletions leave it, which stays correct). */
  private longestMs = 0;
  private readonly insertTransaction: (record: ProfileRecord) => void;
  private pendingInserts: Array<{ record: ProfileRecord; resolve: () => void; reject: (err: unknown) => void }> = [];
  private readonly markRawDeletedTransaction: (ids: readonly string[]) => void;
  private readonly deleteTransaction: (ids: readonly string[]) => void;

  /**
   * Opens (creating when missing) the index at `path`, a file name or `:memory:`, and brings its
   * schema to SQLITE_SCHEMA_VERSION. For tests: `newestSlice` sizes the slice of
   * searchNewestSlice, `drivingRows` is planSearch's limit for a driving term, and
   * `plans: 'window'` turns driven plans off (the reference they are compared with). Throws when
   * the file was written by a newer schema.
   */
  constructor(
    path: string,
    private readonly options: { newestSlice?: number; drivingRows?: number; plans?: 'auto' | 'window' } = {},
  ) {
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      migrate(this.db, path);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const db = this.db;
    this.longestMs = Math.max(0, (db.prepare('SELECT max(end_ms - start_ms) FROM profiles').pluck().get() as number | null) ?? 0);
    this.statements = {
      services: db.prepare(
        `SELECT p.service AS service, json_group_array(DISTINCT p.env) AS envs, count(*) AS profiles, avg(p.cpu_cores) AS cpu,
           sum(p.pgo = 1) AS pgo_true, sum(p.pgo IS NOT NULL) AS pgo_known,
           (SELECT q.version FROM profiles q WHERE q.service = p.service AND q.start_ms <= ? AND q.end_ms >= ? ORDER BY q.start_ms DESC, q.id DESC LIMIT 1) AS latest_version,
           (SELECT q.pgo FROM profiles q WHERE q.service = p.service AND q.start_ms <= ? AND q.end_ms >= ? ORDER BY q.start_ms DESC, q.id DESC LIMIT 1) AS latest_pgo
         FROM profiles p WHERE p.start_ms <= ? AND p.end_ms >= ? GROUP BY p.service ORDER BY p.service`,
      ),
      insertProfile: db.prepare(
        `INSERT INTO profiles (id, start_ms, end_ms, received_at, protocol, service, env, version, host, runtime, pgo, cpu_cores,
           sample_count, duration_nanos, tags_json, metrics_json, attachments_json, pgo_blob_key, prepared_blob_key, endpoint_counts_json,
           raw_deleted)
         VALUES (@id, @start_ms, @end_ms, @received_at, @protocol, @service, @env, @version, @host, @runtime, @pgo, @cpu_cores,
           @sample_count, @duration_nanos, @tags_json, @metrics_json, @attachments_json, @pgo_blob_key, @prepared_blob_key,
           @endpoint_counts_json, @raw_deleted)`,
      ),
      // One row per distinct (key, value): a repeated identical tag matches the same queries.
      insertTag: db.prepare('INSERT OR IGNORE INTO profile_tags (profile_id, key, value) VALUES (?, ?, ?)'),
      insertTagValue: db.prepare('INSERT OR IGNORE INTO profile_tag_values (key, value) VALUES (?, ?)'),
      tagsOf: db.prepare('SELECT key, value FROM profile_tags WHERE profile_id = ?'),
      pruneTagValue: db.prepare(
        'DELETE FROM profile_tag_values WHERE key = ? AND value = ? AND NOT EXISTS (SELECT 1 FROM profile_tags WHERE key = ? AND value = ?)',
      ),
      insertMetric: db.prepare('INSERT INTO profile_metrics (profile_id, name, value) VALUES (?, ?, ?)'),
      insertBlob: db.prepare('INSERT INTO profile_blobs (blob_key, profile_id, kind) VALUES (?, ?, ?)'),
      get: db.prepare('SELECT * FROM profiles WHERE id = ?'),
      isReferenced: db.prepare('SELECT 1 FROM profile_blobs WHERE blob_key = ?').pluck(),
      jobGet: db.prepare('SELECT last_started_at, state FROM jobs WHERE name = ?'),
      jobStart: db.prepare(
        'INSERT INTO jobs (name, last_started_at, state) VALUES (?, ?, NULL) ON CONFLICT (name) DO UPDATE SET last_started_at = excluded.last_started_at',
      ),
      jobState: db.prepare('UPDATE jobs SET state = ? WHERE name = ?'),
      markRawDeleted: db.prepare('UPDATE profiles SET raw_deleted = 1 WHERE id = ?'),
      // Kind 'raw' covers the attachments and the prepared form derived from them.
      deleteRawBlobs: db.prepare("DELETE FROM profile_blobs WHERE profile_id = ? AND kind = 'raw'"),
      deleteProfile: db.prepare('DELETE FROM profiles WHERE id = ?'),
      deleteTags: db.prepare('DELETE FROM profile_tags WHERE profile_id = ?'),
      deleteMetrics: db.prepare('DELETE FROM profile_metrics WHERE profile_id = ?'),
      deleteBlobs: db.prepare('DELETE FROM profile_blobs WHERE profile_id = ?'),
      expiredRaw: db.prepare('SELECT * FROM profiles WHERE received_at < ? AND raw_deleted = 0 ORDER BY received_at, id LIMIT ?'),
      expired: db.prepare('SELECT * FROM profiles WHERE received_at < ? ORDER BY received_at, id LIMIT ?'),
      count: db.prepare('SELECT count(*) FROM profiles').pluck(),
      newestSliceStart: db.prepare('SELECT start_ms FROM profiles WHERE start_ms <= ? ORDER BY start_ms DESC LIMIT 1 OFFSET ?').pluck(),
      scanById: db.prepare('SELECT * FROM profiles WHERE id > ? ORDER BY id LIMIT ?'),
    };
    const s = this.statements;
    this.insertTransaction = db.transaction((record: ProfileRecord) => {
      // Raised before the row can be seen, so no search misses it; a failed insert leaves it
      // larger than needed, which only widens the range searches read.
      this.longestMs = Math.max(this.longestMs, record.end - record.start);
      try {
        s.insertProfile.run(toRow(record));
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new ProfileExistsError(record.id);
        throw err;
      }
      for (const [key, value] of record.tags) {
        s.insertTag.run(record.id, key, value);
        s.insertTagValue.run(key, value);
      }
      for (const [name, value] of Object.entries(record.metrics)) s.insertMetric.run(record.id, name, value);
      // Objects, not references: orphan collection lists objects, and a pack holds several ranges.
      for (const o of profileObjects(record)) s.insertBlob.run(o.key, record.id, o.kind);
    });
    this.markRawDeletedTransaction = db.transaction((ids: readonly string[]) => {
      for (const id of ids) {
        s.markRawDeleted.run(id);
        s.deleteRawBlobs.run(id);
      }
    });
    this.deleteTransaction = db.transaction((ids: readonly string[]) => {
      const values = new Map<string, [string, string]>();
      for (const id of ids) {
        for (const t of s.tagsOf.all(id) as Array<{ key: string; value: string }>)
          values.set(JSON.stringify([t.key, t.value]), [t.key, t.value]);
        s.deleteTags.run(id);
        s.deleteMetrics.run(id);
        s.deleteBlobs.run(id);
        s.deleteProfile.run(id);
      }
      // Values no profile has any more leave the table of distinct values, so it stays as small as the tags.
      for (const [key, value] of values.values()) s.pruneTagValue.run(key, value, key, value);
    });
  }

  /**
   * Inserts are group-committed: every insert that arrives in one turn of the event loop goes
   * into one transaction, so concurrent uploads share one fsync instead of queueing behind one
   * each (the commit blocks the event loop). Each record is its own savepoint, so a bad record
   * fails alone, and every promise resolves only after the commit is durable.
   */
  insert(record: ProfileRecord): Promise<void> {
    try {
      checkProfileRecord(record);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.pendingInserts.push({ record, resolve, reject });
      if (this.pendingInserts.length === 1) setImmediate(() => this.flushInserts());
    });
  }

  private flushInserts(): void {
    const batch = this.pendingInserts;
    this.pendingInserts = [];
    if (batch.length === 0) return;
    const errors: unknown[] = new Array(batch.length);
    try {
      this.db.transaction(() => {
        batch.forEach((item, i) => {
          try {
            this.insertTransaction(item.record);
          } catch (err) {
            errors[i] = err;
          }
        });
      })();
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      if (errors[i] === undefined) item.resolve();
      else item.reject(errors[i]);
    });
  }

  async get(id: string): Promise<ProfileRecord | null> {
    const row = this.statements.get.get(id) as ProfileRow | undefined;
    return row === undefined ? null : fromRow(row);
  }

  async search(options: ProfileSearch): Promise<ProfileRecord[]> {
    checkSearch(options);
    const tree = queryTree(options.query);
    const plan = this.plan(tree);
    if (plan.kind === 'term' && plan.rows <= DRIVEN_BEFORE_SLICE_ROWS) return this.searchDriven(plan, options);
    const newest = this.searchNewestSlice(tree, options);
    if (newest !== null) return newest;
    if (plan.kind !== 'window') return this.searchDriven(plan, options);
    const { where, params } = queryToSql(tree, { profileIdColumn: 'p.id', dialect: INDEX_DIALECT });
    const sql = `SELECT p.* FROM profiles p WHERE ${WINDOW} AND (${where}) ORDER BY ${ORDER_BY[options.sort ?? '-start']} LIMIT ? OFFSET ?`;
    const rows = this.searchStatement(sql).all(...this.window(options), ...params, options.limit, options.offset ?? 0) as ProfileRow[];
    return rows.map(fromRow);
  }

  /** How to run `tree` (see planSearch); the term counts are index ranges of at most drivingRows + 1 rows. */
  private plan(tree: QueryNode): SearchPlan {
    if (this.options.plans === 'window') return { kind: 'window' };
    return planSearch(tree, (term, atMost) => this.countTermRows(term, atMost), this.options.drivingRows ?? DRIVING_TERM_ROWS);
  }

  private countTermRows(term: DrivingTerm, atMost: number): number {
    const { select, params } = termRowsSql(term, INDEX_DIALECT);
    return this.searchStatement(`SELECT count(*) FROM (${select} LIMIT ?)`)
      .pluck()
      .get(...params, atMost) as number;
  }

  /**
   * The FROM clause of a driven plan: the driving rows (CROSS JOIN keeps them the outer loop
   * whatever the statistics say), each profile looked up by id. The rest of the query is written
   * on d.profile_id, so SQLite tests it before it reads the profile. An intersection is a compound
   * SELECT ordered by profile id, which SQLite runs as a merge of lists the primary key already
   * orders, streaming, so a LIMIT stops it early.
   */
  private drivenFrom(plan: Exclude<SearchPlan, { kind: 'window' }>): { from: string; params: Array<string | number> } {
    const terms = plan.kind === 'term' ? [plan.term] : plan.terms;
    const selects = terms.map((t) => termRowsSql(t, INDEX_DIALECT));
    const rows = selects.map((s) => s.select).join(' INTERSECT ');
    // A wildcard lists a profile once per matching value.
    const distinct = plan.kind === 'term' && plan.term.kind === 'tag' && plan.term.value.kind !== 'exact';
    return {
      from: `(${distinct ? `SELECT DISTINCT profile_id FROM (${rows})` : rows}${plan.kind === 'intersect' ? ' ORDER BY 1' : ''}) d CROSS JOIN profiles p INDEXED BY profiles_window_by_id ON p.id = d.profile_id`,
      params: selects.flatMap((s) => s.params),
    };
  }

  private searchDriven(plan: Exclude<SearchPlan, { kind: 'window' }>, options: ProfileSearch): ProfileRecord[] {
    const { from, params: fromParams } = this.drivenFrom(plan);
    const { where, params } = queryToSql(plan.rest, { profileIdColumn: 'd.profile_id', dialect: EXISTS_DIALECT });
    const sql = `SELECT p.* FROM ${from} WHERE ${WINDOW} AND (${where}) ORDER BY ${ORDER_BY[options.sort ?? '-start']} LIMIT ? OFFSET ?`;
    const rows = this.searchStatement(sql).all(
      ...fromParams,
      ...this.window(options),
      ...params,
      options.limit,
      options.offset ?? 0,
    ) as ProfileRow[];
    return rows.map(fromRow);
  }

  /**
   * The default order (newest first) for one of the first pages, answered from the newest
   * NEWEST_SLICE profiles alone when they hold enough matches; null when they do not (the caller
   * then searches the whole window). Rows outside the slice start earlier than every row in it,
   * so when the slice fills the page, the page is exactly what the whole window gives. Why: an
   * IN-subquery reads every match of a broad term (a third of a million rows for `env:prod` in a
   * million) before the first page; EXISTS over the newest rows stops after the page, and a
   * selective query, which would walk the whole window that way, falls through after one slice.
   */
  private searchNewestSlice(tree: QueryNode, options: ProfileSearch): ProfileRecord[] | null {
    const wanted = (options.offset ?? 0) + options.limit;
    if ((options.sort ?? '-start') !== '-start' || wanted > MAX_SLICE_PAGE_END || wanted === 0) return null;
    const boundary = this.statements.newestSliceStart.get(options.to, (this.options.newestSlice ?? NEWEST_SLICE) - 1) as number | undefined;
    // Fewer profiles than a slice start before `to`: the whole window is small, search it as is.
    if (boundary === undefined) return null;
    const { where, params } = queryToSql(tree, { profileIdColumn: 'p.id', dialect: EXISTS_DIALECT });
    const sql = `SELECT p.* FROM profiles p INDEXED BY profiles_by_start WHERE p.start_ms <= ? AND p.start_ms >= ? AND p.end_ms >= ? AND (${where}) ORDER BY ${ORDER_BY['-start']} LIMIT ? OFFSET ?`;
    const rows = this.searchStatement(sql).all(
      options.to,
      boundary,
      options.from,
      ...params,
      options.limit,
      options.offset ?? 0,
    ) as ProfileRow[];
    return rows.length === options.limit ? rows.map(fromRow) : null;
  }

  /**
   * The parameters of WINDOW for [from, to]. A profile overlaps the window when it starts by `to`
   * and ends from `from` on; since none lasts longer than the longest stored, it also starts after
   * `from` minus that, which makes the window a range on the start index instead of everything
   * that started before `to`.
   */
  private window(filter: { from: number; to: number }): [number, number, number] {
    return [filter.to, filter.from - this.longestMs - 1, filter.from];
  }

  async countMatching(filter: ProfileFilter, atMost?: number): Promise<number> {
    checkSearch({ ...filter, limit: 0 });
    checkCountCap(atMost);
    const tree = queryTree(filter.query);
    const plan = this.plan(tree);
    if (plan.kind !== 'window') {
      const { from, params: fromParams } = this.drivenFrom(plan);
      const { where, params } = queryToSql(plan.rest, { profileIdColumn: 'd.profile_id', dialect: EXISTS_DIALECT });
      const matching = `SELECT 1 FROM ${from} WHERE ${WINDOW} AND (${where})`;
      const all = [...fromParams, ...this.window(filter), ...params];
      return atMost === undefined
        ? (this.searchStatement(`SELECT count(*) FROM (${matching})`)
            .pluck()
            .get(...all) as number)
        : (this.searchStatement(`SELECT count(*) FROM (${matching} LIMIT ?)`)
            .pluck()
            .get(...all, atMost) as number);
    }
    if (atMost !== undefined && this.options.plans !== 'window' && likelyDense(tree)) {
      // A capped count along the window stops after `atMost` matches; an IN-subquery would list
      // every match of a broad term first.
      const { where, params } = queryToSql(tree, { profileIdColumn: 'p.id', dialect: EXISTS_DIALECT });
      return this.searchStatement(
        `SELECT count(*) FROM (SELECT 1 FROM profiles p INDEXED BY profiles_by_start WHERE ${WINDOW} AND (${where}) LIMIT ?)`,
      )
        .pluck()
        .get(...this.window(filter), ...params, atMost) as number;
    }
    const { where, params } = queryToSql(tree, { profileIdColumn: 'p.id', dialect: INDEX_DIALECT });
    const matching = `SELECT 1 FROM profiles p WHERE ${WINDOW} AND (${where})`;
    if (atMost === undefined) {
      return this.searchStatement(`SELECT count(*) FROM (${matching})`)
        .pluck()
        .get(...this.window(filter), ...params) as number;
    }
    return this.searchStatement(`SELECT count(*) FROM (${matching} LIMIT ?)`)
      .pluck()
      .get(...this.window(filter), ...params, atMost) as number;
  }

  async facets(filter: ProfileFilter, perField: number): Promise<FacetCounts> {
    checkSearch({ ...filter, limit: perField });
    const { where, params } = queryToSql(queryTree(filter.query), { profileIdColumn: 'p.id', dialect: INDEX_DIALECT });
    const result = {} as FacetCounts;
    for (const field of Object.keys(FACET_COLUMNS) as FacetField[]) {
      const column = FACET_COLUMNS[field];
      const sql = `SELECT ${column} AS value, count(*) AS count FROM profiles p
        WHERE ${WINDOW} AND (${where}) AND ${column} IS NOT NULL AND ${column} != ''
        GROUP BY 1 ORDER BY 2 DESC, 1 ASC LIMIT ?`;
      result[field] = this.searchStatement(sql).all(...this.window(filter), ...params, perField) as Array<{ value: string; count: number }>;
    }
    return result;
  }

  async referencedBlobKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length > MAX_REFERENCE_CHECK) throw new RangeError(`at most ${MAX_REFERENCE_CHECK} blob keys per call, got ${keys.length}`);
    return new Set(keys.filter((k) => this.statements.isReferenced.get(k) !== undefined));
  }

  /**
   * One process owns a SQLite index (the file is not shared between servers), so a set of running
   * jobs is the lock; the jobs table keeps start times and states across restarts.
   */
  async runExclusive(
    job: string,
    everyMs: number,
    run: (state: string | null) => Promise<string | null>,
    now = Date.now(),
  ): Promise<boolean> {
    if (this.runningJobs.has(job)) return false;
    const row = this.statements.jobGet.get(job) as { last_started_at: number; state: string | null } | undefined;
    if (row !== undefined && now - row.last_started_at < everyMs) return false;
    this.runningJobs.add(job);
    try {
      this.statements.jobStart.run(job, now);
      const state = await run(row?.state ?? null);
      if (this.db.open) this.statements.jobState.run(state, job);
      return true;
    } finally {
      this.runningJobs.delete(job);
    }
  }

  async markRawDeleted(ids: readonly string[]): Promise<void> {
    this.markRawDeletedTransaction(ids);
  }

  async delete(ids: readonly string[]): Promise<void> {
    this.deleteTransaction(ids);
  }

  async expiredRaw(beforeMs: number, limit: number): Promise<ProfileRecord[]> {
    return (this.statements.expiredRaw.all(beforeMs, limit) as ProfileRow[]).map(fromRow);
  }

  async expired(beforeMs: number, limit: number): Promise<ProfileRecord[]> {
    return (this.statements.expired.all(beforeMs, limit) as ProfileRow[]).map(fromRow);
  }

  /** Up to `limit` profiles whose id sorts after `afterId`, by id: a stable walk of the whole index (for `hotpath migrate`). */
  async scanById(afterId: string, limit: number): Promise<ProfileRecord[]> {
    return (this.statements.scanById.all(afterId, limit) as ProfileRow[]).map(fromRow);
  }

  async count(): Promise<number> {
    return this.statements.count.get() as number;
  }

  async services(from: number, to: number): Promise<ServiceSummary[]> {
    const rows = this.statements.services.all(to, from, to, from, to, from) as Array<{
      service: string;
      envs: string;
      profiles: number;
      cpu: number | null;
      pgo_true: number;
      pgo_known: number;
      latest_version: string;
      latest_pgo: number | null;
    }>;
    return rows.map((r) => ({
      service: r.service,
      // A JSON array, not a separator-joined string: no env value can split into two.
      envs: (JSON.parse(r.envs) as string[]).filter((e) => e !== '').sort(),
      latestVersion: r.latest_version,
      profiles: r.profiles,
      cpuCores: r.cpu,
      pgoShare: r.pgo_known === 0 ? 0 : r.pgo_true / r.pgo_known,
      latestPgo: r.latest_pgo === null ? null : r.latest_pgo === 1,
    }));
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flushInserts();
    this.db.close();
  }

  private searchStatement(sql: string): Database.Statement {
    let statement = this.searchStatements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      if (this.searchStatements.size >= SEARCH_CACHE_SIZE) {
        // Maps iterate in insertion order: drop the oldest.
        this.searchStatements.delete(this.searchStatements.keys().next().value!);
      }
      this.searchStatements.set(sql, statement);
    }
    return statement;
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SQLITE_MIGRATIONS.length) {
    throw new Error(
      `index ${path} has schema version ${version}, newer than this Hotpath understands (${SQLITE_MIGRATIONS.length}); upgrade Hotpath`,
    );
  }
  db.transaction(() => {
    for (let v = version; v < SQLITE_MIGRATIONS.length; v++) db.exec(SQLITE_MIGRATIONS[v]);
    // PRAGMA does not take parameters; the value is our own integer.
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
  })();
}

function toRow(r: ProfileRecord): ProfileRow {
  return {
    id: r.id,
    start_ms: r.start,
    end_ms: r.end,
    received_at: r.receivedAt,
    protocol: r.protocol,
    service: r.service,
    env: r.env,
    version: r.version,
    host: r.host,
    runtime: r.runtime,
    pgo: r.pgo === null ? null : r.pgo ? 1 : 0,
    cpu_cores: r.cpuCores,
    sample_count: r.sampleCount,
    duration_nanos: r.durationNanos,
    tags_json: JSON.stringify(r.tags),
    metrics_json: JSON.stringify(r.metrics),
    attachments_json: JSON.stringify(r.attachments),
    pgo_blob_key: r.pgoBlobKey,
    prepared_blob_key: r.preparedBlobKey,
    endpoint_counts_json: r.endpointCounts === null ? null : JSON.stringify(r.endpointCounts),
    raw_deleted: r.rawDeleted ? 1 : 0,
  };
}

function fromRow(row: ProfileRow): ProfileRecord {
  return {
    id: row.id,
    start: row.start_ms,
    end: row.end_ms,
    receivedAt: row.received_at,
    protocol: row.protocol,
    service: row.service,
    env: row.env,
    version: row.version,
    host: row.host,
    runtime: row.runtime,
    pgo: row.pgo === null ? null : row.pgo === 1,
    cpuCores: row.cpu_cores,
    sampleCount: row.sample_count,
    durationNanos: row.duration_nanos,
    tags: JSON.parse(row.tags_json),
    metrics: JSON.parse(row.metrics_json),
    attachments: JSON.parse(row.attachments_json),
    pgoBlobKey: row.pgo_blob_key,
    preparedBlobKey: row.prepared_blob_key,
    endpointCounts: row.endpoint_counts_json === null ? null : JSON.parse(row.endpoint_counts_json),
    rawDeleted: row.raw_deleted === 1,
  };
}
