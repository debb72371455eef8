/** Formats a value in a pprof unit for people: nanoseconds as time, bytes with binary prefixes. */
export function formatValue(value: number, unit: string): string {
  const abs = Math.abs(value);
  if (unit === 'nanoseconds') {
    if (abs >= 1e9) return `${(value / 1e9).toFixed(abs >= 1e11 ? 0 : 2)} s`;
    if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e8 ? 0 : 1)} ms`;
    if (abs >= 1e3) return `${(value / 1e3).toFixed(1)} µs`;
    return `${value.toFixed(0)} ns`;
  }
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = value;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
  }
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M${unit === 'count' ? '' : ` ${unit}`}`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}k${unit === 'count' ? '' : ` ${unit}`}`;
  return `${Number.isInteger(value) ? value : value.toFixed(2)}${unit === 'count' ? '' : ` ${unit}`}`;
}

/** A share as a percentage with sensible precision. */
export function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (100 * part) / whole;
  return `${Math.abs(p) >= 10 ? p.toFixed(1) : p.toFixed(2)}%`;
}

/** A time as "2026-11-25 14:03:05" in the browser's zone. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Time windows offered in the range pickers (the API accepts any "now-<duration>"). */
export const RANGES: Array<[string, string]> = [
  ['now-1h', 'last hour'],
  ['now-6h', 'last 6 hours'],
  ['now-24h', 'last 24 hours'],
  ['now-72h', 'last 3 days'],
  ['now-7d', 'last 7 days'],
  ['now-30d', 'last 30 days'],
];

/** Describes a window for messages ("in the last 24 hours", "between now-3d and now-2d"). */
export function describeRange(from: string, to = 'now'): string {
  const known = RANGES.find(([v]) => v === from);
  if (to === 'now') return known ? `in the ${known[1]}` : `since ${from}`;
  return `between ${from} and ${to}`;
}
