/**
 * A bound on scrapes running at once. A waiter is served in arrival order and leaves the queue
 * when its signal aborts, so a stopped scraper never holds or waits for a slot.
 */
export class ScrapeSlots {
  private inUse = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(readonly size: number) {}

  /** Scrapes holding a slot now. */
  get running(): number {
    return this.inUse;
  }

  /** Scrapes waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const release = this.releaser();
    if (this.inUse < this.size) {
      this.inUse++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.inUse++;
          resolve(release);
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** A release function that frees its slot once however often it is called. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse--;
      this.waiting.shift()?.grant();
    };
  }
}
