import { sniffCompression } from '../pprof/compression.js';
import type { NewProfile, ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { checkAttachments, inflateRefusal } from './attachments.js';
import { analyzeCpuProfileOffThread } from './cpu-analysis-pool.js';
import { IngestError } from './errors.js';
import { type IngestedProfile, tagValue } from './record.js';

export interface PipelineOptions {
  maxDecompressedBytes: number;
  /** Server clock, ms since the epoch. */
  now?: number;
}

/**
 * Stores one normalised upload, doing once what every later read would otherwise repeat:
 * the CPU profile is decoded and validated, its stats computed (CPU cores, samples, duration),
 * and its trimmed PGO form and the prepared form the flame graph views merge are built. The
 * other attachments are checked as checkAttachments says and kept as received. Resolves when
 * the profile is durable; a CPU profile that cannot be decoded, inflates beyond the limit or has
 * a negative sample value, or an attachment that fails its check, is an IngestError (400, 413,
 * or 503 when inflating is saturated) and nothing is stored.
 */
export async function ingestProfile(store: ProfileStore, upload: IngestedProfile, options: PipelineOptions): Promise<ProfileRecord> {
  await checkAttachments(upload, options.maxDecompressedBytes);
  let cpuCores: number | null = null;
  let sampleCount = 0;
  let durationNanos = upload.start === null ? 0 : Math.max(0, Math.round((upload.end - upload.start) * 1e6));
  let pgoBytes: Uint8Array | null = null;
  let preparedBytes: Uint8Array | null = null;
  let isGo = false;
  if (upload.cpuAttachment !== null) {
    const attachment = upload.attachments.find((a) => a.name === upload.cpuAttachment);
    if (!attachment) throw new IngestError(400, 'attachment', `the CPU profile ${upload.cpuAttachment} is missing`);
    try {
      // Inflating, decoding, stats, the PGO trim and the prepared form run in a worker thread:
      // the event loop only parses requests and writes.
      const analysis = await analyzeCpuProfileOffThread(attachment.bytes, options.maxDecompressedBytes);
      isGo = analysis.isGo;
      cpuCores = analysis.cpuCores;
      sampleCount = analysis.sampleCount;
      if (analysis.durationNanos > 0) durationNanos = analysis.durationNanos;
      pgoBytes = analysis.pgoBytes;
      preparedBytes = analysis.preparedBytes;
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
  return store.saveProfile(record, attachments, pgoBytes, preparedBytes);
}
