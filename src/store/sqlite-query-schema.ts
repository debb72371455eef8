/**
 * The tables the query language reads, for SQLite. Running it twice is harmless. The store
 * creates `profiles` itself (with at least `id TEXT PRIMARY KEY`) and keeps these tables in step
 * with it: one `profile_tags` row per tag value (a profile with two `team:` tags has two rows),
 * one `profile_metrics` row per metric. The primary keys lead with (key, value) and with name, so
 * a term reads only the rows of its key or metric; a wildcard value with a literal prefix reads only
 * the values with that prefix (SQLite turns `value GLOB 'web-*'` into a range on the key).
 */
export const QUERY_SCHEMA_SQLITE = `
CREATE TABLE IF NOT EXISTS profile_tags (
  profile_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (key, value, profile_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS profile_tags_by_profile ON profile_tags (profile_id);
CREATE TABLE IF NOT EXISTS profile_metrics (
  profile_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (name, profile_id)
) WITHOUT ROWID;
`;
