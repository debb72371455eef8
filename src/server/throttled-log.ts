/**
 * Lets one log line through per interval for a condition that can repeat on every request (a
 * full disk), and counts the ones held back so the next line can say how many there were.
 */
export class Throttle {
  private nextAt = Number.NEGATIVE_INFINITY;
  private held = 0;

  constructor(
    readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns null when this occurrence should not be logged, else how many were held back since the last one logged. */
  pass(): { suppressed: number } | null {
    const t = this.now();
    if (t < this.nextAt) {
      this.held++;
      return null;
    }
    this.nextAt = t + this.intervalMs;
    const suppressed = this.held;
    this.held = 0;
    return { suppressed };
  }
}
