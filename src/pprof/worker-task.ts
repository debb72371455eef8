import { parentPort } from 'node:worker_threads';
import { DecompressedSizeError } from './decompressed-size-error.js';
import { ProfileError } from './errors.js';

/**
 * What a pool worker answers for one task: the value (with the buffers it transfers), or the
 * refusal. `exceeded` is set for a DecompressedSizeError, `bug` when the error is not about the
 * input at all (anything but a ProfileError).
 */
export type WorkerAnswer<V> =
  | { ok: true; value: V }
  | { ok: false; message: string; exceeded: { limit: number; what: string } | null; bug: boolean };

/** What a task handler returns: its value, and the buffers to transfer back instead of copying. */
export interface HandledTask<V> {
  value: V;
  transfer: ArrayBuffer[];
}

/**
 * Runs in a worker thread of a WorkerPool: answers each task posted by the pool with
 * `handle(task)`, one at a time and in order, turning a thrown error into the refusal the pool
 * rebuilds on its side (see errorOfAnswer), so the pool's caller sees the same error types as
 * when the work runs on its own thread.
 */
export function serveWorkerTasks<T, V>(handle: (task: T) => HandledTask<V>): void {
  parentPort?.on('message', (task: T) => {
    let answer: WorkerAnswer<V>;
    let transfer: ArrayBuffer[] = [];
    try {
      const handled = handle(task);
      answer = { ok: true, value: handled.value };
      transfer = handled.transfer;
    } catch (err) {
      answer = {
        ok: false,
        message: err instanceof Error ? err.message : String(err),
        exceeded: err instanceof DecompressedSizeError ? { limit: err.limit, what: err.what } : null,
        bug: !(err instanceof ProfileError),
      };
    }
    parentPort?.postMessage(answer, transfer);
  });
}

/** The error a refused task throws on the pool's side: the same type the handler threw, as far as callers tell types apart. */
export function errorOfAnswer(
  answer: { message: string; exceeded: { limit: number; what: string } | null; bug: boolean },
  what: string,
): Error {
  if (answer.exceeded !== null) return new DecompressedSizeError(answer.exceeded.limit, answer.exceeded.what);
  if (answer.bug) return new Error(`${what} worker: ${answer.message}`);
  return new ProfileError(answer.message);
}
