import { IngestError } from './errors.js';

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Lets at most `concurrency` requests at a time through a memory-heavy stretch of parsing (for
 * OTLP: inflating the body, decoding it, converting and compressing its profiles), so the
 * memory that stretch takes is bounded by `concurrency` requests however many are in flight;
 * the intake gate bounds only their bodies as sent, which gzip makes small. Others wait in a
 * FIFO queue of at most `maxQueued`, each at most `timeoutMs`; a request that finds the queue
 * full or waits too long is refused with 503 (busy; the server adds Retry-After).
 */
export class ParseSlots {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
    readonly timeoutMs: number,
    /** What is being parsed, for the 503 message ("OTLP requests"). */
    readonly what: string,
  ) {
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError('concurrency must be a positive integer');
  }

  /** Requests in the heavy stretch now. */
  get inFlight(): number {
    return this.running;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` once a slot is free and frees the slot when it settles; throws IngestError 503 when none comes in time. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueued) return Promise.reject(this.busy(`${this.waiting.length} are already waiting`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.running++;
          resolve();
        },
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(this.busy(`none was free within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    this.running--;
    const next = this.waiting.shift();
    if (next) next.start();
  }

  private busy(why: string): IngestError {
    return new IngestError(503, 'busy', `the server is already parsing ${this.running} ${this.what} and ${why}: retry in a few seconds`);
  }
}
