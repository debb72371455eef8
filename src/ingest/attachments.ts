import { DecompressedSizeError, DecompressionBusyError, decompressAsync, sniffCompression } from '../pprof/compression.js';
import { ProfileError } from '../pprof/errors.js';
import { ProtoReader } from '../pprof/proto-reader.js';
import { IngestError } from './errors.js';
import type { IngestedProfile } from './record.js';

/** Names that say "this is a pprof profile" (dd-trace-go: delta-heap.pprof, goroutines.pprof; older clients: *.pb.gz). */
const PPROF_NAME = /\.(pprof|pb|pb\.gz)$/;

/** How many leading fields of a pprof attachment are checked: enough to refuse other formats, cheap on any size. */
const CHECKED_FIELDS = 16;

/**
 * Checks every attachment but the CPU profile (which the pipeline decodes in full), one at a
 * time so that at most one inflated attachment is in memory per upload:
 *
 * - An attachment that claims to be pprof, by its name (`*.pprof`, `*.pb`, `*.pb.gz`), must
 *   inflate (gzip, zstd or raw) within `maxDecompressedBytes`, off the main thread, and start like
 *   a protobuf message: its first 16 fields have a field number, a known wire type and lengths
 *   that fit.
 * - Any other attachment whose bytes are gzip or zstd (dd-trace-go compresses metrics.json and
 *   go.trace) must inflate within the same limit; its contents are not checked.
 * - Everything else (metrics.json, code hotspots JSON, execution traces, sent uncompressed) is
 *   accepted opaque: stored and served back byte for byte, never parsed by the server, bounded
 *   only by the request body limit and the attachment count and name rules (IntakeLimits).
 *
 * Throws IngestError naming the attachment: 413 over the limit, 400 for corrupt or non-pprof
 * bytes, 503 when too many inputs are already waiting to be inflated.
 */
export async function checkAttachments(upload: IngestedProfile, maxDecompressedBytes: number): Promise<void> {
  for (const { name, bytes } of upload.attachments) {
    if (name === upload.cpuAttachment) continue;
    const claimsPprof = PPROF_NAME.test(name);
    if (!claimsPprof && sniffCompression(bytes) === 'none') continue;
    let inflated: Uint8Array;
    try {
      inflated = await decompressAsync(bytes, maxDecompressedBytes);
    } catch (err) {
      throw inflateRefusal(name, err, 'attachment');
    }
    if (!claimsPprof) continue;
    const problem = protobufProblem(inflated, CHECKED_FIELDS);
    if (problem !== null) {
      throw new IngestError(400, 'attachment', `attachment ${name} is named like a pprof profile but is not one: ${problem}`);
    }
  }
}

/**
 * Returns why `bytes` cannot be a protobuf message, judging by its first `fields` fields, or
 * null when they look right (an empty message is a valid one).
 */
export function protobufProblem(bytes: Uint8Array, fields: number): string | null {
  const r = new ProtoReader(bytes);
  try {
    for (let i = 0; i < fields && r.pos < r.end; i++) {
      const key = r.uint('field key');
      const field = Math.floor(key / 8);
      if (field === 0) return `field number 0 at byte ${r.pos} (not protobuf)`;
      r.skip(key % 8, field);
    }
  } catch (err) {
    if (err instanceof ProfileError) return err.message;
    throw err;
  }
  return null;
}

/**
 * Returns the IngestError for a failure to inflate or decode attachment `name`: 413 over the
 * decompressed-size limit, 503 when the inflating workers are saturated, 400 with
 * `badInputReason` for other bad bytes; any other error is returned unchanged.
 */
export function inflateRefusal(name: string, err: unknown, badInputReason: string): unknown {
  if (err instanceof DecompressedSizeError) return new IngestError(413, 'decompressed_size', `${name}: ${err.message}`);
  if (err instanceof ProfileError) return new IngestError(400, badInputReason, `${name}: ${err.message}`);
  if (err instanceof DecompressionBusyError) return new IngestError(503, 'busy', `${name}: ${err.message}`);
  return err;
}
