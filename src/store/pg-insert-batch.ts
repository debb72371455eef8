import { profileObjects } from './profile-objects.js';
import type { ProfileRecord } from './types.js';

/** Most records one statement inserts: 35 array parameters whatever the count, so only the statement's size bounds it. */
export const MAX_BATCH_RECORDS = 64;

/**
 * Inserts profiles, with their tags, metrics and blob references, in one statement
 * (data-modifying CTEs over arrays, one element per row): atomic, one round trip and one commit
 * however many records; a lone record is inserted with it too. It also raises profile_span's
 * longest end - start, so a search that reads it first never misses a profile.
 */
export const INSERT_MANY_SQL = `WITH
  p AS (
    INSERT INTO profiles (id, start_ms, end_ms, received_at, protocol, service, env, version, host, runtime, pgo, cpu_cores,
      sample_count, duration_nanos, tags_json, metrics_json, attachments_json, pgo_blob_key, endpoint_counts_json, raw_deleted,
      prepared_blob_key)
    SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[],
      $9::text[], $10::text[], $11::boolean[], $12::float8[], $13::float8[], $14::float8[], $15::text[], $16::text[], $17::text[],
      $18::text[], $19::text[], $20::boolean[], $21::text[])
  ),
  t AS (INSERT INTO profile_tags (profile_id, key, value, start_ms, end_ms)
    SELECT DISTINCT i, k, v, s, e FROM unnest($22::text[], $23::text[], $24::text[], $25::float8[], $26::float8[]) AS x(i, k, v, s, e)),
  m AS (INSERT INTO profile_metrics (profile_id, name, value, start_ms, end_ms)
    SELECT i, n, v, s, e FROM unnest($27::text[], $28::text[], $29::float8[], $30::float8[], $31::float8[]) AS x(i, n, v, s, e)),
  b AS (INSERT INTO profile_blobs (blob_key, profile_id, kind)
    SELECT k, i, kd FROM unnest($32::text[], $33::text[], $34::text[]) AS x(k, i, kd)),
  s AS (UPDATE profile_span SET longest_ms = $35 WHERE longest_ms < $35)
SELECT 1`;

/** The parameters of INSERT_MANY_SQL for `records` (already checked). */
export function insertManyValues(records: readonly ProfileRecord[]): unknown[] {
  const columns: unknown[][] = Array.from({ length: 21 }, () => []);
  const tags: unknown[][] = [[], [], [], [], []];
  const metrics: unknown[][] = [[], [], [], [], []];
  const blobs: unknown[][] = [[], [], []];
  let longest = 0;
  for (const r of records) {
    const row = [
      r.id,
      r.start,
      r.end,
      r.receivedAt,
      r.protocol,
      r.service,
      r.env,
      r.version,
      r.host,
      r.runtime,
      r.pgo,
      r.cpuCores,
      r.sampleCount,
      r.durationNanos,
      JSON.stringify(r.tags),
      JSON.stringify(r.metrics),
      JSON.stringify(r.attachments),
      r.pgoBlobKey,
      r.endpointCounts === null ? null : JSON.stringify(r.endpointCounts),
      r.rawDeleted,
      r.preparedBlobKey,
    ];
    pushRow(columns, row);
    for (const [key, value] of r.tags) pushRow(tags, [r.id, key, value, r.start, r.end]);
    for (const [name, value] of Object.entries(r.metrics)) pushRow(metrics, [r.id, name, value, r.start, r.end]);
    // Objects, not references: orphan collection lists objects, and a pack holds several ranges.
    for (const o of profileObjects(r)) pushRow(blobs, [o.key, r.id, o.kind]);
    longest = Math.max(longest, r.end - r.start);
  }
  return [...columns, ...tags, ...metrics, ...blobs, longest];
}

/** Appends the i-th value of `row` to the i-th array. */
function pushRow(arrays: unknown[][], row: unknown[]): void {
  for (let i = 0; i < row.length; i++) arrays[i].push(row[i]);
}

interface Waiting {
  record: ProfileRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Joins the inserts that arrive in the same turn of the event loop into one statement: the saves
 * of a group of objects (group-writer.ts) insert their rows together, so N uploads cost one round
 * trip and one commit instead of N. When a joint insert fails, each record is inserted alone, so
 * every caller gets its own answer (a record whose id is taken fails alone; a database that is
 * down fails each).
 */
export class InsertBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly insertOne: (record: ProfileRecord) => Promise<void>,
    private readonly insertMany: (records: readonly ProfileRecord[]) => Promise<void>,
  ) {}

  insert(record: ProfileRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ record, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.waiting.length > 0) void this.run(this.waiting.splice(0, MAX_BATCH_RECORDS));
  }

  private async run(batch: Waiting[]): Promise<void> {
    if (batch.length > 1) {
      try {
        await this.insertMany(batch.map((w) => w.record));
        for (const w of batch) w.resolve();
        return;
      } catch {
        // Each alone below, for an answer of its own.
      }
    }
    await Promise.all(
      batch.map(async (w) => {
        try {
          await this.insertOne(w.record);
          w.resolve();
        } catch (err) {
          w.reject(err);
        }
      }),
    );
  }
}
