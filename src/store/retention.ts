import type { Blobs } from './blobs.js';
import type { ProfileIndex } from './profile-index.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default age after which raw attachments are deleted. */
export const DEFAULT_RAW_MAX_AGE_MS = 7 * DAY_MS;
/** Default age after which whole profiles (index rows and trimmed PGO forms) are deleted. */
export const DEFAULT_PGO_MAX_AGE_MS = 30 * DAY_MS;
/** Default age before an unreferenced blob counts as an orphan; longer than any save takes. */
export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** Profiles handled per index call by default, so one run never holds thousands of records in memory. */
const DEFAULT_BATCH_SIZE = 500;

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
}

export interface RetentionResult {
  /** Profiles whose raw attachments were deleted (the record and PGO form stay). */
  rawDeleted: number;
  /** Profiles deleted entirely. */
  profilesDeleted: number;
  /** Blobs that no index row named, older than the grace period, deleted. */
  orphanBlobsDeleted: number;
}

/**
 * Deletes what is due at `now` and returns how much. Ages count from `receivedAt` (the server's
 * clock, so a client with a wrong clock cannot get its profiles deleted early or kept forever).
 * Profiles received more than pgoMaxAge ago are deleted entirely; of the others, those received
 * more than rawMaxAge ago lose their raw attachments. Then blobs named by no index row and
 * written more than orphanGrace ago are deleted. The index always changes first and the blobs
 * after, so a crash mid-way leaves only orphans, which the next run collects.
 */
export async function enforceRetention(options: RetentionOptions): Promise<RetentionResult> {
  const { index, blobs, now } = options;
  const rawMaxAgeMs = options.rawMaxAgeMs ?? DEFAULT_RAW_MAX_AGE_MS;
  const pgoMaxAgeMs = options.pgoMaxAgeMs ?? DEFAULT_PGO_MAX_AGE_MS;
  const orphanGraceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const result: RetentionResult = { rawDeleted: 0, profilesDeleted: 0, orphanBlobsDeleted: 0 };

  // Whole profiles first, so those are not marked raw-deleted on the way.
  for (;;) {
    const batch = await index.expired(now - pgoMaxAgeMs, batchSize);
    if (batch.length === 0) break;
    await index.delete(batch.map((r) => r.id));
    for (const r of batch) {
      for (const a of r.attachments) await blobs.delete(a.blobKey);
      if (r.pgoBlobKey !== null) await blobs.delete(r.pgoBlobKey);
    }
    result.profilesDeleted += batch.length;
    if (batch.length < batchSize) break;
  }

  for (;;) {
    const batch = await index.expiredRaw(now - rawMaxAgeMs, batchSize);
    if (batch.length === 0) break;
    await index.markRawDeleted(batch.map((r) => r.id));
    for (const r of batch) for (const a of r.attachments) await blobs.delete(a.blobKey);
    result.rawDeleted += batch.length;
    if (batch.length < batchSize) break;
  }

  // Read the references before listing: a blob written after this point is younger than the
  // grace period, so it is safe even though its row is not in the set.
  const referenced = await index.referencedBlobKeys();
  const orphanBefore = now - orphanGraceMs;
  for await (const blob of blobs.list()) {
    if (referenced.has(blob.key) || blob.modifiedMs >= orphanBefore) continue;
    await blobs.delete(blob.key);
    result.orphanBlobsDeleted++;
  }
  return result;
}

export interface RetentionJobOptions extends Omit<RetentionOptions, 'now'> {
  /** Time between runs; the first run is one interval after the start. */
  intervalMs: number;
  /** Called with every error of a run; the job keeps running. */
  onError: (err: unknown) => void;
  /** Called with the result of every successful run. */
  onResult?: (result: RetentionResult) => void;
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
        const result = await enforceRetention({ ...rest, now: now() });
        onResult?.(result);
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
