// The numbers the timeline chart is drawn from, apart from any canvas so that they are tested
// under Node: stacking, axis scales and ticks, and turning a drag into a time range.

/**
 * Series colours: the Okabe–Ito palette (distinct for the common colour-vision deficiencies),
 * without its vermilion, which is kept for the version and pgo markers.
 */
export const SERIES_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#7f7f7f'];
/** Colour of a marker where a version or the pgo flag changes. */
export const MARKER_COLOR = '#D55E00';

/** Colour of series `i`; past the palette the colours repeat with the series' legend entry telling them apart. */
export function seriesColor(i: number): string {
  return SERIES_COLORS[i % SERIES_COLORS.length];
}

/**
 * Returns, per series and bucket, the bottom and top of its band when the series are stacked in
 * order (the first at the bottom), and the highest top. Missing or non-finite values count 0.
 */
export function stack(values: ReadonlyArray<ReadonlyArray<number>>): { lower: number[][]; upper: number[][]; max: number } {
  const buckets = values.reduce((n, v) => Math.max(n, v.length), 0);
  const base = new Array<number>(buckets).fill(0);
  const lower: number[][] = [];
  const upper: number[][] = [];
  let max = 0;
  for (const v of values) {
    const lo = base.slice();
    for (let b = 0; b < buckets; b++) {
      const x = v[b];
      if (Number.isFinite(x) && x > 0) base[b] += x;
      if (base[b] > max) max = base[b];
    }
    lower.push(lo);
    upper.push(base.slice());
  }
  return { lower, upper, max };
}

/** A round axis maximum at or above `max` (1, 2, 2.5 or 5 times a power of ten), and its ticks from 0. */
export function valueTicks(max: number, wanted = 4): { top: number; ticks: number[] } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const rough = max / wanted;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return { top, ticks };
}

const TIME_STEPS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400].map((s) => s * 1000);

/** Round times between `from` and `to` (ms) for axis labels, about `wanted` of them. */
export function timeTicks(from: number, to: number, wanted = 6): number[] {
  const span = to - from;
  if (!(span > 0)) return [];
  const step =
    TIME_STEPS.find((s) => span / s <= wanted) ??
    Math.ceil(span / wanted / TIME_STEPS[TIME_STEPS.length - 1]) * TIME_STEPS[TIME_STEPS.length - 1];
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to && out.length <= 2 * wanted; t += step) out.push(t);
  return out;
}

/** A label for an axis time: the clock time for spans under two days, else the date. */
export function timeLabel(t: number, span: number): string {
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (span < 2 * 86_400_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}${span < 300_000 ? `:${pad(d.getSeconds())}` : ''}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}${span < 14 * 86_400_000 ? ` ${pad(d.getHours())}h` : ''}`;
}

/** Where the plot is on the canvas, in CSS pixels, and what time range its width shows. */
export interface PlotArea {
  left: number;
  width: number;
  fromMs: number;
  toMs: number;
}

/** The x (CSS px) of time `t`. */
export function xOfTime(area: PlotArea, t: number): number {
  return area.left + ((t - area.fromMs) / (area.toMs - area.fromMs)) * area.width;
}

/** The time at x (CSS px), clamped to the plot. */
export function timeOfX(area: PlotArea, x: number): number {
  const f = Math.min(1, Math.max(0, (x - area.left) / area.width));
  return Math.round(area.fromMs + f * (area.toMs - area.fromMs));
}

/** Drags narrower than this many CSS pixels are clicks, not a range. */
export const MIN_BRUSH_PX = 4;

/**
 * The time range a drag from x0 to x1 selects, as RFC 3339 strings for the URL (either
 * direction; clamped to the plot), or null for a drag too short to mean a range.
 */
export function brushRange(area: PlotArea, x0: number, x1: number): { from: string; to: string } | null {
  const [a, b] = x0 <= x1 ? [x0, x1] : [x1, x0];
  const from = timeOfX(area, a);
  const to = timeOfX(area, b);
  if (b - a < MIN_BRUSH_PX || !(to > from)) return null;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** The bucket under time `t`, or -1 outside the buckets. */
export function bucketAt(fromMs: number, stepMs: number, buckets: number, t: number): number {
  const b = Math.floor((t - fromMs) / stepMs);
  return b >= 0 && b < buckets ? b : -1;
}
