import { h } from '../dom.js';
import { RANGES } from '../format.js';

/** A time window as the API takes it: `from`/`to` are `now`, `now-24h`, RFC 3339 or epoch ms. */
export interface TimeWindow {
  from: string;
  to: string;
}

export interface TimeRangePicker {
  element: HTMLElement;
  /** The window the user picked (presets end at `now`). */
  value: () => TimeWindow;
}

const CUSTOM = 'custom';

/** Reads `from`/`to` of a route's parameters, with the view's default window. */
export function windowOf(params: URLSearchParams, defaultFrom: string): TimeWindow {
  return { from: params.get('from') || defaultFrom, to: params.get('to') || 'now' };
}

/** URL parameters of a window; `to=now` is left out so ordinary links stay short. */
export function windowParams(w: TimeWindow): { from: string; to: string | null } {
  return { from: w.from, to: w.to === 'now' ? null : w.to };
}

/**
 * A time range picker: the usual windows ending now, or "custom" with free `from` and `to`
 * fields in the API's syntax (`now-3d`, `2026-11-20T08:00:00Z`). Choosing a preset calls
 * `onChange` at once; custom fields apply on Enter or when the caller's form submits.
 */
export function timeRange(initial: TimeWindow, onChange: (w: TimeWindow) => void): TimeRangePicker {
  const isPreset = initial.to === 'now' && RANGES.some(([v]) => v === initial.from);
  const select = h('select', { 'aria-label': 'Time range' });
  for (const [value, label] of RANGES) select.append(h('option', { value, selected: isPreset && value === initial.from }, label));
  select.append(h('option', { value: CUSTOM, selected: !isPreset }, 'custom…'));
  const field = (name: 'from' | 'to', value: string) =>
    h('input', {
      type: 'text',
      name,
      value,
      class: 'time',
      'aria-label': name === 'from' ? 'From' : 'To',
      placeholder: name === 'from' ? 'now-3d or 2026-11-20T08:00Z' : 'now',
      title: 'now, now-<duration> (30m, 6h, 3d), an RFC 3339 time or epoch milliseconds',
      spellcheck: 'false',
      autocomplete: 'off',
    });
  const fromInput = field('from', initial.from);
  const toInput = field('to', initial.to);
  const custom = h('span', { class: 'custom-range', hidden: isPreset }, fromInput, h('span', { class: 'muted' }, '→'), toInput);
  const value = (): TimeWindow =>
    select.value === CUSTOM
      ? { from: fromInput.value.trim() || 'now-24h', to: toInput.value.trim() || 'now' }
      : { from: select.value, to: 'now' };
  select.addEventListener('change', () => {
    if (select.value === CUSTOM) {
      custom.hidden = false;
      fromInput.focus();
      return;
    }
    onChange(value());
  });
  for (const input of [fromInput, toInput]) {
    input.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      // Inside a form, Enter submits it and the form reads value(); alone, apply here.
      if (input.form === null) {
        e.preventDefault();
        onChange(value());
      }
    });
  }
  return { element: h('span', { class: 'time-range' }, select, custom), value };
}
