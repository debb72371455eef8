import { decompress, gzipMemberSync } from '../pprof/compression.js';
import { GZIP_MEMBER_BYTES, MERGED_GZIP_LEVEL } from '../pprof/encode.js';
import { type KernelMerge, mergeWithKernel } from '../pprof/merge-kernel.js';

/**
 * Inputs of at most this many bytes in all, as read (compressed), are merged on the main thread
 * alone: by the merge kernel when it takes them, else inflated and written without the thread
 * pool and without the merge warm-up, since for them a short-lived process spends more
 * main-thread time starting zlib streams and thread-pool jobs, and warming up V8, than it wins
 * by overlapping the work with the second core. Measured on five real CPU profiles of ~55 KB
 * and ~200 KB each (bench/README.md, "Merge and decode"). The output is the same bytes on
 * every path.
 */
export const SMALL_INPUT_BYTES = 1 << 20;

/** A merge the kernel did, as the CLI writes it. */
interface SmallMerge {
  /** The merged profile, gzip members as encodeProfileGzipMembers writes them. */
  gzip: Buffer;
  mergedSamples: number;
  inputSamples: number;
}

/** Why the kernel did not merge, and the inputs inflated on the way (null when one did not inflate). */
interface SmallMergeDeclined {
  declined: string;
  inflated: Uint8Array[] | null;
}

/**
 * Merges the files' bytes with the merge kernel (merge-kernel.ts) when they are small inputs:
 * the same bytes as the TypeScript path in a fraction of its time in a short-lived process.
 * Returns why not (larger inputs, an input that does not inflate, the kernel declining), with
 * the inflated inputs when they all inflated: the TypeScript path then merges them, or gives
 * its error for the first bad input.
 */
export function mergeSmallWithKernel(
  files: Buffer[],
  dropLabels: boolean,
  smallInputBytes = SMALL_INPUT_BYTES,
): SmallMerge | SmallMergeDeclined {
  let inputBytes = 0;
  for (const f of files) inputBytes += f.length;
  if (inputBytes > smallInputBytes) return { declined: `${inputBytes} bytes of input, more than ${smallInputBytes}`, inflated: null };
  const inflated: Uint8Array[] = [];
  for (const f of files) {
    if (f.length === 0) return { declined: 'an empty file', inflated: null };
    try {
      inflated.push(decompress(f));
    } catch (err) {
      return { declined: `an input does not inflate: ${(err as Error).message}`, inflated: null };
    }
  }
  const result: KernelMerge = mergeWithKernel(inflated, dropLabels, GZIP_MEMBER_BYTES);
  if (!result.ok) return { declined: `the merge kernel declined: ${result.reason}`, inflated };
  return {
    gzip: Buffer.concat(result.pieces.map((piece) => gzipMemberSync(piece, MERGED_GZIP_LEVEL))),
    mergedSamples: result.mergedSamples,
    inputSamples: result.inputSamples,
  };
}

/** What `hotpath merge` prints on success (unless --quiet). */
export function mergeReport(output: string, started: number, size: number, files: number, inputSamples: number, note: string): string {
  const ms = Math.round(performance.now() - started);
  return `wrote ${output}: ${size} bytes from ${files} profile(s) (${inputSamples} samples in, ${note}) in ${ms} ms\n`;
}
