/** Why a request did not get an intake slot. */
export type GateRefusal = 'queue_full' | 'queue_timeout' | 'abandoned';

interface Waiter {
  /** The bytes it will hold: its declared body size. */
  weight: number;
  grant: (release: () => void) => void;
  refuse: (why: GateRefusal) => void;
}

/**
 * Caps the intake requests that read and process their bodies at once: at most `maxInFlight` of
 * them, and at most `maxInFlightBytes` of declared body sizes (a request weighs what its
 * Content-Length says, or the body limit when it does not say). Many small uploads run together,
 * which lets their index rows share one commit; a few large ones take the whole budget. A request
 * that does not fit waits in a short FIFO queue; when the queue is full, or the wait exceeds
 * `queueTimeoutMs`, or the caller gives up (its signal aborts), it is refused, so the memory held
 * by intake bodies stays under `maxInFlightBytes` whatever arrives. Freed room goes to the oldest
 * waiters first.
 */
export class IntakeGate {
  private running = 0;
  private bytes = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly maxInFlight: number,
    readonly maxQueued: number,
    readonly queueTimeoutMs: number,
    readonly maxInFlightBytes = Number.POSITIVE_INFINITY,
  ) {
    if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) throw new RangeError('maxInFlight must be a positive integer');
    if (!(Number.isInteger(maxQueued) && maxQueued >= 0)) throw new RangeError('maxQueued must be a non-negative integer');
    if (!(maxInFlightBytes > 0)) throw new RangeError('maxInFlightBytes must be positive');
  }

  /** Requests holding a slot. */
  get inFlight(): number {
    return this.running;
  }

  /** Declared body bytes of the requests holding a slot. */
  get inFlightBytes(): number {
    return this.bytes;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with the function that frees the slot (calling it more than once frees it once) as
   * soon as there is room for a request of `weight` bytes (capped at maxInFlightBytes, so any
   * request fits alone), or with the reason the request was turned away.
   */
  acquire(signal: AbortSignal, weight = 0): Promise<{ release: () => void } | { refused: GateRefusal }> {
    if (signal.aborted) return Promise.resolve({ refused: 'abandoned' });
    const bytes = Math.min(Math.max(0, weight), this.maxInFlightBytes);
    if (this.waiting.length === 0 && this.fits(bytes)) {
      return Promise.resolve({ release: this.take(bytes) });
    }
    if (this.waiting.length >= this.maxQueued) return Promise.resolve({ refused: 'queue_full' });
    return new Promise((resolve) => {
      const leave = (why: GateRefusal) => {
        const at = this.waiting.indexOf(waiter);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        waiter.refuse(why);
        // A large waiter that leaves the head may have held back smaller ones that fit now.
        this.drain();
      };
      const timer = setTimeout(() => leave('queue_timeout'), this.queueTimeoutMs);
      const onAbort = () => leave('abandoned');
      const settle = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        weight: bytes,
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

  private fits(bytes: number): boolean {
    return this.running < this.maxInFlight && this.bytes + bytes <= this.maxInFlightBytes;
  }

  private take(bytes: number): () => void {
    this.running++;
    this.bytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.bytes -= bytes;
      this.drain();
    };
  }

  /** Grants waiters in order while the oldest fits: a large one at the head is not overtaken by smaller ones. */
  private drain(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0].weight)) {
      const next = this.waiting.shift()!;
      next.grant(this.take(next.weight));
    }
  }
}
