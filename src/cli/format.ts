import { CliError } from './errors.js';

/** Returns a positive integer flag value, or throws CliError naming the flag. */
export function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Formats nanoseconds as a short human duration ("1m0.5s", "250ms"). */
export function formatDuration(nanos: number): string {
  if (nanos <= 0) return '0s';
  if (nanos < 1e6) return `${(nanos / 1e3).toFixed(0)}µs`;
  if (nanos < 1e9) return `${(nanos / 1e6).toFixed(0)}ms`;
  const seconds = nanos / 1e9;
  if (seconds < 60) return `${Number(seconds.toFixed(2))}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Number((seconds - minutes * 60).toFixed(1))}s`;
}

/** Formats a sample value in its unit (nanoseconds as durations, bytes with binary prefixes). */
export function formatValue(v: number, unit: string | undefined): string {
  if (unit === 'nanoseconds') return formatDuration(v);
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let x = v;
    let i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${i === 0 ? x : x.toFixed(1)}${units[i]}`;
  }
  return String(v);
}

/** Renders rows as aligned text columns; `right[i]` right-aligns column i. */
export function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
