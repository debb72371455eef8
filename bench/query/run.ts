// Benchmark of the two ways queryToSql can write a tag or metric term for SQLite: IN-subquery
// (the SQLite default) and EXISTS (what a PostgreSQL dialect would use), on generated profiles.
//
//   npx tsc -p . && node dist/bench/query/run.js [--profiles N] [--rounds N]
//
// Defaults: 200000 profiles, 5 timed rounds per query and form (after 1 warm-up). Prints one
// markdown table; tests never assert timings, this is where the default was chosen.

import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { type SqlDialect, sqliteDialect } from '../../src/query/dialect.js';
import { parseQuery } from '../../src/query/parse.js';
import { queryToSql } from '../../src/query/sql.js';
import { QUERY_SCHEMA_SQLITE } from '../../src/store/sqlite-query-schema.js';

const QUERIES = [
  'service:svc-7',
  'env:prod',
  'service:svc-7*',
  'host:*-17',
  'service:svc-7 env:prod',
  'env:prod version:v1',
  'service:(svc-1 OR svc-2) OR host:host-5',
  '-env:prod',
  'service:svc-7 -env:prod',
  '@metrics.core_cpu_cores:>9.5',
];

/** What the profile list page will run: newest first, one page. */
const PAGE = ' ORDER BY p.start_time DESC LIMIT 100';

function readOptions(): { profiles: number; rounds: number } {
  const { values } = parseArgs({ options: { profiles: { type: 'string' }, rounds: { type: 'string' } } });
  const int = (text: string | undefined, fallback: number, flag: string): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a positive integer, got ${text}`);
    return n;
  };
  return { profiles: int(values.profiles, 200_000, 'profiles'), rounds: int(values.rounds, 5, 'rounds') };
}

/** Profiles with 5 or 6 tags (500 services, 3 envs, 3000 hosts, 20 versions, 1–2 teams) and one metric. */
function buildDatabase(count: number): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE profiles (id TEXT PRIMARY KEY, start_time INTEGER NOT NULL)');
  db.exec('CREATE INDEX profiles_by_start_time ON profiles (start_time)');
  db.exec(QUERY_SCHEMA_SQLITE);
  const profile = db.prepare('INSERT INTO profiles VALUES (?, ?)');
  const tag = db.prepare('INSERT INTO profile_tags VALUES (?, ?, ?)');
  const metric = db.prepare('INSERT INTO profile_metrics VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = `profile-${i.toString().padStart(7, '0')}`;
      profile.run(id, 1_700_000_000 + i * 10);
      tag.run(id, 'service', `svc-${i % 500}`);
      tag.run(id, 'env', ['prod', 'staging', 'dev'][i % 3]);
      tag.run(id, 'host', `host-${i % 3000}`);
      tag.run(id, 'version', `v${i % 20}`);
      tag.run(id, 'team', `team-${i % 10}`);
      if (i % 4 === 0) tag.run(id, 'team', `team-${(i + 3) % 10}`);
      metric.run(id, 'core_cpu_cores', (i % 97) / 10);
    }
  })();
  db.exec('ANALYZE');
  return db;
}

function ratio(slow: number, fast: number): string {
  const r = slow / Math.max(fast, 0.01);
  return `${r < 10 ? r.toFixed(1) : Math.round(r)}×`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(db: Database.Database, sql: string, params: unknown[], rounds: number): { ms: number; ids: string[] } {
  const statement = db.prepare(sql).pluck();
  let ids = statement.all(...params) as string[];
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    ids = statement.all(...params) as string[];
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times), ids };
}

function main(): void {
  const { profiles, rounds } = readOptions();
  const built = Date.now();
  const db = buildDatabase(profiles);
  const version = db.prepare('SELECT sqlite_version()').pluck().get();
  console.log(
    `${profiles} profiles built in ${Date.now() - built} ms; SQLite ${version}; ${cpus()[0]?.model}, ${availableParallelism()} CPUs, Node ${process.version}`,
  );
  console.log(`median of ${rounds} rounds after 1 warm-up\n`);
  const forms: Array<[string, SqlDialect]> = [
    ['IN-subquery', sqliteDialect],
    ['EXISTS', { ...sqliteDialect, childRowTest: 'exists' }],
  ];
  console.log('| query | page | rows | IN-subquery | EXISTS | faster |');
  console.log('| ----- | ---- | ---: | ----------: | -----: | ------ |');
  for (const query of QUERIES) {
    for (const page of [false, true]) {
      const results = forms.map(([, dialect]) => {
        const { where, params } = queryToSql(parseQuery(query), { dialect });
        return time(db, `SELECT p.id FROM profiles p WHERE ${where}${page ? PAGE : ' ORDER BY p.id'}`, params, rounds);
      });
      if (results[0].ids.join() !== results[1].ids.join()) throw new Error(`the two forms disagree on ${query}`);
      const [inSubquery, exists] = results;
      const faster = inSubquery.ms <= exists.ms ? `IN ${ratio(exists.ms, inSubquery.ms)}` : `EXISTS ${ratio(inSubquery.ms, exists.ms)}`;
      console.log(
        `| \`${query}\` | ${page ? 'newest 100' : 'all'} | ${inSubquery.ids.length} | ${inSubquery.ms.toFixed(1)} ms | ${exists.ms.toFixed(1)} ms | ${faster} |`,
      );
    }
  }
}

main();
