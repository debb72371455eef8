import { ProfileError } from '../pprof/errors.js';
import { parseProfiles } from '../pprof/parse.js';
import { QuerySyntaxError } from '../query/errors.js';
import type { ProfileSort } from '../store/profile-index.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { parseTimeWindow } from '../time/parse-time.js';
import { buildPgoProfile, type PgoBuildResult } from './build.js';
import { PgoSelectionError } from './errors.js';

/** One PGO query as the client sends it: a search, a window and how many profiles to take. */
export interface PgoQuery {
  query: string;
  from: string;
  to: string;
  limit: number;
}

/**
 * Returns the query with `runtime:go` added when it names no runtime or language, as
 * DataDog/datadog-pgo does: PGO only makes sense for Go profiles, and a service name can be
 * shared by services in several languages.
 */
export function withGoRuntime(query: string): string {
  if (/(^|[\s(])-?(runtime|language):/.test(query)) return query;
  const trimmed = query.trim();
  return trimmed === '' ? 'runtime:go' : `${trimmed} runtime:go`;
}

/** Returns the search query that lists exactly these profiles: `profile-id:(a OR b ...)`. */
export function debugQuery(ids: readonly string[]): string {
  return `profile-id:(${ids.join(' OR ')})`;
}

/** The store calls a PGO selection needs. */
export type PgoSource = Pick<ProfileStore, 'search' | 'readPgoOf'>;

/** A default.pgo built from the profiles a list of queries selected. */
export interface PgoSelection {
  built: PgoBuildResult;
  /** Ids of the profiles merged, sorted (the merge order). */
  ids: string[];
  selected: Map<string, ProfileRecord>;
  /** Each query as run (runtime:go added) with how many profiles it matched. */
  resolved: Array<PgoQuery & { matched: number }>;
}

/** The profiles a list of queries selected, before anything is read from the blob store. */
export interface ProfileSelection {
  /** Every selected profile (with a PGO form) by id, each once however many queries matched it. */
  selected: Map<string, ProfileRecord>;
  /** Each query as run (runtime:go added) with how many profiles it matched. */
  resolved: Array<PgoQuery & { matched: number }>;
}

/**
 * Selects the profiles of `queries`: per query the top `limit` profiles by CPU cores (or in the
 * order `sorts` gives for that query) in its window, runtime:go added, keeping those with a PGO form. Throws TimeParamError
 * for a bad window and PgoSelectionError for a query that does not parse or when no profile
 * matches any query.
 */
export async function selectProfiles(
  source: Pick<PgoSource, 'search'>,
  queries: readonly PgoQuery[],
  options: { now?: number; sorts?: readonly ProfileSort[] } = {},
): Promise<ProfileSelection> {
  const now = options.now ?? Date.now();
  const selected = new Map<string, ProfileRecord>();
  const resolved: Array<PgoQuery & { matched: number }> = [];
  for (const [i, q] of queries.entries()) {
    const query = withGoRuntime(q.query);
    const { from, to } = parseTimeWindow(q, 'now-72h', now);
    let found: ProfileRecord[];
    try {
      found = await source.search({ query, from, to, limit: q.limit, sort: options.sorts?.[i] ?? '-cpu' });
    } catch (err) {
      if (err instanceof QuerySyntaxError) {
        throw new PgoSelectionError('query', `query ${JSON.stringify(query)}: ${err.message}`, { column: err.column });
      }
      throw err;
    }
    found = found.filter((r) => r.pgoBlobKey !== null);
    for (const r of found) selected.set(r.id, r);
    resolved.push({ ...q, query, matched: found.length });
  }
  if (selected.size === 0) {
    throw new PgoSelectionError(
      'no_profiles',
      `no CPU profiles match ${resolved.map((q) => JSON.stringify(q.query)).join(' or ')} between ${queries[0].from} and ${queries[0].to}`,
      { queries: resolved },
    );
  }
  return { selected, resolved };
}

/**
 * Selects the profiles of `queries` (see selectProfiles) and merges their PGO forms in
 * profile-id order with the safety renames, so the same stored profiles always give the same
 * bytes. Throws TimeParamError for a bad window and PgoSelectionError for a query that does not
 * parse, no matching profile, a stored PGO form that cannot be read (naming the profile) or
 * forms that cannot be merged.
 */
export async function buildFromQueries(
  source: PgoSource,
  queries: readonly PgoQuery[],
  noInline: ReadonlySet<string>,
  options: { maxDecompressedBytes: number; now?: number },
): Promise<PgoSelection> {
  return buildFromSelection(source, await selectProfiles(source, queries, { now: options.now }), noInline, options);
}

/**
 * Merges the PGO forms of a selection (see buildFromQueries): same bytes for the same stored
 * profiles. Throws PgoSelectionError for a stored PGO form that cannot be read (naming the
 * profile) or forms that cannot be merged.
 */
export async function buildFromSelection(
  source: Pick<PgoSource, 'readPgoOf'>,
  selection: ProfileSelection,
  noInline: ReadonlySet<string>,
  options: { maxDecompressedBytes: number },
): Promise<PgoSelection & { skipped: number }> {
  const { selected, resolved } = selection;
  const allIds = [...selected.keys()].sort();
  const blobs = await Promise.all(allIds.map((id) => source.readPgoOf(selected.get(id) as ProfileRecord)));
  // A blob deleted by retention since the search is skipped.
  const ids = allIds.filter((_id, i) => blobs[i] !== null);
  const profiles = await parseProfiles(
    blobs.filter((b): b is Uint8Array => b !== null),
    { maxDecompressedBytes: options.maxDecompressedBytes },
    (i, err) =>
      err instanceof ProfileError
        ? new PgoSelectionError('unreadable_pgo', `the stored PGO form of profile ${ids[i]} cannot be read: ${err.message}`)
        : err,
  );
  let built: PgoBuildResult;
  try {
    built = buildPgoProfile(profiles, { noInline });
  } catch (err) {
    if (err instanceof ProfileError) {
      throw new PgoSelectionError('incompatible', `the selected profiles cannot make a default.pgo: ${err.message}`);
    }
    throw err;
  }
  return { built, ids, selected, resolved, skipped: allIds.length - ids.length };
}
