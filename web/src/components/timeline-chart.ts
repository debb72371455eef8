import type { TimelineJson } from '../api.js';
import {
  brushRange,
  bucketAt,
  MARKER_COLOR,
  type PlotArea,
  seriesColor,
  stack,
  timeLabel,
  timeOfX,
  timeTicks,
  valueTicks,
  xOfTime,
} from '../chart/timeline-scale.js';
import { h, replace } from '../dom.js';
import { formatTime } from '../format.js';

/** What the chart plots: CPU cores stacked per series, or CPU per request as one line per series. */
export type TimelineMode = 'cores' | 'per-request';

export interface TimelineChartOptions {
  mode: TimelineMode;
  /** Called with the range a drag across the plot selected (RFC 3339). */
  onBrush: (range: { from: string; to: string }) => void;
}

const HEIGHT = 190;
const PAD = { left: 52, right: 12, top: 18, bottom: 24 };

/** CPU seconds per request as people read it. */
export function formatPerRequest(seconds: number): string {
  if (seconds >= 1) return `${seconds.toFixed(2)} s`;
  if (seconds >= 1e-3) return `${(seconds * 1e3).toFixed(seconds >= 0.1 ? 0 : 2)} ms`;
  return `${(seconds * 1e6).toFixed(seconds >= 1e-4 ? 0 : 1)} µs`;
}

/**
 * The CPU timeline on a canvas of our own: stacked CPU cores per version or pgo value (or CPU per
 * request as lines), vertical markers where a version or the pgo flag first appears, a legend,
 * hover details, a text summary for assistive technology, and brushing: dragging across the plot
 * calls `onBrush` with the selected range. The plot's position is published as data attributes
 * (`data-plot-left`, `-width`, `-top`, `-height` in CSS px, `data-from-ms`, `data-to-ms`) so tests
 * can find a time's pixels.
 */
export class TimelineChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  private area: PlotArea;
  private drag: { x0: number; x1: number } | null = null;
  private readonly resize: ResizeObserver;
  private frame = 0;

  constructor(
    private readonly data: TimelineJson,
    private readonly options: TimelineChartOptions,
  ) {
    this.area = { left: PAD.left, width: 400, fromMs: data.fromMs, toMs: data.toMs };
    this.canvas = h('canvas', { role: 'img', 'data-testid': 'timeline-canvas', class: 'timeline-canvas' });
    this.canvas.style.height = `${HEIGHT}px`;
    this.tooltip = h('div', { class: 'tooltip', hidden: true, role: 'tooltip' });
    const legend = h(
      'ul',
      { class: 'legend', 'aria-label': 'Series' },
      ...data.series.map((s, i) =>
        h('li', {}, h('span', { class: 'swatch', style: `background:${seriesColor(i)}` }), `${s.label} (${s.profiles})`),
      ),
      data.markers.length > 0
        ? h('li', {}, h('span', { class: 'swatch marker', style: `background:${MARKER_COLOR}` }), 'version or pgo change')
        : null,
    );
    const summary = h('p', { class: 'muted timeline-summary', 'data-testid': 'timeline-summary' }, this.describe());
    this.canvas.setAttribute('aria-label', summary.textContent ?? '');
    this.element = h(
      'div',
      { class: 'timeline', 'data-testid': 'timeline' },
      h('div', { class: 'timeline-plot' }, this.canvas),
      legend,
      summary,
      this.tooltip,
    );
    this.canvas.addEventListener('mousedown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      const x = this.localX(e);
      this.drag = { x0: x, x1: x };
    });
    // Moves and the release are followed on the window, so a drag leaving the canvas still ends.
    const onMove = (e: MouseEvent) => {
      if (this.drag) {
        this.drag.x1 = this.localX(e);
        this.scheduleRender();
      } else if (e.target === this.canvas) this.hover(e);
    };
    const onUp = (e: MouseEvent) => {
      if (!this.drag) return;
      const range = brushRange(this.area, this.drag.x0, this.localX(e));
      this.drag = null;
      this.render();
      if (range) this.options.onBrush(range);
    };
    window.addEventListener('mousemove', onMove);
    window.addEventListener('mouseup', onUp);
    this.canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    let observedWidth = -1;
    this.resize = new ResizeObserver((entries) => {
      const width = entries[entries.length - 1]?.contentRect.width ?? -1;
      if (width === observedWidth) return;
      observedWidth = width;
      this.scheduleRender();
    });
    this.resize.observe(this.element);
    this.dispose = () => {
      this.resize.disconnect();
      cancelAnimationFrame(this.frame);
      window.removeEventListener('mousemove', onMove);
      window.removeEventListener('mouseup', onUp);
    };
  }

  /** Stops observing size and the pointer (call when the view goes away). */
  readonly dispose: () => void;

  private localX(e: MouseEvent): number {
    return e.clientX - this.canvas.getBoundingClientRect().left;
  }

  private scheduleRender(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.render());
  }

  /** The plotted values per series and bucket: cores, or CPU seconds per request (NaN where unknown). */
  private values(): number[][] {
    return this.data.series.map((s) =>
      this.options.mode === 'cores' ? s.cpuCores : s.cpuPerRequest.map((v) => (v === null ? Number.NaN : v)),
    );
  }

  /** Draws the chart now. */
  render(): void {
    const d = this.data;
    const cssWidth = Math.max(240, this.canvas.parentElement?.clientWidth ?? 800);
    const ratio = window.devicePixelRatio || 1;
    const [pw, ph] = [Math.round(cssWidth * ratio), Math.round(HEIGHT * ratio)];
    if (this.canvas.width !== pw) this.canvas.width = pw;
    if (this.canvas.height !== ph) this.canvas.height = ph;
    this.area = { left: PAD.left, width: cssWidth - PAD.left - PAD.right, fromMs: d.fromMs, toMs: d.toMs };
    this.element.dataset.plotLeft = String(this.area.left);
    this.element.dataset.plotWidth = String(this.area.width);
    this.element.dataset.plotTop = String(PAD.top);
    this.element.dataset.plotHeight = String(HEIGHT - PAD.top - PAD.bottom);
    this.element.dataset.fromMs = String(d.fromMs);
    this.element.dataset.toMs = String(d.toMs);
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, HEIGHT);
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const bottom = PAD.top + plotH;
    const values = this.values();
    const stacked = this.options.mode === 'cores';
    const { lower, upper, max } = stacked
      ? stack(values)
      : { lower: [], upper: [], max: values.flat().reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0) };
    const { top, ticks } = valueTicks(max);
    const y = (v: number) => bottom - (v / top) * plotH;
    const bx = (b: number) => xOfTime(this.area, Math.min(d.toMs, d.fromMs + b * d.stepMs));

    // Axes: value grid lines and labels on the left, round times below.
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.strokeStyle = '#e5e7eb';
    ctx.fillStyle = '#4b5563';
    ctx.lineWidth = 1;
    for (const t of ticks) {
      const ty = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(this.area.left, ty);
      ctx.lineTo(this.area.left + this.area.width, ty);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText(stacked ? String(t) : formatPerRequest(t), this.area.left - 6, ty);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of timeTicks(d.fromMs, d.toMs, Math.max(2, Math.floor(this.area.width / 110)))) {
      ctx.fillText(timeLabel(t, d.toMs - d.fromMs), xOfTime(this.area, t), bottom + 6);
    }
    ctx.save();
    ctx.translate(12, PAD.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(stacked ? 'CPU cores' : 'CPU / request', 0, 0);
    ctx.restore();

    // Series: stacked bands of steps (each bucket's value is flat across it), or step lines.
    for (let s = 0; s < values.length; s++) {
      ctx.fillStyle = seriesColor(s);
      ctx.strokeStyle = seriesColor(s);
      if (stacked) {
        for (let b = 0; b < d.buckets; b++) {
          const h = y(lower[s][b]) - y(upper[s][b]);
          if (h <= 0) continue;
          const x0 = bx(b);
          ctx.fillRect(x0, y(upper[s][b]), Math.max(bx(b + 1) - x0, 1), h);
        }
      } else {
        ctx.lineWidth = 2;
        ctx.beginPath();
        let open = false;
        for (let b = 0; b < d.buckets; b++) {
          const v = values[s][b];
          if (!Number.isFinite(v)) {
            open = false;
            continue;
          }
          if (!open) ctx.moveTo(bx(b), y(v));
          else ctx.lineTo(bx(b), y(v));
          ctx.lineTo(bx(b + 1), y(v));
          open = true;
        }
        ctx.stroke();
      }
    }

    // Markers over the series, labelled at the top.
    ctx.fillStyle = MARKER_COLOR;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    // A version and a pgo change at the same time (the usual PGO rollout) share one line and label.
    const labels = new Map<number, string[]>();
    for (const m of d.markers) {
      const text = m.kind === 'pgo' ? `pgo:${m.value}` : m.value;
      labels.set(m.atMs, [...(labels.get(m.atMs) ?? []), text]);
    }
    for (const [at, texts] of labels) {
      const mx = Math.round(xOfTime(this.area, at));
      ctx.fillRect(mx - 1, PAD.top, 3, plotH);
      ctx.fillText(texts.join(' · '), mx + 4, PAD.top - 5);
    }
    ctx.strokeStyle = '#9ca3af';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(this.area.left, bottom + 0.5);
    ctx.lineTo(this.area.left + this.area.width, bottom + 0.5);
    ctx.stroke();

    if (this.drag) {
      const a = Math.max(this.area.left, Math.min(this.drag.x0, this.drag.x1));
      const b = Math.min(this.area.left + this.area.width, Math.max(this.drag.x0, this.drag.x1));
      ctx.fillStyle = 'rgba(37, 99, 235, 0.18)';
      ctx.fillRect(a, PAD.top, Math.max(0, b - a), plotH);
    }
    performance.mark('hotpath:timeline-rendered');
  }

  private hover(e: MouseEvent): void {
    const d = this.data;
    const t = timeOfX(this.area, this.localX(e));
    const b = bucketAt(d.fromMs, d.stepMs, d.buckets, t);
    if (b < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const start = d.fromMs + b * d.stepMs;
    const lines: Array<Node | string> = [h('b', {}, `${formatTime(new Date(start).toISOString())} (+${Math.round(d.stepMs / 1000)} s)`)];
    for (const s of d.series) {
      const cores = s.cpuCores[b];
      const per = s.cpuPerRequest[b];
      if (cores === 0 && per === null) continue;
      lines.push(h('br'), `${s.label}: ${cores.toFixed(2)} cores${per === null ? '' : ` · ${formatPerRequest(per)} CPU / request`}`);
    }
    this.tooltip.replaceChildren(...lines);
    this.tooltip.hidden = false;
    const { offsetWidth: tw } = this.tooltip;
    this.tooltip.style.left = `${e.clientX + 14 + tw > window.innerWidth ? Math.max(4, e.clientX - 14 - tw) : e.clientX + 14}px`;
    this.tooltip.style.top = `${e.clientY + 14}px`;
  }

  /** The chart as text: CPU in the window, CPU per request, and the changes marked. */
  private describe(): string {
    const d = this.data;
    const seconds = (d.toMs - d.fromMs) / 1000;
    const parts = [
      `CPU over time of ${d.profiles.used} profile${d.profiles.used === 1 ? '' : 's'}: ${d.totals.cpuSeconds.toFixed(1)} CPU seconds, ${(d.totals.cpuSeconds / seconds).toFixed(2)} cores on average, in buckets of ${Math.round(d.stepMs / 1000)} s, by ${d.split}.`,
    ];
    if (d.totals.cpuPerRequest !== null) {
      parts.push(`${formatPerRequest(d.totals.cpuPerRequest)} CPU per request over ${Math.round(d.totals.requests)} requests.`);
    } else if (d.profiles.used > 0) {
      parts.push('No endpoint counts, so no CPU per request (dd-trace-go sends them with DD_PROFILING_ENDPOINT_COUNT_ENABLED=true).');
    }
    if (d.markers.length > 0) {
      parts.push(`Changes: ${d.markers.map((m) => `${m.kind} ${m.previous} → ${m.value} at ${formatTime(m.at)}`).join('; ')}.`);
    }
    if (!d.complete) parts.push(`Only the newest ${d.profiles.used} of ${d.profiles.matched} matching profiles are counted.`);
    return parts.join(' ');
  }
}

/** Fills `slot` with a note instead of a chart (no profiles, or the timeline failed). */
export function timelineNote(slot: HTMLElement, text: string): void {
  replace(slot, h('p', { class: 'muted', 'data-testid': 'timeline-note' }, text));
}
