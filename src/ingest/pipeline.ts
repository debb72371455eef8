import { decompressAsync, gzipMember, sniffCompression } from '../pprof/compression.js';
import { decodeProfile } from '../pprof/decode.js';
import { encodeProfile } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import type { Profile } from '../pprof/profile.js';
import { profileStats } from '../pprof/stats.js';
import { trimForPgo } from '../pprof/trim.js';
import type { NewProfile, ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { checkAttachments, inflateRefusal } from './attachments.js';
import { IngestError } from './errors.js';
import { type IngestedProfile, tagValue } from './record.js';

export interface PipelineOptions {
  maxDecompressedBytes: number;
  /** Server clock, ms since the epoch. */
  now?: number;
}

/**
 * Stores one normalised upload, doing once what every later read would otherwise repeat:
 * the CPU profile is decoded and validated, its stats computed (CPU cores, samples, duration)
 * and its trimmed PGO form built. The other attachments are checked as checkAttachments says
 * and kept as received. Resolves when the profile is durable; a CPU profile that cannot be
 * decoded, inflates beyond the limit or has a negative sample value, or an attachment that fails
 * its check, is an IngestError (400, 413, or 503 when inflating is saturated) and nothing is
 * stored.
 */
export async function ingestProfile(store: ProfileStore, upload: IngestedProfile, options: PipelineOptions): Promise<ProfileRecord> {
  await checkAttachments(upload, options.maxDecompressedBytes);
  let cpuCores: number | null = null;
  let sampleCount = 0;
  let durationNanos = upload.start === null ? 0 : Math.max(0, Math.round((upload.end - upload.start) * 1e6));
  let pgoBytes: Uint8Array | null = null;
  let isGo = false;
  if (upload.cpuAttachment !== null) {
    const attachment = upload.attachments.find((a) => a.name === upload.cpuAttachment);
    if (!attachment) throw new IngestError(400, 'attachment', `the CPU profile ${upload.cpuAttachment} is missing`);
    try {
      if (attachment.bytes.length === 0) throw new ProfileError('empty file: a profile cannot be zero bytes');
      // Inflate (thread pool for gzip, worker thread for zstd) and deflate off the event loop,
      // which only decodes and trims.
      const raw = await decompressAsync(attachment.bytes, options.maxDecompressedBytes);
      const profile = decodeProfile(raw);
      refuseNegativeSamples(profile);
      isGo = looksLikeGo(profile);
      const stats = profileStats(profile, 0);
      cpuCores = stats.cpuCores;
      sampleCount = stats.sampleCount;
      if (stats.durationNanos > 0) durationNanos = stats.durationNanos;
      pgoBytes = await gzipMember(encodeProfile(trimForPgo(profile)), 6);
    } catch (err) {
      throw inflateRefusal(upload.cpuAttachment, err, 'pprof');
    }
  }
  // An upload that does not say when it started started one profile duration before its end.
  const start = upload.start ?? upload.end - durationNanos / 1e6;
  // `hotpath pgo` looks for runtime:go, as datadog-pgo does; uploads that do not say their
  // runtime (files, scrapes) get it when the profile is plainly a Go program's.
  const tags =
    isGo && tagValue(upload.tags, 'runtime') === undefined ? [...upload.tags, ['runtime', 'go'] as [string, string]] : upload.tags;
  const pgoTag = tagValue(tags, 'pgo');
  const record: NewProfile = {
    start,
    end: upload.end,
    receivedAt: options.now ?? Date.now(),
    protocol: upload.protocol,
    service: tagValue(tags, 'service') ?? '',
    env: tagValue(tags, 'env') ?? '',
    version: tagValue(tags, 'version') ?? '',
    host: tagValue(tags, 'host') ?? '',
    runtime: tagValue(tags, 'runtime') ?? '',
    pgo: pgoTag === 'true' ? true : pgoTag === 'false' ? false : null,
    cpuCores,
    sampleCount,
    durationNanos,
    tags,
    metrics: cpuCores === null ? {} : { core_cpu_cores: cpuCores },
    endpointCounts: upload.endpointCounts,
  };
  const attachments = upload.attachments.map((a) => ({ name: a.name, bytes: a.bytes, compression: sniffCompression(a.bytes) }));
  return store.saveProfile(record, attachments, pgoBytes);
}

/**
 * Throws ProfileError naming the first sample with a negative value. Clients send CPU profiles
 * as measured, never as differences, and a negative value would become negative CPU cores;
 * diff profiles are for `hotpath inspect`, not intake.
 */
function refuseNegativeSamples(p: Profile): void {
  const values = p.samples.values;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0) {
      const V = p.sampleTypes.length >> 1;
      const sample = Math.floor(i / V);
      const column = i % V;
      const type = `${p.strings[p.sampleTypes[2 * column]]}/${p.strings[p.sampleTypes[2 * column + 1]]}`;
      throw new ProfileError(
        `sample ${sample} has a negative ${type} value (${values[i]}): a CPU profile's values are never negative (a diff profile cannot be uploaded)`,
      );
    }
  }
}

/** True when the profile has the functions every Go program's CPU profile shows. */
function looksLikeGo(p: Profile): boolean {
  for (let f = 0; f < p.functions.count; f++) {
    const name = p.strings[p.functions.name[f]];
    if (name === 'runtime.goexit' || name === 'runtime.main' || name === 'runtime.mcall') return true;
  }
  return false;
}
