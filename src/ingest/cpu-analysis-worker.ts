import { serveWorkerTasks } from '../pprof/worker-task.js';
import { analyzeCpuProfile, type CpuAnalysis } from './cpu-analysis.js';

/** What the pool sends: one CPU profile as uploaded (its buffer transferred, not copied). */
export interface CpuAnalysisTask {
  bytes: Uint8Array;
  maxDecompressedBytes: number;
}

// The worker side of the CPU analysis pool: the PGO form's buffer is transferred back.
serveWorkerTasks((task: CpuAnalysisTask) => {
  const analysis: CpuAnalysis = analyzeCpuProfile(task.bytes, task.maxDecompressedBytes);
  return { value: analysis, transfer: [analysis.pgoBytes.buffer as ArrayBuffer] };
});
