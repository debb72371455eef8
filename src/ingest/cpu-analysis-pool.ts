import { DEFAULT_POOL_SIZE, transferableCopy, WorkerPool, type WorkerPoolOptions } from '../pprof/worker-pool.js';
import type { CpuAnalysis } from './cpu-analysis.js';
import type { CpuAnalysisTask } from './cpu-analysis-worker.js';

export const DEFAULT_CPU_ANALYSIS_POOL_OPTIONS: WorkerPoolOptions = {
  size: DEFAULT_POOL_SIZE,
  // A large real profile takes well under a second; a minute means something is wrong.
  taskTimeoutMs: 60_000,
  // The server's intake gate already bounds how many uploads are in flight; this is a backstop.
  maxQueuedTasks: 1024,
  // Decoding is bounded by decodeProfile's budget (6 x 64 MiB at most, mostly typed arrays
  // outside the heap); the heap holds the string table.
  maxOldGenerationSizeMb: 512,
};

let sharedPool: WorkerPool<CpuAnalysisTask, CpuAnalysis> | undefined;

/**
 * analyzeCpuProfile in a worker thread, in one pool shared by the process (started on first
 * use): inflating, decoding, stats and the PGO trim of an upload never hold up the thread that
 * serves requests, however large or hostile the upload is. Same results and error types as
 * analyzeCpuProfile, plus WorkerPoolBusyError when too many profiles are waiting.
 */
export function analyzeCpuProfileOffThread(bytes: Uint8Array, maxDecompressedBytes: number): Promise<CpuAnalysis> {
  sharedPool ??= new WorkerPool(
    'CPU profile analysis',
    new URL('./cpu-analysis-worker.js', import.meta.url),
    DEFAULT_CPU_ANALYSIS_POOL_OPTIONS,
    (task) => {
      const copy = transferableCopy(task.bytes);
      return { message: { bytes: copy, maxDecompressedBytes: task.maxDecompressedBytes }, transfer: [copy.buffer as ArrayBuffer] };
    },
  );
  return sharedPool.run({ bytes, maxDecompressedBytes });
}
