import type { Profile } from '../pprof/profile.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import type { FlameTreeAccumulator } from './flame-tree.js';
import { mainModuleOf } from './main-module.js';
import { decodeStoredAttachment } from './stored-attachment.js';

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
  /** The profiled program's own module (see mainModuleOf), from the first profile used that tells; null when none does. */
  mainModule: string | null;
}

/** Attachments that are not profiles (dd-trace-go sends metrics and code provenance as JSON). */
export function isProfileAttachment(name: string): boolean {
  return !name.endsWith('.json');
}

/** How many attachments are inflated and decoded at once: enough to keep the thread pool busy, few enough to bound memory. */
const CONCURRENCY = 4;

/**
 * Reads and decodes stored attachments for one request. Listing a profile's sample types decodes
 * its attachments; those are kept so that drawing the same profile does not inflate and decode
 * them a second time. A kept profile is handed out once and then forgotten, so memory stays at
 * one record's attachments however many profiles a view adds.
 */
export class AttachmentReader {
  private readonly kept = new Map<string, Profile | { reason: string }>();

  constructor(
    private readonly store: ProfileStore,
    private readonly maxDecompressedBytes: number,
  ) {}

  /** Returns the decoded attachment `name` of `record`, or a reason it cannot be read; `keep` holds it for one later read. */
  async read(record: ProfileRecord, name: string, keep = false): Promise<Profile | { reason: string }> {
    const key = `${record.id}\u0000${name}`;
    const held = this.kept.get(key);
    if (held !== undefined) {
      this.kept.delete(key);
      return held;
    }
    const result = await this.decode(record, name);
    if (keep) this.kept.set(key, result);
    return result;
  }

  private async decode(record: ProfileRecord, name: string): Promise<Profile | { reason: string }> {
    if (record.rawDeleted) return { reason: 'raw data deleted by retention' };
    const attachment = record.attachments.find((a) => a.name === name);
    if (attachment === undefined) return { reason: `no attachment ${name}` };
    return decodeStoredAttachment(this.store, attachment, this.maxDecompressedBytes);
  }
}

/**
 * Returns the sample types offered by the attachments of `record` (decoding each profile
 * attachment once), in attachment order, and the one to show by default: CPU time when there is
 * one, else the last sample type of the first attachment (pprof's own default).
 */
export async function sampleTypeOptions(
  reader: AttachmentReader,
  record: ProfileRecord,
): Promise<{ options: SampleTypeOption[]; preferred: string | null }> {
  const options: SampleTypeOption[] = [];
  for (const a of record.attachments) {
    if (!isProfileAttachment(a.name)) continue;
    const p = await reader.read(record, a.name, true);
    if ('reason' in p) continue;
    for (let i = 0; i < p.sampleTypes.length; i += 2) {
      const type = p.strings[p.sampleTypes[i]];
      options.push({ key: `${a.name}:${type}`, attachment: a.name, type, unit: p.strings[p.sampleTypes[i + 1]] });
    }
  }
  return { options, preferred: preferredSampleType(options) };
}

/** The sample type a view shows by default: CPU time when offered, else the last sample type of the first attachment (pprof's own default). */
export function preferredSampleType(options: readonly SampleTypeOption[]): string | null {
  const cpu = options.find((o) => o.type === 'cpu' && o.unit === 'nanoseconds');
  const firstAttachment = options.filter((o) => o.attachment === options[0]?.attachment);
  return cpu?.key ?? firstAttachment[firstAttachment.length - 1]?.key ?? null;
}

/** Splits a sample type key `<attachment>:<type>`; the attachment name may itself hold ":". */
export function parseSampleTypeKey(key: string): { attachment: string; type: string } | null {
  const cut = key.lastIndexOf(':');
  if (cut <= 0 || cut === key.length - 1) return null;
  return { attachment: key.slice(0, cut), type: key.slice(cut + 1) };
}

/**
 * Reads attachment `attachment` of every record, CONCURRENCY at a time, and hands each decoded
 * profile to `visit` in record order (so results do not depend on decode timing). A record that
 * cannot be read, or that `visit` turns down by returning a reason, is listed as skipped.
 */
async function eachProfile(
  reader: AttachmentReader,
  records: readonly ProfileRecord[],
  attachment: string,
  visit: (record: ProfileRecord, p: Profile) => string | null,
): Promise<SkippedProfile[]> {
  const skipped: SkippedProfile[] = [];
  for (let start = 0; start < records.length; start += CONCURRENCY) {
    const batch = records.slice(start, start + CONCURRENCY);
    const decoded = await Promise.all(batch.map((r) => reader.read(r, attachment)));
    decoded.forEach((p, i) => {
      const reason = 'reason' in p ? p.reason : visit(batch[i], p);
      if (reason !== null) skipped.push({ id: batch[i].id, reason });
    });
  }
  return skipped;
}

/**
 * Adds attachment `attachment`, value column `type`, of every record to side `side` of
 * `accumulator`. Profiles whose raw data is gone, that lack the attachment or the type, or whose
 * bytes do not decode are skipped with the reason, never fatal.
 */
export async function accumulateProfiles(
  reader: AttachmentReader,
  records: readonly ProfileRecord[],
  attachment: string,
  type: string,
  options: { accumulator: FlameTreeAccumulator; side?: number },
): Promise<AccumulatedView> {
  const used: string[] = [];
  let unit = '';
  let seconds = 0;
  let mainModule: string | null = null;
  const skipped = await eachProfile(reader, records, attachment, (record, p) => {
    let vi = -1;
    for (let t = 0; t < p.sampleTypes.length; t += 2) {
      if (p.strings[p.sampleTypes[t]] === type) {
        vi = t >> 1;
        break;
      }
    }
    if (vi < 0) return `attachment ${attachment} has no sample type ${type}`;
    const thisUnit = p.strings[p.sampleTypes[vi * 2 + 1]];
    if (unit !== '' && thisUnit !== unit) return `sample type ${type} is in ${thisUnit}, the others in ${unit}`;
    unit = thisUnit;
    options.accumulator.add(p, vi, 1, options.side ?? 0);
    used.push(record.id);
    seconds += record.durationNanos / 1e9;
    mainModule ??= mainModuleOf(p);
    return null;
  });
  return { used, skipped, unit, seconds, mainModule };
}

/** Reads and decodes attachment `attachment` of every record, for a pprof download; records that cannot be read are skipped with the reason. */
export async function readProfiles(
  reader: AttachmentReader,
  records: readonly ProfileRecord[],
  attachment: string,
): Promise<{ profiles: Profile[]; skipped: SkippedProfile[] }> {
  const profiles: Profile[] = [];
  const skipped = await eachProfile(reader, records, attachment, (_record, p) => {
    profiles.push(p);
    return null;
  });
  return { profiles, skipped };
}
