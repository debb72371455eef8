import { serveWorkerTasks } from './worker-task.js';
import { inflateZstd } from './zstd.js';

/** What ZstdWorkerPool sends: one input to inflate (its buffer transferred, not copied). */
export interface ZstdTask {
  bytes: Uint8Array;
  maxBytes: number;
}

// The worker side of ZstdWorkerPool: the output's buffer is transferred back.
serveWorkerTasks((task: ZstdTask) => {
  const bytes = inflateZstd(task.bytes, task.maxBytes);
  return { value: bytes, transfer: [bytes.buffer as ArrayBuffer] };
});
