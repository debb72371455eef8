import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DecompressedSizeError } from './decompressed-size-error.js';
import { ProfileError } from './errors.js';
import type { ZstdResult, ZstdTask } from './zstd-worker.js';

export interface ZstdPoolOptions {
  /** Most worker threads; they start one at a time, when every running one is busy. */
  size: number;
  /** A task still running after this long is refused and its worker replaced. */
  taskTimeoutMs: number;
  /** Most tasks waiting for a worker; more are refused with DecompressionBusyError. */
  maxQueuedTasks: number;
}

export const DEFAULT_ZSTD_POOL_OPTIONS: ZstdPoolOptions = {
  size: Math.max(1, Math.min(2, availableParallelism() - 1)),
  // Inflating 64 MiB with fzstd takes one to four seconds; ten times that is a hang.
  taskTimeoutMs: 30_000,
  maxQueuedTasks: 4096,
};

/** Too many zstd inputs are already waiting for a worker: the caller should try again later (503). */
export class DecompressionBusyError extends Error {
  override readonly name = 'DecompressionBusyError';
}

interface PendingTask {
  task: ZstdTask;
  timeoutMs: number;
  resolve: (bytes: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  running: PendingTask | null;
  timer: NodeJS.Timeout | null;
  /** Why the worker was stopped, when the pool stopped it. */
  stopReason: string | null;
}

/**
 * A small pool of worker threads that inflate zstd with inflateZstd's limits, so neither a bomb
 * nor a large profile blocks the thread that serves requests. Workers start lazily and are
 * unref()ed while idle (a process with an idle pool exits); a worker that dies or overruns
 * `taskTimeoutMs` is replaced and only its own task fails (ProfileError). Each input is copied
 * once, when a worker takes it (the caller must not change it until the promise settles), and
 * results are transferred back, not copied.
 */
export class ZstdWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: PendingTask[] = [];
  private closed = false;

  constructor(
    private readonly options: ZstdPoolOptions = DEFAULT_ZSTD_POOL_OPTIONS,
    private readonly workerUrl: URL = new URL('./zstd-worker.js', import.meta.url),
  ) {}

  /**
   * Resolves to the inflated bytes, or rejects with DecompressedSizeError, ProfileError (corrupt
   * input, or still running after `timeoutMs`, the pool's taskTimeoutMs by default) or
   * DecompressionBusyError.
   */
  inflate(bytes: Uint8Array, maxBytes: number, timeoutMs = this.options.taskTimeoutMs): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('the zstd worker pool is closed'));
    if (this.queue.length >= this.options.maxQueuedTasks) {
      return Promise.reject(
        new DecompressionBusyError(`too many zstd profiles are waiting to be inflated (${this.queue.length}); try again later`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { bytes, maxBytes }, timeoutMs, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; tasks still running or waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('the zstd worker pool is closed'));
    await Promise.all(this.slots.map((slot) => this.stop(slot, 'the pool was closed')));
  }

  /** Number of worker threads running now (for tests and metrics). */
  get workerCount(): number {
    return this.slots.length;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.running === null && s.stopReason === null);
      if (slot === undefined) {
        if (this.slots.length >= this.options.size) return;
        slot = this.start();
      }
      this.run(slot, this.queue.shift()!);
    }
  }

  private start(): Slot {
    // No execArgv of the parent's (such as --input-type, which a worker refuses).
    const worker = new Worker(this.workerUrl, { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 256 } });
    const slot: Slot = { worker, running: null, timer: null, stopReason: null };
    worker.on('message', (result: ZstdResult) => this.finish(slot, result));
    // 'error' (an uncaught exception, or running out of heap) is always followed by 'exit'.
    worker.on('error', (err) => {
      slot.stopReason ??= `it failed: ${err.message}`;
    });
    worker.on('exit', (code) => this.exited(slot, code));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private run(slot: Slot, pending: PendingTask): void {
    slot.running = pending;
    // A busy worker keeps the process alive until its answer arrives; an idle one does not.
    slot.worker.ref();
    slot.timer = setTimeout(() => {
      void this.stop(slot, `it did not finish within ${pending.timeoutMs} ms`);
    }, pending.timeoutMs);
    slot.timer.unref();
    // A copy of just these bytes, made only now so that waiting tasks cost no memory (and not
    // Buffer#slice, which is a view): posting a view would clone the whole buffer behind it
    // (often the entire request body), and transferring that would detach the caller's.
    const bytes = new Uint8Array(pending.task.bytes);
    slot.worker.postMessage({ ...pending.task, bytes }, [bytes.buffer]);
  }

  private finish(slot: Slot, result: ZstdResult): void {
    const pending = slot.running;
    this.idle(slot);
    if (pending !== null) {
      if (result.ok) pending.resolve(result.bytes);
      else if (result.exceeded !== null) pending.reject(new DecompressedSizeError(result.exceeded.limit, result.exceeded.what));
      else if (result.bug) pending.reject(new Error(`zstd worker: ${result.message}`));
      else pending.reject(new ProfileError(result.message));
    }
    this.dispatch();
  }

  private idle(slot: Slot): void {
    slot.running = null;
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker.unref();
  }

  private stop(slot: Slot, reason: string): Promise<number> {
    slot.stopReason ??= reason;
    return slot.worker.terminate();
  }

  private exited(slot: Slot, code: number): void {
    const pending = slot.running;
    const reason = slot.stopReason ?? `it exited with code ${code}`;
    this.idle(slot);
    this.slots.splice(this.slots.indexOf(slot), 1);
    pending?.reject(new ProfileError(`zstd: the decoding worker was stopped because ${reason}`));
    if (!this.closed) this.dispatch();
  }
}

let sharedPool: ZstdWorkerPool | undefined;

/**
 * Inflates zstd `bytes` off the calling thread, in one pool shared by the whole process (started
 * on first use), with the limits and errors of inflateZstd.
 */
export function inflateZstdOffThread(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  sharedPool ??= new ZstdWorkerPool();
  return sharedPool.inflate(bytes, maxBytes);
}
