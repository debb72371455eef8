import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ProfileError } from './errors.js';
import { errorOfAnswer, type WorkerAnswer } from './worker-task.js';

export interface WorkerPoolOptions {
  /** Most worker threads; they start one at a time, when every running one is busy. */
  size: number;
  /** A task still running after this long is refused and its worker replaced. */
  taskTimeoutMs: number;
  /** Most tasks waiting for a worker; more are refused with WorkerPoolBusyError. */
  maxQueuedTasks: number;
  /** Heap ceiling of each worker: one that runs out dies alone and is replaced. */
  maxOldGenerationSizeMb: number;
}

/** One worker per core but the one that serves requests, and never more than two. */
export const DEFAULT_POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));

/** Too many tasks are already waiting for a worker: the caller should try again later (503). */
export class WorkerPoolBusyError extends Error {
  override readonly name = 'WorkerPoolBusyError';
}

/** A task's message to its worker: `message` is posted, the buffers in `transfer` move instead of being copied. */
export interface PostedTask {
  message: unknown;
  transfer: ArrayBuffer[];
}

interface PendingTask<T, V> {
  task: T;
  timeoutMs: number;
  resolve: (value: V) => void;
  reject: (err: Error) => void;
}

interface Slot<T, V> {
  worker: Worker;
  running: PendingTask<T, V> | null;
  timer: NodeJS.Timeout | null;
  /** Why the worker was stopped, when the pool stopped it. */
  stopReason: string | null;
}

/**
 * A small pool of worker threads running one kind of task (the worker script at `workerUrl`
 * answers with serveWorkerTasks), so neither hostile input nor a large profile blocks the thread
 * that serves requests. Workers start lazily and are unref()ed while idle (a process with an idle
 * pool exits); a worker that dies, runs out of heap or overruns `taskTimeoutMs` is replaced and
 * only its own task fails, with a ProfileError. A task is turned into its message only when a
 * worker takes it (`post`), so waiting tasks cost no copies; errors thrown in the worker arrive
 * as the same types (DecompressedSizeError, ProfileError).
 */
export class WorkerPool<T, V> {
  private readonly slots: Array<Slot<T, V>> = [];
  private readonly queue: Array<PendingTask<T, V>> = [];
  private closed = false;

  constructor(
    /** Names the work in errors ("zstd", "CPU profile analysis"). */
    private readonly what: string,
    private readonly workerUrl: URL,
    private readonly options: WorkerPoolOptions,
    private readonly post: (task: T) => PostedTask,
  ) {}

  /**
   * Resolves to the worker's answer for `task`, or rejects with the error the worker threw,
   * ProfileError when the worker had to be stopped (still running after `timeoutMs`, out of heap)
   * or WorkerPoolBusyError when `maxQueuedTasks` are already waiting.
   */
  run(task: T, timeoutMs = this.options.taskTimeoutMs): Promise<V> {
    if (this.closed) return Promise.reject(new Error(`the ${this.what} worker pool is closed`));
    if (this.queue.length >= this.options.maxQueuedTasks) {
      return Promise.reject(
        new WorkerPoolBusyError(`too many inputs are waiting for ${this.what} (${this.queue.length}); try again later`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ task, timeoutMs, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; tasks still running or waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error(`the ${this.what} worker pool is closed`));
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
      this.runOn(slot, this.queue.shift()!);
    }
  }

  private start(): Slot<T, V> {
    // No execArgv of the parent's (such as --input-type, which a worker refuses).
    const worker = new Worker(this.workerUrl, {
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb },
    });
    const slot: Slot<T, V> = { worker, running: null, timer: null, stopReason: null };
    worker.on('message', (answer: WorkerAnswer<V>) => this.finish(slot, answer));
    // 'error' (an uncaught exception, or running out of heap) is always followed by 'exit'.
    worker.on('error', (err) => {
      slot.stopReason ??= `it failed: ${err.message}`;
    });
    worker.on('exit', (code) => this.exited(slot, code));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private runOn(slot: Slot<T, V>, pending: PendingTask<T, V>): void {
    slot.running = pending;
    // A busy worker keeps the process alive until its answer arrives; an idle one does not.
    slot.worker.ref();
    slot.timer = setTimeout(() => {
      void this.stop(slot, `it did not finish within ${pending.timeoutMs} ms`);
    }, pending.timeoutMs);
    slot.timer.unref();
    const { message, transfer } = this.post(pending.task);
    slot.worker.postMessage(message, transfer);
  }

  private finish(slot: Slot<T, V>, answer: WorkerAnswer<V>): void {
    const pending = slot.running;
    this.idle(slot);
    if (pending !== null) {
      if (answer.ok) pending.resolve(answer.value);
      else pending.reject(errorOfAnswer(answer, this.what));
    }
    this.dispatch();
  }

  private idle(slot: Slot<T, V>): void {
    slot.running = null;
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker.unref();
  }

  private stop(slot: Slot<T, V>, reason: string): Promise<number> {
    slot.stopReason ??= reason;
    return slot.worker.terminate();
  }

  private exited(slot: Slot<T, V>, code: number): void {
    const pending = slot.running;
    const reason = slot.stopReason ?? `it exited with code ${code}`;
    this.idle(slot);
    this.slots.splice(this.slots.indexOf(slot), 1);
    pending?.reject(new ProfileError(`${this.what}: the worker was stopped because ${reason}`));
    if (!this.closed) this.dispatch();
  }
}

/**
 * A copy of just these bytes, to transfer to a worker: not Buffer#slice, which is a view
 * (posting a view would clone the whole buffer behind it, often the entire request body, and
 * transferring that would detach the caller's).
 */
export function transferableCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
