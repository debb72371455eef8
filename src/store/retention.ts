import { blobHour, blobHourStart } from './blob-hour.js';
import type { BlobInfo, Blobs } from './blobs.js';
import { MAX_REFERENCE_CHECK, type ProfileIndex } from './profile-index.js';
import { profileObjects } from './profile-objects.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default age after which raw attachments are deleted. */
export const DEFAULT_RAW_MAX_AGE_MS = 7 * DAY_MS;
/** Default age after which whole profiles (index rows and trimmed PGO forms) are deleted. */
export const DEFAULT_PGO_MAX_AGE_MS = 30 * DAY_MS;
/** Default age before an unreferenced blob counts as an orphan; longer than any save takes. */
export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** Profiles handled per index call by default, so one run never holds thousands of records in memory. */
const DEFAULT_BATCH_SIZE = 500;

const HOUR_MS = 60 * 60 * 1000;
/** Write hours one run sweeps for orphans at most; a store that was down for weeks catches up over several runs. */
const MAX_SWEEP_HOURS_PER_RUN = 24 * 7;

export interface RetentionOptions {
  index: ProfileIndex;
  blobs: Blobs;
  /** The current time, ms since the epoch. */
  now: number;
  rawMaxAgeMs?: number;
  pgoMaxAgeMs?: number;
  orphanGraceMs?: number;
  /** Profiles fetched and deleted per index call; default 500. */
  batchSize?: number;
  /**
   * The write hour (`YYYYMMDDHH`) up to which earlier runs collected orphans: this run lists
   * only the hours after it. Null or absent: the first run on this store, which lists every blob
   * once (keys written before hour prefixes, or by an interrupted migration, are found so).
   */
  sweptUpTo?: string | null;
}

export interface RetentionResult {
  /** Profiles whose raw attachments and prepared form were deleted (the record and PGO form stay). */
  rawDeleted: number;
  /** Profiles deleted entirely. */
  profilesDeleted: number;
  /** Blobs that no index row named, older than the grace period, deleted. */
  orphanBlobsDeleted: number;
  /** The write hour up to which orphans are now collected: the next run's `sweptUpTo`. */
  sweptUpTo: string | null;
}

/**
 * Deletes what is due at `now` and returns how much. Ages count from `receivedAt` (the server's
 * clock, so a client with a wrong clock cannot get its profiles deleted early or kept forever).
 * Profiles received more than pgoMaxAge ago are deleted entirely; of the others, those received
 * more than rawMaxAge ago lose their raw attachments and the prepared form derived from them. Then blobs named by no index row and
 * written more than orphanGrace ago are deleted. The index always changes first and the blobs
 * after, so a crash mid-way leaves only orphans, which the next run collects.
 */
export async function enforceRetention(options: RetentionOptions): Promise<RetentionResult> {
  const { index, blobs, now } = options;
  const rawMaxAgeMs = options.rawMaxAgeMs ?? DEFAULT_RAW_MAX_AGE_MS;
  const pgoMaxAgeMs = options.pgoMaxAgeMs ?? DEFAULT_PGO_MAX_AGE_MS;
  const orphanGraceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const result: RetentionResult = { rawDeleted: 0, profilesDeleted: 0, orphanBlobsDeleted: 0, sweptUpTo: options.sweptUpTo ?? null };

  // Whole profiles first, so those are not marked raw-deleted on the way.
  for (;;) {
    const batch = await index.expired(now - pgoMaxAgeMs, batchSize);
    if (batch.length === 0) break;
    await index.delete(batch.map((r) => r.id));
    await deleteObjectsNoRowNames(
      index,
      blobs,
      batch.flatMap((r) => profileObjects(r, { includeDeletedRaw: true }).map((o) => o.key)),
    );
    result.profilesDeleted += batch.length;
    if (batch.length < batchSize) break;
  }

  for (;;) {
    const batch = await index.expiredRaw(now - rawMaxAgeMs, batchSize);
    if (batch.length === 0) break;
    await index.markRawDeleted(batch.map((r) => r.id));
    // The prepared form is derived from the raw attachments, so it goes with them.
    await deleteObjectsNoRowNames(
      index,
      blobs,
      batch.flatMap((r) => profileObjects(r).flatMap((o) => (o.kind === 'raw' ? [o.key] : []))),
    );
    result.rawDeleted += batch.length;
    if (batch.length < batchSize) break;
  }

  const orphanBefore = now - orphanGraceMs;
  // The newest write hour that ended before the grace period began: every save of that hour has
  // committed its row or failed by now.
  const lastSafeHour = blobHour(orphanBefore - HOUR_MS);
  if (result.sweptUpTo === null || Number.isNaN(blobHourStart(result.sweptUpTo))) {
    result.orphanBlobsDeleted += await deleteOrphans(index, blobs, blobs.list(), orphanBefore);
    result.sweptUpTo = lastSafeHour;
  } else {
    for (let hours = 0; hours < MAX_SWEEP_HOURS_PER_RUN; hours++) {
      const next = blobHour(blobHourStart(result.sweptUpTo) + HOUR_MS);
      if (blobHourStart(next) > blobHourStart(lastSafeHour)) break;
      result.orphanBlobsDeleted += await deleteOrphans(index, blobs, blobs.list(`${next}/`), orphanBefore);
      result.sweptUpTo = next;
    }
  }
  return result;
}

/**
 * Deletes the listed blobs that no index row names and that were written before `orphanBefore`,
 * checking references a page at a time; returns how many it deleted.
 */
async function deleteOrphans(index: ProfileIndex, blobs: Blobs, listed: AsyncIterable<BlobInfo>, orphanBefore: number): Promise<number> {
  let deleted = 0;
  let page: BlobInfo[] = [];
  const flush = async (): Promise<void> => {
    deleted += await deleteUnreferenced(
      index,
      blobs,
      page.map((b) => b.key),
    );
    page = [];
  };
  for await (const blob of listed) {
    // A blob younger than the grace period may belong to a save still in progress.
    if (blob.modifiedMs >= orphanBefore) continue;
    page.push(blob);
    if (page.length === MAX_REFERENCE_CHECK) await flush();
  }
  if (page.length > 0) await flush();
  return deleted;
}

/**
 * Deletes the objects of profiles whose rows (or raw rows) were just deleted, each once, keeping
 * those another row still names: saves written together share their objects (group-writer.ts),
 * so an object goes with the last profile of its group. A new save never names an object that
 * exists already, so an object found unnamed stays unnamed.
 */
async function deleteObjectsNoRowNames(index: ProfileIndex, blobs: Blobs, keys: readonly string[]): Promise<void> {
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += MAX_REFERENCE_CHECK) {
    await deleteUnreferenced(index, blobs, unique.slice(i, i + MAX_REFERENCE_CHECK));
  }
}

/** Deletes those of `keys` (at most MAX_REFERENCE_CHECK) that no index row names; returns how many. */
async function deleteUnreferenced(index: ProfileIndex, blobs: Blobs, keys: readonly string[]): Promise<number> {
  const referenced = await index.referencedBlobKeys(keys);
  let deleted = 0;
  for (const key of keys) {
    if (referenced.has(key)) continue;
    await blobs.delete(key);
    deleted++;
  }
  return deleted;
}

/** The name retention runs under in ProfileIndex.runExclusive. */
export const RETENTION_JOB = 'retention';

export interface RetentionJobOptions extends Omit<RetentionOptions, 'now' | 'sweptUpTo'> {
  /** Time between runs; the first run is one interval after the start. */
  intervalMs: number;
  /** Called with every error of a run; the job keeps running. */
  onError: (err: unknown) => void;
  /** Called with the result of every successful run on this process, and when it started and ended (the job's clock). */
  onResult?: (result: RetentionResult, run: { startedAt: number; finishedAt: number }) => void;
  /** The clock; default Date.now. */
  now?: () => number;
}

/** Stops a retention job: cancels its timer and resolves when a run in progress has ended. */
export interface StopRetentionJob {
  (): Promise<void>;
  /** Resolves when no run is in progress (without stopping the job). */
  idle(): Promise<void>;
}

/**
 * Runs enforceRetention every `intervalMs` on a timer that does not keep the process alive, never
 * two runs at once (a tick during a run is skipped), and never throws: errors go to onError.
 * Replicas that share an index take turns: a tick runs only when no replica is running retention
 * and none started it in the last 90% of an interval (ProfileIndex.runExclusive), and the orphan
 * sweep's position is kept in the index, so a run resumes where the previous one, on any
 * replica, stopped.
 * Returns a stop function that cancels the timer and resolves when a run in progress has ended,
 * so the store can be closed after it.
 */
export function startRetentionJob(options: RetentionJobOptions): StopRetentionJob {
  const { intervalMs, onError, onResult, now = Date.now, ...rest } = options;
  let running: Promise<void> | null = null;
  const tick = (): void => {
    if (running !== null) return;
    running = (async () => {
      try {
        let result: RetentionResult | null = null;
        const startedAt = now();
        await rest.index.runExclusive(
          RETENTION_JOB,
          intervalMs * 0.9,
          async (sweptUpTo) => {
            result = await enforceRetention({ ...rest, now: startedAt, sweptUpTo });
            return result.sweptUpTo;
          },
          startedAt,
        );
        if (result !== null) onResult?.(result, { startedAt, finishedAt: now() });
      } catch (err) {
        try {
          onError(err);
        } catch {
          // A failing logger must not become an unhandled rejection that ends the process.
        }
      } finally {
        running = null;
      }
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref?.();
  const idle = async (): Promise<void> => {
    if (running !== null) await running;
  };
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await idle();
  };
  return Object.assign(stop, { idle });
}
