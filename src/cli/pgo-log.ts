/** A span of time in a log line: Go's slog writes durations as integer nanoseconds in JSON. */
export class LogDuration {
  constructor(readonly ms: number) {}

  /** As Go's time.Duration prints it, to the millisecond: `850ms`, `1.25s`, `2h3m4s`. */
  toString(): string {
    const ms = Math.round(this.ms);
    if (Math.abs(ms) < 1000) return `${ms}ms`;
    const sign = ms < 0 ? '-' : '';
    let rest = Math.abs(ms);
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = `${(rest / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
    return `${sign}${h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m` : ''}${s}`;
  }

  toJSON(): number {
    return Math.round(this.ms * 1e6);
  }
}

/**
 * The log of `hotpath pgo`, on stdout like datadog-pgo's: text lines, or with --json one JSON
 * object per line in the form of Go's slog JSON handler (`time`, `level`, `msg`, then the
 * attributes; durations in nanoseconds), so a CI step that reads datadog-pgo's log reads this
 * one. Debug lines only with --verbose.
 */
export class PgoLog {
  constructor(
    private readonly json: boolean,
    private readonly verbose: boolean,
    private readonly out: (line: string) => void = (line) => process.stdout.write(line),
  ) {}
  info(msg: string, attrs: Record<string, unknown> = {}): void {
    this.write('INFO', msg, attrs);
  }
  warn(msg: string, attrs: Record<string, unknown> = {}): void {
    this.write('WARN', msg, attrs);
  }
  error(msg: string, attrs: Record<string, unknown> = {}): void {
    this.write('ERROR', msg, attrs);
  }
  debug(msg: string, attrs: Record<string, unknown> = {}): void {
    if (this.verbose) this.write('DEBUG', msg, attrs);
  }
  private write(level: string, msg: string, attrs: Record<string, unknown>): void {
    if (this.json) {
      this.out(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...attrs })}\n`);
      return;
    }
    const text = Object.entries(attrs)
      .map(([k, v]) => {
        const shown = v instanceof LogDuration ? v.toString() : v;
        return `${k}=${typeof shown === 'string' && !/\s/.test(shown) && shown !== '' ? shown : JSON.stringify(shown)}`;
      })
      .join(' ');
    this.out(`${new Date().toISOString().slice(11, 23)} ${level} ${msg}${text ? ` ${text}` : ''}\n`);
  }
}
