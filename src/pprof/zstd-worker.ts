import { parentPort } from 'node:worker_threads';
import { DecompressedSizeError } from './decompressed-size-error.js';
import { ProfileError } from './errors.js';
import { inflateZstd } from './zstd.js';

/** What the pool sends: one input to inflate (its buffer transferred, not copied). */
export interface ZstdTask {
  bytes: Uint8Array;
  maxBytes: number;
}

/**
 * What the worker answers: the output (its buffer transferred), or the refusal.
 * `exceeded` is set when the input exceeds a limit (DecompressedSizeError), `bug` when the error is not about
 * the input at all.
 */
export type ZstdResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; message: string; exceeded: { limit: number; what: string } | null; bug: boolean };

// The worker side of ZstdWorkerPool: one task at a time, answered in order.
parentPort?.on('message', (task: ZstdTask) => {
  let result: ZstdResult;
  try {
    const bytes = inflateZstd(task.bytes, task.maxBytes);
    result = { ok: true, bytes };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    result = {
      ok: false,
      message,
      exceeded: err instanceof DecompressedSizeError ? { limit: err.limit, what: err.what } : null,
      bug: !(err instanceof ProfileError),
    };
  }
  parentPort?.postMessage(result, result.ok ? [result.bytes.buffer as ArrayBuffer] : []);
});
