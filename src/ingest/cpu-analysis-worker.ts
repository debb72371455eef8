import { serveWorkerTasks } from '../pprof/worker-task.js';
import { analyzeCpuProfile, type CpuAnalysis } from './cpu-analysis.js';

/** What the pool sends: one CPU profile as uploaded (its buffer transferred, not copied). */
export interface CpuAnalysisTask {
  bytes: Uint8Array;
  maxDecompressedBytes: number;
}

// The worker side of the CPU analysis pool: the buffers of the PGO form and of the prepared form
// are transferred back, not copied.
serveWorkerTasks((task: CpuAnalysisTask) => {
  const analysis: CpuAnalysis = analyzeCpuProfile(task.bytes, task.maxDecompressedBytes);
  const pgoBytes = wholeBuffer(analysis.pgoBytes);
  let preparedBytes = wholeBuffer(analysis.preparedBytes);
  // One buffer cannot be listed twice for transfer (postMessage throws): two forms sharing one is
  // unlikely, but cheap to rule out.
  if (preparedBytes.buffer === pgoBytes.buffer) preparedBytes = new Uint8Array(preparedBytes);
  return {
    value: { ...analysis, pgoBytes, preparedBytes },
    transfer: [pgoBytes.buffer as ArrayBuffer, preparedBytes.buffer as ArrayBuffer],
  };
});

/**
 * `bytes` when they span their whole ArrayBuffer, else a copy that does. Transferring the buffer
 * of a view would send every byte behind it (or, for a Buffer from Node's shared pool, fail),
 * while copying just the bytes costs less than the form took to build.
 */
function wholeBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer)
    ? bytes
    : new Uint8Array(bytes);
}
