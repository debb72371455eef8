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
