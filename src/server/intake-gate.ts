/** Why a request did not get an intake slot. */
export type GateRefusal = 'queue_full' | 'queue_timeout' | 'abandoned';

interface Waiter {
  grant: (release: () => void) => void;
  refuse: (why: GateRefusal) => void;
}

/**
 * Caps how many intake requests read and process their bodies at once. A request beyond the cap
 * waits in a short FIFO queue; when the queue is full, or the wait exceeds `queueTimeoutMs`, or
 * the caller gives up (its signal aborts), it is refused, so memory held by intake stays at
 * `maxInFlight` bodies whatever arrives. A freed slot goes straight to the oldest waiter.
 */
export class IntakeGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly maxInFlight: number,
    readonly maxQueued: number,
    readonly queueTimeoutMs: number,
  ) {
    if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) throw new RangeError('maxInFlight must be a positive integer');
    if (!(Number.isInteger(maxQueued) && maxQueued >= 0)) throw new RangeError('maxQueued must be a non-negative integer');
  }

  /** Requests holding a slot. */
  get inFlight(): number {
    return this.running;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with the function that frees the slot (calling it more than once frees it once) as
   * soon as one is free, or with the reason the request was turned away.
   */
  acquire(signal: AbortSignal): Promise<{ release: () => void } | { refused: GateRefusal }> {
    if (signal.aborted) return Promise.resolve({ refused: 'abandoned' });
    if (this.running < this.maxInFlight) {
      this.running++;
      return Promise.resolve({ release: this.releaser() });
    }
    if (this.waiting.length >= this.maxQueued) return Promise.resolve({ refused: 'queue_full' });
    return new Promise((resolve) => {
      const leave = (why: GateRefusal) => {
        const at = this.waiting.indexOf(waiter);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        waiter.refuse(why);
      };
      const timer = setTimeout(() => leave('queue_timeout'), this.queueTimeoutMs);
      const onAbort = () => leave('abandoned');
      const settle = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: (release) => {
          settle();
          resolve({ release });
        },
        refuse: (why) => {
          settle();
          resolve({ refused: why });
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next.grant(this.releaser());
    };
  }
}
