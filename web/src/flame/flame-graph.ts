import type { TreeJson } from '../api.js';
import { h } from '../dom.js';
import { formatValue, percent } from '../format.js';
import { classColor, DIMMED, diffColor, MATCHED } from './colors.js';
import { type FlameLayout, focusWeights, frameKey, frameKeys, layoutTree } from './layout.js';

const ROW = 18;
/** Frames narrower than this (CSS px) are not drawn, nor is anything under them. */
const MIN_WIDTH = 0.5;

export interface FlameGraphOptions {
  unit: string;
  /** Appended to every value shown, for normalised values ("/s", "/profile"). */
  valueSuffix?: string;
  /** What the graph shows, for its accessible name ("CPU time of profile X"). */
  title: string;
  /** Called after a click or key zooms, with the frame's key (see frameKeys; '' is the root). */
  onZoom?: (key: string) => void;
  /** Called after each draw with what the search matches ("12.3% in 40 frames"), or null without a search. */
  onSearchResult?: (text: string | null) => void;
  /** Names the root frame instead of "all" (a sandwich's halves are rooted at their function). */
  rootName?: string;
  /** Draws the root at the bottom and callers upwards (the callers half of a sandwich view). */
  inverted?: boolean;
  /** The program's own module (the API's mainModule), for colouring frames by package class. */
  mainModule?: string | null;
  /** Called with a frame's function on right-click or the S key on a zoomed frame: the page opens its sandwich view. */
  onSandwich?: (fn: string) => void;
}

/**
 * A flame graph on a canvas (root on top): zoom by click, search highlight, hover details and a
 * text summary for assistive technology and tests. Diff trees (with before/after) are drawn as
 * one graph coloured by change. Only frames at least half a pixel wide are visited, so large
 * trees draw in time proportional to what is visible.
 */
export class FlameGraph {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly summary: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly base: FlameLayout;
  private layout: FlameLayout;
  private zoom = 0;
  private search: RegExp | null = null;
  private matches: Uint8Array | null = null;
  private focus: string | null = null;
  private drawn = { node: new Int32Array(0), x: new Float64Array(0), w: new Float64Array(0), count: 0 };
  private readonly resize: ResizeObserver;
  private frame = 0;
  /** Deepest depth drawn by the last render: the bottom row of an inverted graph. */
  private deepest = 0;

  constructor(
    private readonly tree: TreeJson,
    private readonly options: FlameGraphOptions,
  ) {
    this.base = layoutTree(tree);
    this.layout = this.base;
    // Focusable so the keyboard can reset the zoom (Escape) and step out of it (Backspace).
    this.canvas = h('canvas', { role: 'img', tabindex: 0, 'data-testid': 'flame-canvas' });
    this.summary = h('p', { class: 'summary', 'aria-live': 'polite', 'data-testid': 'flame-summary' });
    this.tooltip = h('div', { class: 'tooltip', hidden: true, role: 'tooltip' });
    this.element = h('div', { class: 'flame-wrap' }, this.summary, h('div', { class: 'flame' }, this.canvas), this.tooltip);
    this.canvas.addEventListener('click', (e) => this.onClick(e));
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    this.canvas.addEventListener('contextmenu', (e) => {
      const i = this.hit(e);
      if (i <= 0 || !this.options.onSandwich) return;
      e.preventDefault();
      this.options.onSandwich(this.layout.names[this.layout.name[i]]);
    });
    this.canvas.addEventListener('keydown', (e) => {
      if ((e.key === 's' || e.key === 'S') && this.zoom > 0 && this.options.onSandwich) {
        e.preventDefault();
        this.options.onSandwich(this.layout.names[this.layout.name[this.zoom]]);
        return;
      }
      if (this.zoom === 0 || (e.key !== 'Escape' && e.key !== 'Backspace')) return;
      e.preventDefault();
      this.zoomTo(e.key === 'Escape' ? 0 : Math.max(0, this.layout.parent[this.zoom]));
      this.options.onZoom?.(this.keyOf(this.zoom));
    });
    // Only a new width needs a redraw: the graph sets its own height on every draw.
    let observedWidth = -1;
    this.resize = new ResizeObserver((entries) => {
      const width = entries[entries.length - 1]?.contentRect.width ?? -1;
      if (width === observedWidth) return;
      observedWidth = width;
      this.scheduleRender();
    });
    this.resize.observe(this.element);
  }

  /** Number of frames in the tree (the root included). */
  get size(): number {
    return this.tree.name.length;
  }

  /** Zooms so that `node` fills the width (0 resets). */
  zoomTo(node: number): void {
    this.zoom = node >= 0 && node < this.size && this.layout.width[node] > 0 ? node : 0;
    this.render();
  }

  /** The key of frame `node`, stable across loads of the same data (see frameKeys). */
  keyOf(node: number): string {
    // One frame's key walks its ancestors only: a click must not hash all 50,000 paths.
    return frameKey(this.base, node);
  }

  /** Zooms on the frame with key `key` (from keyOf); an unknown or empty key shows the root. Returns whether it was found. */
  zoomToKey(key: string): boolean {
    const i = key === '' ? 0 : frameKeys(this.base).indexOf(key);
    this.zoomTo(Math.max(0, i));
    return i >= 0;
  }

  /** Highlights frames whose name contains `text` (case-insensitive); empty clears. */
  setSearch(text: string): void {
    const t = text.trim();
    this.search = t === '' ? null : new RegExp(t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    this.matches = null;
    if (this.search) {
      const m = new Uint8Array(this.base.names.length);
      this.base.names.forEach((n, i) => {
        if (this.search?.test(n)) m[i] = 1;
      });
      this.matches = m;
    }
    this.render();
  }

  /** Keeps only the stacks through function `fn` (null shows everything). */
  setFocus(fn: string | null): void {
    this.focus = fn;
    this.layout = fn === null ? this.base : layoutTree(this.tree, focusWeights(this.base, fn));
    if (this.layout.width[this.zoom] === 0) this.zoom = 0;
    this.render();
  }

  private scheduleRender(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.render());
  }

  /** Draws the graph now. */
  render(): void {
    const L = this.layout;
    const cssWidth = Math.max(200, this.canvas.parentElement?.clientWidth ?? 800);
    const z = this.zoom;
    const scale = L.width[z] > 0 ? cssWidth / L.width[z] : 0;
    // As tall as the deepest frame that will be drawn, not the deepest in the tree: zoomed on a
    // shallow frame, or with deep stacks too thin to see, the graph has no empty rows.
    let deepest = L.depth[z];
    for (let i = z; i < L.end[z]; ) {
      if (L.width[i] * scale < MIN_WIDTH) {
        i = L.end[i];
        continue;
      }
      if (L.depth[i] > deepest) deepest = L.depth[i];
      i++;
    }
    this.deepest = deepest;
    const cssHeight = (deepest + 1) * ROW;
    const ratio = window.devicePixelRatio || 1;
    // Resizing the canvas reallocates its pixels: only when the size really changes.
    const [pw, ph] = [Math.round(cssWidth * ratio), Math.round(cssHeight * ratio)];
    if (this.canvas.width !== pw) this.canvas.width = pw;
    if (this.canvas.height !== ph) {
      this.canvas.height = ph;
      this.canvas.style.height = `${cssHeight}px`;
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    ctx.font = '11px ui-monospace, Menlo, Consolas, monospace';
    ctx.textBaseline = 'middle';
    const charWidth = ctx.measureText('m').width || 7;

    const capacity = Math.min(L.name.length, 200_000);
    if (this.drawn.node.length < capacity) {
      this.drawn = { node: new Int32Array(capacity), x: new Float64Array(capacity), w: new Float64Array(capacity), count: 0 };
    }
    this.drawn.count = 0;
    const x0 = L.x[z];
    // Ancestors of the zoomed frame span the whole width.
    // Faded: they are context (click one to zoom out to it), not part of the zoomed frame's value.
    ctx.globalAlpha = 0.55;
    for (let p = L.parent[z]; p >= 0; p = L.parent[p]) this.drawFrame(ctx, p, 0, cssWidth, charWidth);
    ctx.globalAlpha = 1;
    let visible = 0;
    for (let i = z; i < L.end[z]; ) {
      const w = L.width[i] * scale;
      if (w < MIN_WIDTH) {
        i = L.end[i];
        continue;
      }
      this.drawFrame(ctx, i, (L.x[i] - x0) * scale, w, charWidth);
      visible++;
      i++;
    }
    this.describe(visible);
    this.element.dataset.renderedFrames = String(visible);
    performance.mark('hotpath:flame-rendered');
  }

  private drawFrame(ctx: CanvasRenderingContext2D, i: number, x: number, w: number, charWidth: number): void {
    const L = this.layout;
    const name = L.names[L.name[i]];
    const y = (this.options.inverted ? this.deepest - L.depth[i] : L.depth[i]) * ROW;
    let fill: string;
    if (this.matches && i > 0) fill = this.matches[L.name[i]] ? MATCHED : DIMMED;
    else if (L.before && L.after) fill = diffColor(L.before[i], L.after[i]);
    else if (i === 0)
      fill = this.options.rootName === undefined ? '#d1d5db' : classColor(this.options.rootName, this.options.mainModule ?? null);
    else fill = classColor(name, this.options.mainModule ?? null);
    ctx.fillStyle = fill;
    ctx.fillRect(x, y, Math.max(w - 0.5, 0.5), ROW - 1);
    if (w > charWidth * 3) {
      const fits = Math.floor((w - 6) / charWidth);
      // Labels drop the import path ("encoding/json.Marshal" → "json.Marshal"); the tooltip has it all.
      const label =
        i === 0
          ? this.rootLabel()
          : name.slice(
              name.lastIndexOf('/', name.indexOf('.') < 0 ? name.length : name.indexOf('(') > 0 ? name.indexOf('(') : name.length) + 1,
            );
      const text = label.length <= fits ? label : `${label.slice(0, Math.max(0, fits - 1))}…`;
      ctx.fillStyle = fill === MATCHED ? '#ffffff' : '#111827';
      ctx.fillText(text, x + 3, y + ROW / 2);
    }
    const d = this.drawn;
    if (d.count < d.node.length) {
      d.node[d.count] = i;
      d.x[d.count] = x;
      d.w[d.count] = w;
      d.count++;
    }
  }

  /** A value as people read it, in the graph's unit and normalisation. */
  private fmt(v: number): string {
    return `${formatValue(v, this.options.unit)}${this.options.valueSuffix ?? ''}`;
  }

  private rootLabel(): string {
    return `${this.options.rootName ?? 'all'} (${this.fmt(this.layout.width[0])})`;
  }

  /** Writes what the graph shows as text: frame counts, total, zoom, search share and the widest frames. */
  private describe(visible: number): void {
    const L = this.layout;
    const root = L.width[0];
    const parts = [`${this.options.title}: flame graph of ${this.size} frames (${visible} drawn), total ${this.fmt(root)}.`];
    if (this.focus) parts.push(`Only stacks through ${this.focus}.`);
    if (this.zoom !== 0) {
      parts.push(`Zoomed on ${L.names[L.name[this.zoom]]} (${percent(L.width[this.zoom], root)} of total).`);
    }
    if (this.search && this.matches) {
      // A match inside a match is counted once: its value is already in the outer frame.
      let matched = 0;
      let frames = 0;
      for (let i = 1; i < L.name.length; ) {
        if (this.matches[L.name[i]] && L.width[i] > 0) {
          matched += L.width[i];
          frames++;
          i = L.end[i];
        } else i++;
      }
      const query = this.search.source.replace(/\\/g, '');
      parts.push(`Search "${query}" matches ${percent(matched, root)}.`);
      this.options.onSearchResult?.(
        frames === 0 ? 'no frame matches' : `${percent(matched, root)} of ${this.fmt(root)} (${this.fmt(matched)})`,
      );
    } else {
      this.options.onSearchResult?.(null);
    }
    // Widest frames below the root: the children of the zoomed frame.
    const kids: number[] = [];
    for (let i = this.zoom + 1; i < L.end[this.zoom]; i = L.end[i]) kids.push(i);
    kids.sort((a, b) => L.width[b] - L.width[a]);
    const top = kids.filter((k) => L.width[k] > 0).slice(0, 3);
    if (top.length > 0) parts.push(`Widest: ${top.map((k) => `${L.names[L.name[k]]} ${percent(L.width[k], root)}`).join(', ')}.`);
    const text = parts.join(' ');
    this.summary.textContent = text;
    this.canvas.setAttribute('aria-label', text);
  }

  private hit(e: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const row = Math.floor((e.clientY - rect.top) / ROW);
    const depth = this.options.inverted ? this.deepest - row : row;
    const d = this.drawn;
    for (let k = 0; k < d.count; k++) {
      const i = d.node[k];
      if (this.layout.depth[i] === depth && mx >= d.x[k] && mx < d.x[k] + d.w[k]) return i;
    }
    return -1;
  }

  private onClick(e: MouseEvent): void {
    const i = this.hit(e);
    if (i < 0) return;
    this.zoomTo(i === this.zoom ? Math.max(0, this.layout.parent[i]) : i);
    this.options.onZoom?.(this.keyOf(this.zoom));
  }

  private onHover(e: MouseEvent): void {
    const i = this.hit(e);
    if (i < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const L = this.layout;
    const lines: Array<Node | string> = [h('b', {}, i === 0 ? (this.options.rootName ?? 'all') : L.names[L.name[i]])];
    if (L.before && L.after) {
      const delta = L.after[i] - L.before[i];
      lines.push(
        h('br'),
        `before ${this.fmt(L.before[i])} · after ${this.fmt(L.after[i])} · `,
        h('span', {}, `${delta >= 0 ? '+' : ''}${this.fmt(delta)} (${L.before[i] === 0 ? 'new' : percent(delta, L.before[i])})`),
      );
    } else {
      lines.push(
        h('br'),
        `total ${this.fmt(L.width[i])} (${percent(L.width[i], L.width[0])}) · self ${this.fmt(L.self[i])} (${percent(L.self[i], L.width[0])})`,
      );
    }
    this.tooltip.replaceChildren(...lines);
    this.tooltip.hidden = false;
    // Below and right of the pointer, flipped when that would leave the window.
    const { offsetWidth: tw, offsetHeight: th } = this.tooltip;
    const left = e.clientX + 14 + tw > window.innerWidth ? Math.max(4, e.clientX - 14 - tw) : e.clientX + 14;
    const top = e.clientY + 14 + th > window.innerHeight ? Math.max(4, e.clientY - 14 - th) : e.clientY + 14;
    this.tooltip.style.left = `${left}px`;
    this.tooltip.style.top = `${top}px`;
  }

  /** Stops observing size changes (call when the view goes away). */
  dispose(): void {
    this.resize.disconnect();
    cancelAnimationFrame(this.frame);
  }
}
