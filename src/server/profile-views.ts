import { decompressAsync } from '../pprof/compression.js';
import { decodeProfile } from '../pprof/decode.js';
import type { FlameTreeAccumulator, FunctionTotalByName } from '../pprof/flame-tree.js';
import type { Profile } from '../pprof/profile.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';

/** One value column of one attachment, named `<attachment>:<type>` (e.g. `cpu.pprof:cpu`). */
export interface SampleTypeOption {
  key: string;
  attachment: string;
  type: string;
  unit: string;
}

/** A profile that could not be drawn, and why. */
export interface SkippedProfile {
  id: string;
  reason: string;
}

/** What was added to one side of a FlameTreeAccumulator, and what was left out. */
export interface AccumulatedView {
  /** Ids whose attachment was added, in the order given. */
  used: string[];
  skipped: SkippedProfile[];
  unit: string;
  /** Sum of the durations of the profiles used, in seconds. */
  seconds: number;
}

/** Attachments that are not profiles (dd-trace-go sends metrics and code provenance as JSON). */
function isProfileAttachment(name: string): boolean {
  return !name.endsWith('.json');
}

/** How many attachments are inflated and decoded at once: enough to keep the thread pool busy, few enough to bound memory. */
const CONCURRENCY = 4;

/** Returns the decoded attachment `name` of `record`, or a reason it cannot be read. */
async function readProfile(
  store: ProfileStore,
  record: ProfileRecord,
  name: string,
  maxDecompressedBytes: number,
): Promise<Profile | { reason: string }> {
  if (record.rawDeleted) return { reason: 'raw data deleted by retention' };
  const attachment = record.attachments.find((a) => a.name === name);
  if (attachment === undefined) return { reason: `no attachment ${name}` };
  const bytes = await store.blobs.get(attachment.blobKey);
  if (bytes === null) return { reason: `attachment ${name} is missing from the blob store` };
  try {
    return decodeProfile(await decompressAsync(bytes, maxDecompressedBytes));
  } catch (err) {
    return { reason: `attachment ${name}: ${(err as Error).message}` };
  }
}

/**
 * Returns the sample types offered by the attachments of `record` (decoding each profile
 * attachment once), in attachment order, and the one to show by default: CPU time when there is
 * one, else the last sample type of the first attachment (pprof's own default).
 */
export async function sampleTypeOptions(
  store: ProfileStore,
  record: ProfileRecord,
  maxDecompressedBytes: number,
): Promise<{ options: SampleTypeOption[]; preferred: string | null }> {
  const options: SampleTypeOption[] = [];
  for (const a of record.attachments) {
    if (!isProfileAttachment(a.name)) continue;
    const p = await readProfile(store, record, a.name, maxDecompressedBytes);
    if ('reason' in p) continue;
    for (let i = 0; i < p.sampleTypes.length; i += 2) {
      const type = p.strings[p.sampleTypes[i]];
      options.push({ key: `${a.name}:${type}`, attachment: a.name, type, unit: p.strings[p.sampleTypes[i + 1]] });
    }
  }
  const cpu = options.find((o) => o.type === 'cpu' && o.unit === 'nanoseconds');
  const firstAttachment = options.filter((o) => o.attachment === options[0]?.attachment);
  return { options, preferred: cpu?.key ?? firstAttachment[firstAttachment.length - 1]?.key ?? null };
}

/** Splits a sample type key `<attachment>:<type>`; the attachment name may itself hold ":". */
export function parseSampleTypeKey(key: string): { attachment: string; type: string } | null {
  const cut = key.lastIndexOf(':');
  if (cut <= 0 || cut === key.length - 1) return null;
  return { attachment: key.slice(0, cut), type: key.slice(cut + 1) };
}

/**
 * Adds attachment `attachment`, value column `type`, of every record to side `side` of
 * `accumulator`. Profiles whose raw data is gone, that lack the attachment or the
 * type, or whose bytes do not decode are skipped with the reason, never fatal. Records are added
 * in the order given, so the result does not depend on decode timing.
 */
export async function accumulateProfiles(
  store: ProfileStore,
  records: readonly ProfileRecord[],
  attachment: string,
  type: string,
  options: { accumulator: FlameTreeAccumulator; side?: number; maxDecompressedBytes: number },
): Promise<AccumulatedView> {
  const used: string[] = [];
  const skipped: SkippedProfile[] = [];
  let unit = '';
  let seconds = 0;
  for (let start = 0; start < records.length; start += CONCURRENCY) {
    const batch = records.slice(start, start + CONCURRENCY);
    const decoded = await Promise.all(batch.map((r) => readProfile(store, r, attachment, options.maxDecompressedBytes)));
    decoded.forEach((p, i) => {
      const record = batch[i];
      if ('reason' in p) {
        skipped.push({ id: record.id, reason: p.reason });
        return;
      }
      let vi = -1;
      for (let t = 0; t < p.sampleTypes.length; t += 2) {
        if (p.strings[p.sampleTypes[t]] === type) {
          vi = t >> 1;
          break;
        }
      }
      if (vi < 0) {
        skipped.push({ id: record.id, reason: `attachment ${attachment} has no sample type ${type}` });
        return;
      }
      const thisUnit = p.strings[p.sampleTypes[vi * 2 + 1]];
      if (unit !== '' && thisUnit !== unit) {
        skipped.push({ id: record.id, reason: `sample type ${type} is in ${thisUnit}, the others in ${unit}` });
        return;
      }
      unit = thisUnit;
      options.accumulator.add(p, vi, 1, options.side ?? 0);
      used.push(record.id);
      seconds += record.durationNanos / 1e9;
    });
  }
  return { used, skipped, unit, seconds };
}

/** Reads and decodes attachment `attachment` of every record, for a pprof download; records that cannot be read are skipped with the reason. */
export async function readProfiles(
  store: ProfileStore,
  records: readonly ProfileRecord[],
  attachment: string,
  maxDecompressedBytes: number,
): Promise<{ profiles: Profile[]; skipped: SkippedProfile[] }> {
  const profiles: Profile[] = [];
  const skipped: SkippedProfile[] = [];
  for (let start = 0; start < records.length; start += CONCURRENCY) {
    const batch = records.slice(start, start + CONCURRENCY);
    const decoded = await Promise.all(batch.map((r) => readProfile(store, r, attachment, maxDecompressedBytes)));
    decoded.forEach((p, i) => {
      if ('reason' in p) skipped.push({ id: batch[i].id, reason: p.reason });
      else profiles.push(p);
    });
  }
  return { profiles, skipped };
}

/** Per-function flat values of two sides, joined by name, with the largest changes first. */
export function largestChanges(
  before: readonly FunctionTotalByName[],
  after: readonly FunctionTotalByName[],
  limit: number,
): Array<{ name: string; before: number; after: number; delta: number }> {
  const joined = new Map<string, { name: string; before: number; after: number; delta: number }>();
  for (const f of before) joined.set(f.name, { name: f.name, before: f.flat, after: 0, delta: -f.flat });
  for (const f of after) {
    const row = joined.get(f.name) ?? { name: f.name, before: 0, after: 0, delta: 0 };
    row.after = f.flat;
    row.delta = row.after - row.before;
    joined.set(f.name, row);
  }
  return [...joined.values()]
    .filter((r) => r.delta !== 0)
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || (a.name < b.name ? -1 : 1))
    .slice(0, limit);
}
