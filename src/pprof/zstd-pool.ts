import { DEFAULT_POOL_SIZE, transferableCopy, WorkerPool, type WorkerPoolOptions } from './worker-pool.js';
import type { ZstdTask } from './zstd-worker.js';

export { WorkerPoolBusyError as DecompressionBusyError } from './worker-pool.js';

export const DEFAULT_ZSTD_POOL_OPTIONS: WorkerPoolOptions = {
  size: DEFAULT_POOL_SIZE,
  // Inflating 64 MiB with fzstd takes one to four seconds; ten times that is a hang.
  taskTimeoutMs: 30_000,
  maxQueuedTasks: 4096,
  maxOldGenerationSizeMb: 256,
};

/**
 * Worker threads that inflate zstd with inflateZstd's limits (see WorkerPool): the input is
 * copied once, when a worker takes it (the caller must not change it until the promise
 * settles), and the output is transferred back, not copied.
 */
export class ZstdWorkerPool {
  private readonly pool: WorkerPool<ZstdTask, Uint8Array>;

  constructor(options: Partial<WorkerPoolOptions> = {}) {
    this.pool = new WorkerPool(
      'zstd',
      new URL('./zstd-worker.js', import.meta.url),
      { ...DEFAULT_ZSTD_POOL_OPTIONS, ...options },
      (task) => {
        const bytes = transferableCopy(task.bytes);
        return { message: { bytes, maxBytes: task.maxBytes }, transfer: [bytes.buffer as ArrayBuffer] };
      },
    );
  }

  /**
   * Resolves to the inflated bytes, or rejects with DecompressedSizeError, ProfileError (corrupt
   * input, or still running after `timeoutMs`) or DecompressionBusyError.
   */
  inflate(bytes: Uint8Array, maxBytes: number, timeoutMs?: number): Promise<Uint8Array> {
    return this.pool.run({ bytes, maxBytes }, timeoutMs);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  get workerCount(): number {
    return this.pool.workerCount;
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
