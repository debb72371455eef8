import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { DecodeBudget } from './budget.js';
import { chargeDecodedTables } from './decode-costs.js';
import { ProfileError } from './errors.js';

/**
 * The merge kernel (merge-kernel.as.ts, compiled to dist/wasm/merge-kernel.wasm by `npm run
 * build`): merges inflated profile.proto messages into exactly the bytes that
 * encodeProfile(mergeProfiles(decoded inputs)) gives, in a few milliseconds where the
 * TypeScript path, still unoptimized in a short-lived process, takes a hundred or more. It does
 * the common case only: for anything else (malformed, implausible or unusual input) it
 * declines, and the caller runs the TypeScript path, which merges or gives its error.
 */
export type KernelMerge =
  | {
      ok: true;
      /** The merged profile, encoded (not compressed). */
      bytes: Uint8Array;
      /** The encoding's pieces, cut where encodeProfileChunks cuts at `chunkBytes`. */
      pieces: Uint8Array[];
      mergedSamples: number;
      inputSamples: number;
    }
  | { ok: false; reason: string };

interface KernelExports {
  memory: WebAssembly.Memory;
  failureCode(): number;
  allocate(n: number): number;
  input(pointer: number, n: number): void;
  merge(dropLabels: number, chunkBytes: number): void;
  outputPointer(): number;
  outputLength(): number;
  cutsPointer(): number;
  cutCount(): number;
  mergedSampleCount(): number;
  inputSampleCount(): number;
}

/** Why the kernel declined, by its failure code (merge-kernel.as.ts, F_*). */
const REASONS = [
  'no reason given',
  'a field runs past its message',
  'a wire type the kernel does not read',
  'a number outside the decoder range',
  'a string index out of range, a non-ASCII string or no empty string first',
  'an id that is zero, sparse, duplicated or unknown',
  'a sample with another number of values than sample types',
  'incompatible sample types or period type',
  'near or past the decode budget',
  'a merged value past ±2^53 or summing to zero',
  'more mappings or comments than the kernel searches',
];

/**
 * The most inflated bytes, all inputs together, the kernel is given: its memory is a few times
 * that, and it is meant for the small merges a short-lived process is slow at.
 */
const KERNEL_MAX_INPUT_BYTES = 32 * 1024 * 1024;

/**
 * Inputs of at most this many inflated bytes in all are merged by the kernel compiled with V8's
 * baseline compiler (Liftoff) alone. By default V8 also recompiles the functions that run
 * most with its optimizing compiler while they run; for a merge that lasts ~10 ms that costs
 * more than it gains (five ~50 KB CPU profiles, 1.2 MB inflated: 10 ms against 11-21 ms),
 * while from a few MB on it pays (five ~200 KB ones, 4 MB: 42 ms against 38), bench/README.md.
 */
const BASELINE_ONLY_BYTES = 2 * 1024 * 1024;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel, or null when the build has not written it (tsc alone); compiled once per process. */
function kernelModule(baselineOnly: boolean): WebAssembly.Module | null {
  if (compiled === undefined) {
    let bytes: Buffer | null = null;
    try {
      bytes = readFileSync(new URL('../../wasm/merge-kernel.wasm', import.meta.url));
    } catch {
      bytes = null;
    }
    if (bytes === null) {
      compiled = null;
    } else {
      // V8 reads the flag when it compiles the module; it is put back at once, so nothing else
      // (code caches check the flags) sees it changed.
      if (baselineOnly) setFlagsFromString('--liftoff-only');
      try {
        compiled = new WebAssembly.Module(bytes);
      } finally {
        if (baselineOnly) setFlagsFromString('--no-liftoff-only');
      }
    }
  }
  return compiled;
}

/** True when the kernel was built (dist/wasm/merge-kernel.wasm is there). */
export function kernelAvailable(): boolean {
  return kernelModule(false) !== null;
}

/**
 * Merges `inputs` (inflated profile.proto messages, in order) with the kernel; `chunkBytes` is
 * the gzip member size of encodeProfileGzipMembers. Returns { ok: false, reason } when the
 * kernel declines (or is not built): the caller then merges with the TypeScript code.
 */
export function mergeWithKernel(inputs: Uint8Array[], dropLabels: boolean, chunkBytes: number): KernelMerge {
  let total = 0;
  for (const b of inputs) total += b.length;
  const module = kernelModule(total <= BASELINE_ONLY_BYTES);
  if (module === null) return { ok: false, reason: 'the kernel is not built (npm run build writes dist/wasm/merge-kernel.wasm)' };
  if (total > KERNEL_MAX_INPUT_BYTES) return { ok: false, reason: `inputs of ${total} bytes are more than the kernel takes` };
  if (inputs.length === 0) return { ok: false, reason: 'no inputs' };
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort: () => {
        throw new Error('merge kernel aborted');
      },
    },
    // decodeProfile's budget, which the kernel checks each input against (merge-kernel.as.ts).
    'merge-kernel.as': {
      budgetLimit: (inputBytes: number): number => new DecodeBudget(inputBytes).limitBytes,
      chargeTables: (inputBytes: number, counts: number, payloads: number, empties: number, valuesPerSample: number): number => {
        const budget = new DecodeBudget(inputBytes);
        // Read now: the kernel's memory may have grown (into a new buffer) since the last call.
        const buffer = k.memory.buffer;
        const table = (pointer: number): Float64Array => new Float64Array(buffer, pointer, 7);
        try {
          chargeDecodedTables(table(counts), table(payloads), table(empties), valuesPerSample, budget);
        } catch (err) {
          if (err instanceof ProfileError) return -1;
          throw err;
        }
        return budget.usedBytes;
      },
    },
  });
  const k = instance.exports as unknown as KernelExports;
  try {
    for (const b of inputs) {
      const at = k.allocate(b.length);
      new Uint8Array(k.memory.buffer, at, b.length).set(b);
      k.input(at, b.length);
    }
    k.merge(dropLabels ? 1 : 0, chunkBytes);
  } catch (err) {
    // A trap: the kernel declined (failureCode says why) or ran out of memory.
    const code = k.failureCode();
    return { ok: false, reason: code > 0 ? (REASONS[code] ?? `failure ${code}`) : (err as Error).message };
  }
  const memory = k.memory.buffer;
  // One copy out of the instance's memory, which is then dropped with the instance.
  const bytes = new Uint8Array(memory, k.outputPointer(), k.outputLength()).slice();
  const cuts = new Uint32Array(memory, k.cutsPointer(), k.cutCount());
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const cut of cuts) {
    pieces.push(bytes.subarray(from, cut));
    from = cut;
  }
  pieces.push(bytes.subarray(from));
  return { ok: true, bytes, pieces, mergedSamples: k.mergedSampleCount(), inputSamples: k.inputSampleCount() };
}
