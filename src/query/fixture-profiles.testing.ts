import type Database from 'better-sqlite3';
import { QUERY_SCHEMA_SQLITE } from '../store/sqlite-query-schema.js';
import type { QueryProfile } from './evaluate.js';

/**
 * Twelve fake profiles for query tests: several services and envs, hosts with spaces, values
 * holding the characters the syntax uses (`:` `(` `*` `[` `?` `"` `\`), tags with two values,
 * case variants, non-ASCII values, negative and missing metrics, one profile without anything.
 * p09's tags are a Map, the others records, so both shapes are evaluated.
 */
export const FIXTURE_PROFILES: readonly QueryProfile[] = [
  {
    id: 'p01',
    tags: { service: ['web-api'], env: ['prod'], version: ['1.2'], host: ['web 1'], pgo: ['true'], team: ['core', 'infra'] },
    metrics: { core_cpu_cores: 2.5, heap_delta_mb: 12 },
  },
  {
    id: 'p02',
    tags: { service: ['web-api'], env: ['staging'], version: ['1.3'], host: ['web 2'], pgo: ['false'], team: ['core'] },
    metrics: { core_cpu_cores: 0.75, heap_delta_mb: -0.5 },
  },
  {
    id: 'p03',
    tags: { service: ['web-frontend'], env: ['prod'], version: ['1.3'], host: ['fe-prod-1'], pgo: ['true'] },
    metrics: { core_cpu_cores: 1.5 },
  },
  {
    id: 'p04',
    tags: {
      service: ['worker'],
      env: ['prod'],
      version: ['2.0'],
      host: ['worker-prod-a'],
      pgo: ['false'],
      team: ['data', 'infra'],
      'k8s.io/namespace': ['jobs'],
    },
    metrics: { core_cpu_cores: 4, heap_delta_mb: -3.25 },
  },
  {
    id: 'p05',
    tags: { service: ['worker'], env: ['dev'], version: ['2.0-rc1'], host: ['dev box'], pgo: ['true'], 'k8s.io/namespace': ['jobs'] },
    metrics: { core_cpu_cores: 1, heap_delta_mb: 0 },
  },
  {
    id: 'p06',
    tags: { service: ['db:proxy'], env: ['prod'], version: ['1.2 (beta)'], host: ['a*b'] },
    metrics: { core_cpu_cores: 1.5 },
  },
  {
    id: 'p07',
    tags: { service: ['Web-API'], env: ['prod'], host: ['rack[1]?'] },
    metrics: { core_cpu_cores: 0.25 },
  },
  { id: 'p08', tags: {}, metrics: {} },
  {
    id: 'p09',
    tags: new Map([
      ['service', ['web-api']],
      ['env', ['prod']],
      ['version', ['1.2']],
      ['host', ['web 1']],
      ['pgo', ['true']],
      ['team', ['infra']],
    ]),
    metrics: { core_cpu_cores: 8 },
  },
  {
    id: 'p10',
    tags: { service: ['ingest'], env: ['prod eu'], version: ['1.10'], pgo: ['false'], region: ['eu-west-1'] },
    metrics: { core_cpu_cores: 0.5, heap_delta_mb: 100 },
  },
  {
    id: 'p11',
    tags: { service: ['ingest'], env: ['staging'], region: ['us-east-1'], path: ['C:\\tmp\\x'], quote: ['say "hi"'] },
    metrics: { core_cpu_cores: 3 },
  },
  {
    id: 'p12',
    tags: { service: ['web-café'], env: ['dev'], emoji: ['🔥'] },
    metrics: { core_cpu_cores: 1.4999 },
  },
];

/** The ids of FIXTURE_PROFILES, in order. */
export const FIXTURE_IDS: readonly string[] = FIXTURE_PROFILES.map((p) => p.id);

/**
 * Creates `profiles(id)` and the QUERY_SCHEMA_SQLITE tables in `db` and fills them with
 * `profiles`, one profile_tags row per tag value and one profile_metrics row per metric.
 */
export function loadProfiles(db: Database.Database, profiles: readonly QueryProfile[] = FIXTURE_PROFILES): void {
  db.exec('CREATE TABLE profiles (id TEXT PRIMARY KEY)');
  db.exec(QUERY_SCHEMA_SQLITE);
  const insertProfile = db.prepare('INSERT INTO profiles (id) VALUES (?)');
  const insertTag = db.prepare('INSERT INTO profile_tags (profile_id, key, value) VALUES (?, ?, ?)');
  const insertMetric = db.prepare('INSERT INTO profile_metrics (profile_id, name, value) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const p of profiles) {
      insertProfile.run(p.id);
      const tags = p.tags instanceof Map ? [...p.tags] : Object.entries(p.tags);
      for (const [key, values] of tags) for (const value of values) insertTag.run(p.id, key, value);
      for (const [name, value] of Object.entries(p.metrics)) insertMetric.run(p.id, name, value);
    }
  })();
}
