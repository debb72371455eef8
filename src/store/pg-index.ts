import { createHash } from 'node:crypto';
import pg from 'pg';
import type { MetricTermNode, QueryNode, TagTermNode, ValuePattern } from '../query/ast.js';
import { postgresDialect, type SqlDialect } from '../query/dialect.js';
import { queryToSql, termRowsSql } from '../query/sql.js';
import { likelyDense } from './dense-query.js';
import { ProfileExistsError } from './errors.js';
import { INSERT_MANY_SQL, InsertBatcher, insertManyValues } from './pg-insert-batch.js';
import { ADVISORY_LOCK_NAMESPACE } from './pg-migrations.js';
import { type PostgresPool, StoreClosedError } from './pg-pool.js';
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
import type { ProfileRecord } from './types.js';

const ORDER_BY: Record<ProfileSort, string> = {
  '-start': 'p.start_ms DESC, p.id DESC',
  start: 'p.start_ms ASC, p.id ASC',
  '-cpu': 'p.cpu_cores DESC NULLS LAST, p.start_ms DESC, p.id DESC',
  cpu: 'p.cpu_cores ASC NULLS LAST, p.start_ms DESC, p.id DESC',
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

/** The column behind each facet; pgo is a nullable boolean, reported as "true"/"false". */
const FACET_COLUMNS: Record<FacetField, string> = {
  service: 'p.service',
  env: 'p.env',
  version: 'p.version',
  pgo: "CASE WHEN p.pgo THEN 'true' WHEN NOT p.pgo THEN 'false' END",
};

/**
 * The overlap of a profile with [from, to] as conditions on `alias`, bounding start_ms from both
 * sides so the window is one range of profiles_by_start: no profile is longer than the longest
 * stored (profile_span, read before each search and passed as `earliestStartParam`, a value the
 * planner can estimate, unlike a subquery). The end test is a CASE, exactly `end_ms >= from`
 * (a profile that starts in the window and ends after it starts ends in it): as a plain
 * comparison the planner would multiply its selectivity with the start range's, as if start and
 * end were independent, and expect a few hundred rows in a window holding thousands. Parameters
 * are placeholders.
 */
function windowCondition(alias: string, fromParam: string, toParam: string, earliestStartParam: string): string {
  const a = alias;
  return (
    `${a}.start_ms <= ${toParam} AND ${a}.start_ms >= ${earliestStartParam}` +
    ` AND CASE WHEN ${a}.start_ms >= ${fromParam} AND ${a}.end_ms >= ${a}.start_ms THEN true ELSE ${a}.end_ms >= ${fromParam} END`
  );
}

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
  pgo: boolean | null;
  cpu_cores: number | null;
  sample_count: number;
  duration_nanos: number;
  tags_json: string;
  metrics_json: string;
  attachments_json: string;
  pgo_blob_key: string | null;
  prepared_blob_key: string | null;
  endpoint_counts_json: string | null;
  raw_deleted: boolean;
}

/**
 * ProfileIndex in a PostgreSQL database shared by any number of `hotpath serve` replicas; the
 * schema is PG_MIGRATIONS (applied by openPostgres). Every call is one statement, so one round
 * trip and its own transaction, except runExclusive. An insert is one statement with all its
 * rows (data-modifying CTEs): atomic without BEGIN/COMMIT round trips; the inserts of one turn
 * of the event loop (the saves of one group of objects) share a statement (pg-insert-batch.ts),
 * and concurrent statements on the pool's connections share WAL flushes through PostgreSQL's
 * group commit. Every call
 * rejects with StoreUnavailableError when the database cannot serve it.
 */
export class PgProfileIndex implements ProfileIndex {
  /** Calls run on pooled connections, side by side. */
  readonly callsRunInline = false;
  private closed = false;

  /** `onClose` runs once, at the first close (the backend ends the pool when nothing uses it). */
  constructor(
    private readonly db: PostgresPool,
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {}

  private readonly inserts = new InsertBatcher(
    (record) => this.insertOne(record),
    (records) => this.insertMany(records),
  );

  /** Checks `record`, then inserts it with the other records inserted in the same turn of the event loop (pg-insert-batch.ts). */
  async insert(record: ProfileRecord): Promise<void> {
    checkProfileRecord(record);
    checkStorableText(record);
    await this.inserts.insert(record);
  }

  private async insertMany(records: readonly ProfileRecord[]): Promise<void> {
    await this.open().query(INSERT_MANY_SQL, insertManyValues(records), 'hotpath_insert_profiles');
  }

  private async insertOne(record: ProfileRecord): Promise<void> {
    try {
      // The joint insert's statement for one record, under a name of its own.
      await this.open().query(INSERT_MANY_SQL, insertManyValues([record]), 'hotpath_insert_profile');
    } catch (err) {
      // Which unique index reports a taken id first depends on the order the CTEs run in
      // (profiles, or the profile's tags or metrics, under a concurrent insert of the same id).
      if (err instanceof pg.DatabaseError && err.code === '23505') {
        if (err.constraint === 'profiles_pkey' || (await this.get(record.id)) !== null) throw new ProfileExistsError(record.id);
      }
      throw err;
    }
  }

  async get(id: string): Promise<ProfileRecord | null> {
    if (id.includes('\u0000')) return null;
    const { rows } = await this.open().query<ProfileRow>('SELECT * FROM profiles WHERE id = $1', [id]);
    return rows.length === 0 ? null : fromRow(rows[0]);
  }

  async search(options: ProfileSearch): Promise<ProfileRecord[]> {
    checkSearch(options);
    const { longestMs, termRowsTimed } = await this.windowFacts();
    const { text, values } = searchStatement(options, longestMs, termRowsTimed);
    const { rows } = await this.open().query<ProfileRow>(text, values);
    return rows.map(fromRow);
  }

  async countMatching(filter: ProfileFilter, atMost?: number): Promise<number> {
    checkSearch({ ...filter, limit: 0 });
    checkCountCap(atMost);
    const { longestMs: longest, termRowsTimed } = await this.windowFacts();
    const tree = withoutUnstorableTerms(queryTree(filter.query));
    const term = soleTerm(tree);
    if (term !== null && termRowsTimed) {
      const { sql, params } = termInWindow(term, filter, longest, ['profile_id']);
      const capped = atMost === undefined ? sql : `${sql} LIMIT $${params.length + 1}`;
      const { rows } = await this.open().query<{ n: string }>(
        `SELECT count(*) AS n FROM (${capped}) matched`,
        atMost === undefined ? params : [...params, atMost],
      );
      return Number(rows[0].n);
    }
    if (atMost === undefined) {
      const { sql, params } = filteredSelect({ ...filter, query: tree }, 'count(*) AS n', longest);
      const { rows } = await this.open().query<{ n: string }>(sql, params);
      return Number(rows[0].n);
    }
    const negated = soleNegatedTerm(tree);
    if (negated !== null && termRowsTimed) {
      const reached = await this.negationReachesCap(negated, filter, longest, atMost);
      if (reached !== null) return reached;
    }
    if (likelyDense(tree) && (await this.oneBroadTermAtMost(tree))) {
      // Newest first along the start index, each profile tested on its own, stopping at the cap.
      const { sql, params } = filteredSelect({ ...filter, query: tree }, '1', longest, PER_ROW_DIALECT);
      const n = params.length;
      const { rows } = await this.open().query<{ n: string }>(
        `SELECT count(*) AS n FROM (${sql} ORDER BY p.start_ms DESC LIMIT $${n + 1}) capped`,
        [...params, atMost],
      );
      return Number(rows[0].n);
    }
    const { sql, params } = filteredSelect({ ...filter, query: tree }, '1', longest);
    const { rows } = await this.open().query<{ n: string }>(`SELECT count(*) AS n FROM (${sql} LIMIT $${params.length + 1}) capped`, [
      ...params,
      atMost,
    ]);
    return Number(rows[0].n);
  }

  async facets(filter: ProfileFilter, perField: number): Promise<FacetCounts> {
    checkSearch({ ...filter, limit: perField });
    const fields = Object.keys(FACET_COLUMNS) as FacetField[];
    const longestMs = await this.longestProfileMs();
    const counts = await Promise.all(
      fields.map(async (field) => {
        const column = FACET_COLUMNS[field];
        const { sql, params } = filteredSelect(filter, `${column} AS value, count(*) AS count`, longestMs);
        const n = params.length;
        const { rows } = await this.open().query<{ value: string; count: string }>(
          `${sql} AND ${column} IS NOT NULL AND ${column} <> '' GROUP BY 1 ORDER BY 2 DESC, (${column}) COLLATE "C" ASC LIMIT $${n + 1}`,
          [...params, perField],
        );
        return rows.map((r) => ({ value: r.value, count: Number(r.count) }));
      }),
    );
    const result = {} as FacetCounts;
    fields.forEach((field, i) => {
      result[field] = counts[i];
    });
    return result;
  }

  async referencedBlobKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length > MAX_REFERENCE_CHECK) throw new RangeError(`at most ${MAX_REFERENCE_CHECK} blob keys per call, got ${keys.length}`);
    const storable = keys.filter((k) => !k.includes('\u0000'));
    if (storable.length === 0) return new Set();
    const { rows } = await this.open().query<{ blob_key: string }>('SELECT blob_key FROM profile_blobs WHERE blob_key = ANY($1::text[])', [
      storable,
    ]);
    return new Set(rows.map((r) => r.blob_key));
  }

  /**
   * Exclusive across every process sharing the database: the run holds a session advisory lock
   * (`pg_try_advisory_lock`) on a connection of its own, and the jobs table's start time is
   * read and written under it, so one replica runs a job at a time and at most once per
   * interval. The lock ends with the session: if the connection to PostgreSQL is lost during a
   * run, another replica may start the job while this run continues, so jobs must be safe to
   * overlap (retention is: deletes of what is already deleted do nothing).
   */
  async runExclusive(
    job: string,
    everyMs: number,
    run: (state: string | null) => Promise<string | null>,
    now = Date.now(),
  ): Promise<boolean> {
    const lock = [ADVISORY_LOCK_NAMESPACE, jobLockKey(job)];
    // The job's own rejection passes through untouched: only the database's errors are mapped.
    let jobFailure: { error: unknown } | null = null;
    const ran = await this.open().withClient(async (client) => {
      const locked = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', lock)).rows[0].locked;
      if (!locked) return false;
      try {
        const { rows } = await client.query<{ last_started_at: number; state: string | null }>(
          'SELECT last_started_at, state FROM jobs WHERE name = $1',
          [job],
        );
        const previous = rows[0];
        if (previous !== undefined && now - previous.last_started_at < everyMs) return false;
        await client.query(
          `INSERT INTO jobs (name, last_started_at, state) VALUES ($1, $2, NULL)
           ON CONFLICT (name) DO UPDATE SET last_started_at = excluded.last_started_at`,
          [job, now],
        );
        let state: string | null;
        try {
          state = await run(previous?.state ?? null);
        } catch (err) {
          jobFailure = { error: err };
          return true;
        }
        await client.query('UPDATE jobs SET state = $1 WHERE name = $2', [state, job]);
        return true;
      } finally {
        // A failure here means the session is gone, and the lock with it; the connection is discarded.
        await client.query('SELECT pg_advisory_unlock($1, $2)', lock);
      }
    });
    if (jobFailure !== null) throw (jobFailure as { error: unknown }).error;
    return ran;
  }

  async markRawDeleted(ids: readonly string[]): Promise<void> {
    const storable = ids.filter((id) => !id.includes('\u0000'));
    if (storable.length === 0) return;
    await this.open().query(
      `WITH u AS (UPDATE profiles SET raw_deleted = true WHERE id = ANY($1::text[]))
       DELETE FROM profile_blobs WHERE profile_id = ANY($1::text[]) AND kind = 'raw'`,
      [storable],
    );
  }

  async delete(ids: readonly string[]): Promise<void> {
    const storable = ids.filter((id) => !id.includes('\u0000'));
    if (storable.length === 0) return;
    await this.open().query(
      `WITH t AS (DELETE FROM profile_tags WHERE profile_id = ANY($1::text[])),
         m AS (DELETE FROM profile_metrics WHERE profile_id = ANY($1::text[])),
         b AS (DELETE FROM profile_blobs WHERE profile_id = ANY($1::text[]))
       DELETE FROM profiles WHERE id = ANY($1::text[])`,
      [storable],
    );
  }

  async expiredRaw(beforeMs: number, limit: number): Promise<ProfileRecord[]> {
    const { rows } = await this.open().query<ProfileRow>(
      'SELECT * FROM profiles WHERE received_at < $1 AND NOT raw_deleted ORDER BY received_at, id LIMIT $2',
      [beforeMs, limit],
    );
    return rows.map(fromRow);
  }

  async expired(beforeMs: number, limit: number): Promise<ProfileRecord[]> {
    const { rows } = await this.open().query<ProfileRow>(
      'SELECT * FROM profiles WHERE received_at < $1 ORDER BY received_at, id LIMIT $2',
      [beforeMs, limit],
    );
    return rows.map(fromRow);
  }

  async count(): Promise<number> {
    const { rows } = await this.open().query<{ n: string }>('SELECT count(*) AS n FROM profiles');
    return Number(rows[0].n);
  }

  async services(from: number, to: number): Promise<ServiceSummary[]> {
    const { rows } = await this.open().query<{
      service: string;
      envs: string[];
      profiles: string;
      cpu: number | null;
      pgo_true: string;
      pgo_known: string;
      latest_version: string;
      latest_pgo: boolean | null;
    }>(
      `SELECT p.service, array_agg(DISTINCT p.env) AS envs, count(*) AS profiles, avg(p.cpu_cores) AS cpu,
         count(*) FILTER (WHERE p.pgo) AS pgo_true, count(p.pgo) AS pgo_known,
         (SELECT q.version FROM profiles q WHERE q.service = p.service AND ${windowCondition('q', '$1', '$2', '$3')}
           ORDER BY q.start_ms DESC, q.id DESC LIMIT 1) AS latest_version,
         (SELECT q.pgo FROM profiles q WHERE q.service = p.service AND ${windowCondition('q', '$1', '$2', '$3')}
           ORDER BY q.start_ms DESC, q.id DESC LIMIT 1) AS latest_pgo
       FROM profiles p WHERE ${windowCondition('p', '$1', '$2', '$3')} GROUP BY p.service ORDER BY p.service`,
      [from, to, from - (await this.longestProfileMs())],
    );
    return rows.map((r) => {
      const known = Number(r.pgo_known);
      return {
        service: r.service,
        envs: r.envs.filter((e) => e !== '').sort(),
        latestVersion: r.latest_version,
        profiles: Number(r.profiles),
        cpuCores: r.cpu,
        pgoShare: known === 0 ? 0 : Number(r.pgo_true) / known,
        latestPgo: r.latest_pgo,
      };
    });
  }

  /** Closes this index; the pool ends once the key store is closed too. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }

  /**
   * The capped count of `-term` from two index ranges, without testing profiles one by one: among
   * the window's K newest profiles (start_ms at or after the K-th newest start), those matching
   * `-term` are the profiles there minus the term's rows there (every term row carries its
   * profile's times, and an exact value or a metric has one row per profile). Both counts are
   * index-only. Returns `atMost` when that difference reaches it for K = 2 or 16 times the cap,
   * the exact count when the whole window holds fewer than K profiles, and null when neither
   * (the term matches nearly every new profile; the caller walks them instead).
   */
  private async negationReachesCap(
    term: TagTermNode | MetricTermNode,
    window: { from: number; to: number },
    longestMs: number,
    atMost: number,
  ): Promise<number | null> {
    const termRows = termInWindow(term, window, longestMs, ['start_ms']);
    const n = termRows.params.length;
    // termInWindow puts the window's three parameters last ($n-2 .. $n): the profiles use them too.
    const profilesInWindow = `FROM profiles p WHERE ${windowCondition('p', `$${n - 2}`, `$${n - 1}`, `$${n}`)}`;
    // `newest` is the K-th newest start in the window, if the window has K profiles.
    const sql = `WITH newest AS (SELECT p.start_ms AS s ${profilesInWindow} ORDER BY p.start_ms DESC OFFSET $${n + 1} LIMIT 1),
        edge AS (SELECT coalesce((SELECT s FROM newest), '-Infinity'::float8) AS s, EXISTS (SELECT 1 FROM newest) AS full)
      SELECT edge.full,
             (SELECT count(*) ${profilesInWindow} AND p.start_ms >= edge.s)
           - (SELECT count(*) FROM (${termRows.sql}) x WHERE x.start_ms >= edge.s) AS n
      FROM edge`;
    for (const times of [2, 16]) {
      const { rows } = await this.open().query<{ full: boolean; n: string }>(sql, [...termRows.params, times * atMost - 1]);
      const matched = Number(rows[0].n);
      if (matched >= atMost) return atMost;
      if (!rows[0].full) return matched;
    }
    return null;
  }

  /**
   * Whether a top-level AND has at most one positive exact tag or metric term, with more than
   * BROAD_TERM_ROWS rows (in all time, counted through its index): then nothing narrows a count
   * much, and a walk along the window reaches the cap soonest. Two or more such terms are left
   * to the planner, which intersects them (a merge join): their matches may be rare, and a walk
   * would then read the whole window.
   */
  private async oneBroadTermAtMost(tree: QueryNode): Promise<boolean> {
    const children = tree.kind === 'and' ? tree.children : [tree];
    const terms = children.filter(
      (c): c is TagTermNode | MetricTermNode => (c.kind === 'tag' && c.value.kind === 'exact') || c.kind === 'metric',
    );
    if (terms.length === 0) return true;
    if (terms.length > 1) return false;
    const params: Array<string | number> = [];
    const counts = terms.map((term) => {
      const { select, params: own } = termRowsSql(term, { ...postgresDialect, placeholder: (i) => `$${params.length + i}` });
      const sql = `(SELECT count(*) FROM (${select} LIMIT ${BROAD_TERM_ROWS + 1}) x) > ${BROAD_TERM_ROWS}`;
      params.push(...own);
      return sql;
    });
    const { rows } = await this.open().query<{ broad: boolean }>(`SELECT ${counts.join(' AND ')} AS broad`, params);
    return rows[0].broad;
  }

  /**
   * The longest end - start of any stored profile, and whether every tag and metric row carries
   * its profile's times (false while rows stored before schema version 5 remain, or rows a
   * replica of an older release wrote): one round trip, two lookups of empty partial indexes.
   */
  private async windowFacts(): Promise<{ longestMs: number; termRowsTimed: boolean }> {
    const { rows } = await this.open().query<{ longest_ms: number; timed: boolean }>(
      `SELECT longest_ms, NOT EXISTS (SELECT 1 FROM profile_tags WHERE start_ms IS NULL)
         AND NOT EXISTS (SELECT 1 FROM profile_metrics WHERE start_ms IS NULL) AS timed FROM profile_span`,
    );
    return { longestMs: rows[0].longest_ms, termRowsTimed: rows[0].timed };
  }

  /** The longest end - start of any stored profile (it only grows; deletes leave it). */
  private async longestProfileMs(): Promise<number> {
    const { rows } = await this.open().query<{ longest_ms: number }>('SELECT longest_ms FROM profile_span');
    return rows[0].longest_ms;
  }

  private open(): PostgresPool {
    if (this.closed) throw new StoreClosedError('the PostgreSQL index is closed');
    return this.db;
  }
}

/**
 * The statement `search` runs for checked `options` when no stored profile is longer than
 * `longestMs` and, if `termRowsTimed`, every tag and metric row carries its profile's times,
 * with its parameters (exported for EXPLAIN in tests).
 */
export function searchStatement(
  options: ProfileSearch,
  longestMs: number,
  termRowsTimed: boolean,
): { text: string; values: Array<string | number> } {
  const sort = options.sort ?? '-start';
  const byStart = sort === '-start' || sort === 'start';
  const term = termRowsTimed ? soleTerm(withoutUnstorableTerms(queryTree(options.query))) : null;
  if (byStart && term !== null) {
    // One term: its rows in the window, newest (or oldest) first along profile_tags_by_window
    // (or a value range of profile_metrics_by_value), then the page's profiles by id.
    const { sql, params } = termInWindow(term, options, longestMs, ['profile_id', 'start_ms']);
    const n = params.length;
    const direction = sort === '-start' ? 'DESC' : 'ASC';
    const page = `SELECT r.profile_id AS id FROM (${sql}) r ORDER BY r.start_ms ${direction}, r.profile_id ${direction} LIMIT $${n + 1} OFFSET $${n + 2}`;
    return {
      text: `SELECT p.* FROM (${page}) page JOIN profiles p ON p.id = page.id ORDER BY ${ORDER_BY[sort]}`,
      values: [...params, options.limit, options.offset ?? 0],
    };
  }
  const { sql, params } = filteredSelect(options, byStart ? 'p.id' : 'p.*', longestMs);
  const n = params.length;
  const page = `${sql} ORDER BY ${ORDER_BY[sort]} LIMIT $${n + 1} OFFSET $${n + 2}`;
  const values = [...params, options.limit, options.offset ?? 0];
  if (!byStart) return { text: page, values };
  // Ordered by start time, the page is chosen from ids, start and end times alone, which the
  // covering indexes hold (profiles_by_start, profiles_pkey): every candidate is tested without
  // reading its row, and only the page's rows are read. A query whose matches are found through
  // a tag or metric tests thousands of candidates for a page of 50.
  return { text: `SELECT p.* FROM (${page}) page JOIN profiles p ON p.id = page.id ORDER BY ${ORDER_BY[sort]}`, values };
}

/**
 * The query's only term when it is one positive tag or metric term (alone, or the only child of
 * an AND), else null. Its rows carry their profile's start and end, so the term alone answers a
 * count or a page in a window, without reading a profile.
 */
function soleTerm(tree: QueryNode): TagTermNode | MetricTermNode | null {
  if (tree.kind === 'and' && tree.children.length === 1) return soleTerm(tree.children[0]);
  return tree.kind === 'tag' || tree.kind === 'metric' ? tree : null;
}

/** The term of a query that is `-term` alone (an exact tag value or a metric), else null. */
function soleNegatedTerm(tree: QueryNode): TagTermNode | MetricTermNode | null {
  if (tree.kind === 'and' && tree.children.length === 1) return soleNegatedTerm(tree.children[0]);
  if (tree.kind !== 'not') return null;
  const term = soleTerm(tree.child);
  return term !== null && (term.kind === 'metric' || term.value.kind === 'exact') ? term : null;
}

/**
 * `SELECT <columns> FROM profile_tags t (or profile_metrics m) WHERE <term> AND <window>`: one
 * row per profile of the term in the window (DISTINCT when a wildcard may match several values of
 * one profile; an exact value or a metric has one row per profile), with its parameters.
 */
function termInWindow(
  term: TagTermNode | MetricTermNode,
  window: { from: number; to: number },
  longestMs: number,
  columns: readonly string[],
): { sql: string; params: Array<string | number> } {
  const { select, params, alias } = termRowsSql(term, postgresDialect, columns);
  const n = params.length;
  const rows = `${select} AND ${windowCondition(alias, `$${n + 1}`, `$${n + 2}`, `$${n + 3}`)}`;
  const distinct = term.kind === 'tag' && term.value.kind !== 'exact';
  return {
    sql: distinct ? `SELECT DISTINCT ${columns.join(', ')} FROM (${rows}) r` : rows,
    params: [...params, window.from, window.to, window.from - longestMs],
  };
}

/** The query as a test of each profile row (see SqlDialect.childRowTest). */
const PER_ROW_DIALECT: SqlDialect = { ...postgresDialect, childRowTest: 'exists-per-row' };
/** A term with more rows than this does not narrow a count much (see oneBroadTermAtMost). */
const BROAD_TERM_ROWS = 20_000;

/** `SELECT <columns> FROM profiles p WHERE <window> AND (<query>)` and its parameters. */
function filteredSelect(
  filter: ProfileFilter,
  columns: string,
  longestMs: number,
  dialect: SqlDialect = postgresDialect,
): { sql: string; params: Array<string | number> } {
  const { where, params } = queryToSql(withoutUnstorableTerms(queryTree(filter.query)), {
    profileIdColumn: 'p.id',
    dialect,
  });
  const n = params.length;
  return {
    sql: `SELECT ${columns} FROM profiles p WHERE ${windowCondition('p', `$${n + 1}`, `$${n + 2}`, `$${n + 3}`)} AND (${where})`,
    params: [...params, filter.from, filter.to, filter.from - longestMs],
  };
}

/** Matches nothing: an OR without children. */
const NOTHING: QueryNode = { kind: 'or', children: [] };

/**
 * The tree with every term that names a NUL character replaced by NOTHING. PostgreSQL text
 * cannot hold NUL, so no stored key, value, metric name or id has one (inserts refuse it), and
 * such a term matches no profile; sent as a parameter it would be an error instead.
 */
export function withoutUnstorableTerms(node: QueryNode): QueryNode {
  switch (node.kind) {
    case 'all':
      return node;
    case 'and':
    case 'or':
      return { kind: node.kind, children: node.children.map(withoutUnstorableTerms) };
    case 'not':
      return { kind: 'not', child: withoutUnstorableTerms(node.child) };
    case 'tag':
      return hasNul(node.key) || patternHasNul(node.value) ? NOTHING : node;
    case 'id':
      return patternHasNul(node.value) ? NOTHING : node;
    case 'metric':
      return hasNul(node.name) ? NOTHING : node;
  }
}

function hasNul(text: string): boolean {
  return text.includes('\u0000');
}

function patternHasNul(value: ValuePattern): boolean {
  if (value.kind === 'exact') return hasNul(value.value);
  return value.segments.some((s) => s.kind === 'literal' && hasNul(s.text));
}

/**
 * Throws TypeError naming the field when a text the index keeps in a column holds a NUL
 * character, which PostgreSQL text cannot store (JSON columns escape it and need no check).
 */
function checkStorableText(record: ProfileRecord): void {
  const fields: Array<[string, string | null]> = [
    ['id', record.id],
    ['protocol', record.protocol],
    ['service', record.service],
    ['env', record.env],
    ['version', record.version],
    ['host', record.host],
    ['runtime', record.runtime],
    ['pgoBlobKey', record.pgoBlobKey],
    ['preparedBlobKey', record.preparedBlobKey],
    ...record.tags.flatMap(
      ([k, v]): Array<[string, string]> => [
        ['a tag key', k],
        [`tag ${k}`, v],
      ],
    ),
    ...Object.keys(record.metrics).map((name): [string, string] => ['a metric name', name]),
    ...record.attachments.map((a): [string, string] => ['an attachment blob key', a.blobKey]),
  ];
  for (const [field, value] of fields) {
    if (value !== null && hasNul(value)) {
      throw new TypeError(`profile ${JSON.stringify(record.id)}: ${field} holds a NUL character, which the PostgreSQL index cannot store`);
    }
  }
}

/** The advisory lock number of a job: 31 bits of its name's hash, never MIGRATION_LOCK's 0. */
function jobLockKey(job: string): number {
  const n = createHash('sha256').update(`job:${job}`).digest().readUInt32BE(0) & 0x7fffffff;
  return n === 0 ? 1 : n;
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
    pgo: row.pgo,
    cpuCores: row.cpu_cores,
    sampleCount: row.sample_count,
    durationNanos: row.duration_nanos,
    tags: JSON.parse(row.tags_json),
    metrics: JSON.parse(row.metrics_json),
    attachments: JSON.parse(row.attachments_json),
    pgoBlobKey: row.pgo_blob_key,
    preparedBlobKey: row.prepared_blob_key,
    endpointCounts: row.endpoint_counts_json === null ? null : JSON.parse(row.endpoint_counts_json),
    rawDeleted: row.raw_deleted,
  };
}
