import { FIXTURE_IDS } from './fixture-profiles.testing.js';
import { MAX_QUERY_DEPTH, MAX_QUERY_LENGTH } from './parse.js';

// The query-language cases every SQL backend runs (sql.test.ts on SQLite, the PostgreSQL store's
// tests), so all of them answer the same table and the same random queries.

/** Every fixture id except these. */
function except(...ids: string[]): string[] {
  return FIXTURE_IDS.filter((id) => !ids.includes(id));
}

export function profileIdsQuery(length: number): string {
  // profile-id:(p01 OR p02 OR ... ) padded with spaces to exactly `length` characters.
  const q = `profile-id:(${FIXTURE_IDS.join(' OR ')})`;
  return q.replace('(', `(${' '.repeat(length - q.length)}`);
}

/**
 * Valid queries and the fixture profiles they match. Each is run through SQLite (both ways of
 * writing child-row tests) and through matchesQuery; all three must give these ids. Invalid
 * queries are in parse.test.ts.
 */
export const VALID_QUERIES: ReadonlyArray<{ query: string; ids: readonly string[] }> = [
  // Empty and blank queries match everything.
  { query: '', ids: FIXTURE_IDS },
  { query: ' \t\n ', ids: FIXTURE_IDS },
  // Terms, juxtaposition, AND, OR.
  { query: 'service:web-api', ids: ['p01', 'p02', 'p09'] },
  { query: 'service:web-api env:prod', ids: ['p01', 'p09'] },
  { query: 'service:web-api AND env:prod', ids: ['p01', 'p09'] },
  { query: 'env:staging OR env:dev', ids: ['p02', 'p05', 'p11', 'p12'] },
  { query: 'service:worker OR(env:dev)', ids: ['p04', 'p05', 'p12'] },
  { query: 'k8s.io/namespace:jobs', ids: ['p04', 'p05'] },
  { query: 'version:1.10', ids: ['p10'] },
  // Negation and precedence: NOT > AND > OR.
  { query: '-pgo:true', ids: except('p01', 'p03', 'p05', 'p09') },
  { query: 'NOT pgo:true', ids: except('p01', 'p03', 'p05', 'p09') },
  { query: '-service:web-api OR env:staging', ids: except('p01', 'p09') },
  { query: 'NOT NOT pgo:true', ids: ['p01', 'p03', 'p05', 'p09'] },
  { query: '--pgo:true', ids: ['p01', 'p03', 'p05', 'p09'] },
  { query: 'NOT (env:prod OR env:dev)', ids: ['p02', 'p08', 'p10', 'p11'] },
  { query: 'env:prod service:web-api OR service:worker', ids: ['p01', 'p04', 'p05', 'p09'] },
  { query: 'service:worker OR service:web-api env:prod', ids: ['p01', 'p04', 'p05', 'p09'] },
  { query: 'env:prod (service:web-api OR service:worker)', ids: ['p01', 'p04', 'p09'] },
  { query: '((service:worker) (env:dev OR (env:prod pgo:false)))', ids: ['p04', 'p05'] },
  { query: '(((((env:dev)))))', ids: ['p05', 'p12'] },
  // Value groups; several values of one tag on one profile.
  { query: 'version:(1.2 OR 1.3)', ids: ['p01', 'p02', 'p03', 'p09'] },
  { query: 'team:infra', ids: ['p01', 'p04', 'p09'] },
  { query: 'team:(core AND infra)', ids: ['p01'] },
  { query: 'team:(core infra)', ids: ['p01'] },
  { query: '-team:core', ids: except('p01', 'p02') },
  { query: 'team:(infra AND NOT core)', ids: ['p04', 'p09'] },
  { query: 'version:(1.2 OR (2.0 AND NOT 1.3))', ids: ['p01', 'p04', 'p09'] },
  // Wildcards: start, middle, end, `?`, whole value, case-sensitive, code points.
  { query: 'service:web-*', ids: ['p01', 'p02', 'p03', 'p09', 'p12'] },
  { query: 'service:*er', ids: ['p04', 'p05'] },
  { query: 'service:w*r', ids: ['p04', 'p05'] },
  { query: 'host:*-prod-?', ids: ['p03', 'p04'] },
  { query: 'service:web-caf?', ids: ['p12'] },
  { query: 'emoji:?', ids: ['p12'] },
  { query: 'service:Web-API', ids: ['p07'] },
  { query: 'env:prod*', ids: ['p01', 'p03', 'p04', 'p06', 'p07', 'p09', 'p10'] },
  { query: 'service:*', ids: except('p08') },
  { query: '-service:*', ids: ['p08'] },
  { query: 'region:eu-west-1 OR NOT region:*', ids: except('p11') },
  // Quoted values are literal: spaces, `:`, `(`, `*`, escapes.
  { query: 'host:"web 1"', ids: ['p01', 'p09'] },
  { query: 'host:"dev box" OR host:"web 2"', ids: ['p02', 'p05'] },
  { query: 'env:"prod eu"', ids: ['p10'] },
  { query: 'service:"db:proxy"', ids: ['p06'] },
  { query: 'service:db:proxy', ids: ['p06'] },
  { query: 'version:"1.2 (beta)"', ids: ['p06'] },
  { query: 'version:1.2\\ \\(beta\\)', ids: ['p06'] },
  { query: 'host:"a*b"', ids: ['p06'] },
  { query: 'host:a\\*b', ids: ['p06'] },
  { query: 'host:"web*"', ids: [] },
  { query: 'host:web*', ids: ['p01', 'p02', 'p09'] },
  { query: 'path:"C:\\\\tmp\\\\x"', ids: ['p11'] },
  { query: 'quote:"say \\"hi\\""', ids: ['p11'] },
  // `[` and `?` as literal characters, also next to wildcards (GLOB escaping).
  { query: 'host:"rack[1]?"', ids: ['p07'] },
  { query: 'host:rack\\[1]\\?', ids: ['p07'] },
  { query: 'host:rack[1]*', ids: ['p07'] },
  { query: 'host:rack[?]?', ids: ['p07'] },
  { query: 'host:*[*', ids: ['p07'] },
  // Metrics: comparisons, decimals, negatives, exponents, ranges, groups, missing metrics.
  { query: '@metrics.core_cpu_cores:>1.5', ids: ['p01', 'p04', 'p09', 'p11'] },
  { query: '@metrics.core_cpu_cores:>=1.5', ids: ['p01', 'p03', 'p04', 'p06', 'p09', 'p11'] },
  { query: '@metrics.core_cpu_cores:<1', ids: ['p02', 'p07', 'p10'] },
  { query: '@metrics.core_cpu_cores:<=1', ids: ['p02', 'p05', 'p07', 'p10'] },
  { query: '@metrics.core_cpu_cores:1.5', ids: ['p03', 'p06'] },
  { query: '@metrics.core_cpu_cores:15e-1', ids: ['p03', 'p06'] },
  { query: '@metrics.core_cpu_cores:[1 TO 2.5]', ids: ['p01', 'p03', 'p05', 'p06', 'p12'] },
  { query: '@metrics.core_cpu_cores:(>1 AND <2)', ids: ['p03', 'p06', 'p12'] },
  { query: '@metrics.heap_delta_mb:<-0.25', ids: ['p02', 'p04'] },
  { query: '@metrics.heap_delta_mb:[-3.25 TO 0]', ids: ['p02', 'p04', 'p05'] },
  { query: '@metrics.heap_delta_mb:-.5', ids: ['p02'] },
  { query: '-@metrics.heap_delta_mb:>=0', ids: except('p01', 'p05', 'p10') },
  { query: '@metrics.nonexistent:>0', ids: [] },
  { query: 'service:web-api @metrics.core_cpu_cores:>2', ids: ['p01', 'p09'] },
  // Profile ids.
  { query: 'profile-id:p03', ids: ['p03'] },
  { query: 'profile-id:(p01 OR p03 OR p12)', ids: ['p01', 'p03', 'p12'] },
  { query: '-profile-id:(p01 OR p02) service:web-api', ids: ['p09'] },
  { query: 'profile-id:p1*', ids: ['p10', 'p11', 'p12'] },
  {
    query: 'service:web-api OR service:worker OR profile-id:p06 OR profile-id:p07',
    ids: ['p01', 'p02', 'p04', 'p05', 'p06', 'p07', 'p09'],
  },
  // Keys are exact strings: operator words and inherited property names are ordinary keys.
  { query: 'OR:x', ids: [] },
  { query: 'constructor:x', ids: [] },
  { query: '-constructor:*', ids: FIXTURE_IDS },
  // At the limits.
  { query: `${'('.repeat(MAX_QUERY_DEPTH)}env:dev${')'.repeat(MAX_QUERY_DEPTH)}`, ids: ['p05', 'p12'] },
  { query: `${'-'.repeat(MAX_QUERY_DEPTH)}pgo:true`, ids: ['p01', 'p03', 'p05', 'p09'] },
  { query: profileIdsQuery(MAX_QUERY_LENGTH), ids: FIXTURE_IDS },
];

/** A test name for a query: long ones shortened. */
export function caseName(query: string): string {
  return query.length > 80 ? `${query.slice(0, 60)}… (${query.length} characters)` : JSON.stringify(query);
}

/**
 * Random strings over the syntax's own characters and the fixture's words: most are errors, the
 * rest are valid queries far stranger than anyone writes by hand.
 */
const PIECES = [
  ' ',
  ' ',
  ' ',
  '(',
  ')',
  '-',
  'NOT ',
  ' AND ',
  ' OR ',
  ' OR ',
  '"',
  '*',
  '?',
  '\\',
  ':',
  'service:',
  'env:',
  'team:',
  'host:',
  'profile-id:',
  '@metrics.core_cpu_cores:',
  '@metrics.heap_delta_mb:',
  'web',
  '-api',
  'prod',
  'dev',
  'infra',
  'p0',
  '1',
  '.5',
  '>',
  '>=',
  '<',
  '[0 TO 3]',
  'é',
  '🔥',
  'service:web-api',
  'service:*er',
  'env:prod',
  'env:(dev OR staging)',
  'team:(core infra)',
  'team:infra',
  'host:"web 1"',
  'host:rack[?]*',
  'pgo:true',
  'version:1.?',
  '@metrics.core_cpu_cores:>1.5',
  '@metrics.heap_delta_mb:[-1 TO 0]',
  'profile-id:(p01 OR p04)',
  'region:*',
];

/** `count` random queries, the same ones on every run (xorshift32), so a failure reproduces. */
export function* randomQueries(count = 6000): Generator<string> {
  let state = 0x9e3779b9;
  const random = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  for (let i = 0; i < count; i++) {
    let query = '';
    const length = 1 + random(6);
    for (let j = 0; j < length; j++) query += PIECES[random(PIECES.length)];
    yield query;
  }
}
