import type { ServiceAdoption } from '../api/types.js';
import type { QueryNode } from '../query/ast.js';
import { parseQuery } from '../query/parse.js';
import { parseBlobRef } from './blob-ref.js';
import type { ProfileRecord } from './types.js';

/** Columns search results can be ordered by. */
export type ProfileSortColumn = 'start' | 'cpu' | 'service' | 'env' | 'version' | 'host';

/** Orders for search results; a leading "-" means descending. */
export type ProfileSort = ProfileSortColumn | `-${ProfileSortColumn}`;

/** Every ProfileSort, for validating input. */
export const PROFILE_SORTS: readonly ProfileSort[] = (['start', 'cpu', 'service', 'env', 'version', 'host'] as const).flatMap(
  (c): ProfileSort[] => [c, `-${c}`],
);

/** The tag fields `facets` counts. */
export type FacetField = 'service' | 'env' | 'version' | 'pgo';

/** How many matching profiles have each value of one field, most common first. */
export type FacetCounts = Record<FacetField, Array<{ value: string; count: number }>>;

/** A query and a time window, without order or paging. */
export type ProfileFilter = Pick<ProfileSearch, 'query' | 'from' | 'to'>;

export interface ProfileSearch {
  /**
   * A query in the search language (empty matches every profile), or its parsed tree: callers
   * that parsed it already (to report a syntax error at its column) pass the tree, so no backend
   * parses twice.
   */
  query: string | QueryNode;
  /** Time window, ms since the epoch, inclusive: profiles whose [start, end] overlaps [from, to]. */
  from: number;
  to: number;
  /** Default `-start` (newest first). Profiles without CPU cores sort after the others in both cpu orders. */
  sort?: ProfileSort;
  /** Most records returned; a non-negative integer. */
  limit: number;
  /** Records skipped before the first returned (paging); default 0. */
  offset?: number;
}

/**
 * The searchable metadata of stored profiles. Implementations (SQLite now, PostgreSQL later) all
 * pass `profileIndexContract`.
 */
export interface ProfileIndex {
  /**
   * True when calls run one at a time on the caller's thread (SQLite): two calls started together
   * cost the sum of their times, so a caller that may skip the second once it has the first's
   * answer should wait for that answer. False when calls run elsewhere, side by side (PostgreSQL
   * connections).
   */
  readonly callsRunInline: boolean;
  /**
   * Stores `record` with all its tags and metrics in one transaction: afterwards either all of it
   * is visible or none of it. Rejects with ProfileExistsError when the id is taken.
   */
  insert(record: ProfileRecord): Promise<void>;
  /** Returns the record with `id` exactly as inserted (plus rawDeleted), or null. */
  get(id: string): Promise<ProfileRecord | null>;
  /**
   * Returns the records matching the query in the time window, sorted, at most `limit`. Rejects
   * with QuerySyntaxError (which carries the column) when the query does not parse.
   */
  search(options: ProfileSearch): Promise<ProfileRecord[]>;
  /**
   * Returns how many records `search` would find without a limit, or `atMost` when there are at
   * least that many: counting stops there, so a broad query over millions of rows costs what
   * `atMost` rows cost. Rejects like `search`, and with RangeError when `atMost` is not a
   * positive integer.
   */
  countMatching(filter: ProfileFilter, atMost?: number): Promise<number>;
  /**
   * Returns, for the records matching the filter, how many have each value of service, env,
   * version and pgo ("true"/"false"; profiles without it are not counted), at most `perField`
   * values per field, most common first, ties by value. Rejects like `search`.
   */
  facets(filter: ProfileFilter, perField: number): Promise<FacetCounts>;
  /**
   * Which of `keys` must be kept: the PGO blob of a stored profile, or an attachment of one whose
   * raw data is not deleted. A blob outside this set belongs to nobody. At most
   * MAX_REFERENCE_CHECK keys per call, so orphan collection works in pages and never holds every
   * key of a large store.
   */
  referencedBlobKeys(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Runs `run` for the background job `job` unless another process or replica sharing this index
   * is running it now or it last started less than `everyMs` ago; resolves whether it ran. `run`
   * gets the state the job's previous run returned (null the first time) and returns the state to
   * keep (a cursor, so work resumes where it stopped). When `run` rejects, the state is kept and
   * the rejection passes through. `now` (default: the clock) is the time the run counts as
   * started. This is what makes retention run on one replica at a time.
   */
  runExclusive(job: string, everyMs: number, run: (state: string | null) => Promise<string | null>, now?: number): Promise<boolean>;
  /** Sets rawDeleted on these profiles (their attachment keys stop being referenced); unknown ids are ignored. */
  markRawDeleted(ids: readonly string[]): Promise<void>;
  /** Removes these profiles with their tags and metrics; unknown ids are ignored. */
  delete(ids: readonly string[]): Promise<void>;
  /** Up to `limit` profiles received before `beforeMs` whose raw data is not deleted yet, oldest first. */
  expiredRaw(beforeMs: number, limit: number): Promise<ProfileRecord[]>;
  /** Up to `limit` profiles received before `beforeMs`, oldest first. */
  expired(beforeMs: number, limit: number): Promise<ProfileRecord[]>;
  /** Number of stored profiles. */
  count(): Promise<number>;
  /** Every service with a profile overlapping [from, to], with its PGO adoption, sorted by name. */
  services(from: number, to: number): Promise<ServiceSummary[]>;
  /** Releases the connection; calling it twice is harmless. */
  close(): Promise<void>;
}

/** One service seen in a window, for PGO adoption (declared with the API, which answers it as is). */
export type ServiceSummary = ServiceAdoption;

/** Throws RangeError unless `atMost` is absent or a positive integer (countMatching's cap). */
export function checkCountCap(atMost: number | undefined): void {
  if (atMost !== undefined && (!Number.isSafeInteger(atMost) || atMost < 1)) {
    throw new RangeError(`count cap must be a positive integer, got ${atMost}`);
  }
}

/** Most keys one referencedBlobKeys call accepts. */
export const MAX_REFERENCE_CHECK = 1000;

/** The parsed tree of a search's query, parsing it when the caller passed text. Throws QuerySyntaxError. */
export function queryTree(query: string | QueryNode): QueryNode {
  return typeof query === 'string' ? parseQuery(query) : query;
}

const SORTS: ReadonlySet<string> = new Set<string>(PROFILE_SORTS);

/**
 * Throws TypeError or RangeError naming the field when `options` is not a valid search (sort not
 * one of ProfileSort, times not finite, limit not a non-negative integer); the query is checked
 * by parsing. Implementations call it so that they all refuse the same inputs.
 */
export function checkSearch(options: ProfileSearch): void {
  if (typeof options.query !== 'string' && (typeof options.query !== 'object' || options.query === null)) {
    throw new TypeError('search query must be a string or a parsed query');
  }
  if (!Number.isFinite(options.from) || !Number.isFinite(options.to)) {
    throw new RangeError(`search from and to must be finite numbers of ms, got ${options.from} and ${options.to}`);
  }
  if (options.sort !== undefined && !SORTS.has(options.sort)) {
    throw new RangeError(`search sort must be one of ${[...SORTS].join(', ')}, got ${JSON.stringify(options.sort)}`);
  }
  if (!Number.isSafeInteger(options.limit) || options.limit < 0) {
    throw new RangeError(`search limit must be a non-negative integer, got ${options.limit}`);
  }
  if (options.offset !== undefined && (!Number.isSafeInteger(options.offset) || options.offset < 0)) {
    throw new RangeError(`search offset must be a non-negative integer, got ${options.offset}`);
  }
}

/**
 * Throws TypeError naming the field when `record` cannot be stored faithfully: an empty id, a
 * time or count that is not a finite number, a tag that is not a pair of strings, a metric that
 * is not a finite number, a blob key (PGO, prepared form) that is neither a non-empty string nor
 * null. Implementations call it before writing anything.
 */
export function checkProfileRecord(record: ProfileRecord): void {
  if (typeof record.id !== 'string' || record.id.length === 0) throw new TypeError('profile id must be a non-empty string');
  for (const field of ['start', 'end', 'receivedAt', 'sampleCount', 'durationNanos'] as const) {
    if (!Number.isFinite(record[field]))
      throw new TypeError(`profile ${record.id}: ${field} must be a finite number, got ${record[field]}`);
  }
  if (record.cpuCores !== null && !Number.isFinite(record.cpuCores)) {
    throw new TypeError(`profile ${record.id}: cpuCores must be a finite number or null, got ${record.cpuCores}`);
  }
  for (const tag of record.tags) {
    if (!Array.isArray(tag) || tag.length !== 2 || typeof tag[0] !== 'string' || typeof tag[1] !== 'string') {
      throw new TypeError(`profile ${record.id}: every tag must be a [key, value] pair of strings, got ${JSON.stringify(tag)}`);
    }
  }
  for (const [name, value] of Object.entries(record.metrics)) {
    if (!Number.isFinite(value)) throw new TypeError(`profile ${record.id}: metric ${name} must be a finite number, got ${value}`);
  }
  // A record built before the field existed (JSON, an older caller) must not be stored as if it
  // had no prepared form by accident: absent is an error, null says "none".
  for (const field of ['pgoBlobKey', 'preparedBlobKey'] as const) {
    const key: unknown = record[field];
    if (key !== null && (typeof key !== 'string' || key.length === 0)) {
      throw new TypeError(`profile ${record.id}: ${field} must be a non-empty string or null, got ${String(key)}`);
    }
  }
  // Every reference must parse (a plain key or a range of an object, blob-ref.ts): the index
  // keeps the objects they name, and a reader must never meet one it cannot resolve.
  for (const ref of [...record.attachments.map((a) => a.blobKey), record.pgoBlobKey, record.preparedBlobKey]) {
    if (ref === null) continue;
    try {
      parseBlobRef(ref);
    } catch (err) {
      throw new TypeError(`profile ${record.id}: ${(err as Error).message}`);
    }
  }
}
