/**
 * Returns the search-language term `key:value`, quoted when the value holds anything but word
 * characters, dots, dashes and slashes (a service called "my api" must not become two terms).
 */
export function term(key: string, value: string, exclude = false): string {
  const v = /^[\w.\-/]+$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `${exclude ? '-' : ''}${key}:${v}`;
}

/** The whitespace-separated terms of a query, a quoted value (`host:"a b"`) staying in one. */
export function queryTerms(query: string): string[] {
  return query.match(/(?:[^\s"]+|"(?:[^"\\]|\\.)*"?)+/g) ?? [];
}

/** Returns the query with term `t` added, or removed when it is already one of its terms. */
export function toggleTerm(query: string, t: string): string {
  const terms = queryTerms(query);
  return terms.includes(t) ? terms.filter((x) => x !== t).join(' ') : [...terms, t].join(' ');
}

/** The query of one service, in one environment when given: what `hotpath pgo` is run with. */
export function serviceQuery(service: string, env = ''): string {
  return env ? `${term('service', service)} ${term('env', env)}` : term('service', service);
}
