import type { ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { type TimeWindow, timeRange } from './time-range.js';

export interface QueryBar {
  element: HTMLFormElement;
  /** Shows a query error under the input, with a caret at its column (1-based); null clears. */
  showError: (err: ApiError | null) => void;
}

/**
 * A search-language input with a time range picker. Submitting (or picking a preset range) calls
 * `onSubmit` with the query and window; a query error from the server is shown at its column.
 */
export function queryBar(
  initial: { query: string } & TimeWindow,
  onSubmit: (query: string, window: TimeWindow) => void,
  options: { label?: string; placeholder?: string; button?: string } = {},
): QueryBar {
  const input = h('input', {
    class: 'query',
    type: 'search',
    name: 'query',
    value: initial.query,
    placeholder: options.placeholder ?? 'service:api env:prod -pgo:true',
    'aria-label': options.label ?? 'Search query',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const range = timeRange(initial, (w) => onSubmit(input.value.trim(), w));
  const error = h('div', { class: 'query-error', role: 'alert', hidden: true, 'data-testid': 'query-error' });
  const element = h(
    'form',
    { class: 'querybar', role: 'search' },
    h('div', { class: 'field' }, input, error),
    range.element,
    h('button', { class: 'primary', type: 'submit' }, options.button ?? 'Search'),
  );
  element.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit(input.value.trim(), range.value());
  });
  return {
    element,
    showError(err) {
      if (err === null) {
        error.hidden = true;
        input.removeAttribute('aria-invalid');
        return;
      }
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      if (err.column !== undefined) {
        const col = Math.max(1, err.column);
        replace(error, err.message, h('pre', { 'aria-hidden': 'true' }, `${input.value}\n${' '.repeat(col - 1)}^`));
        input.focus();
        input.setSelectionRange(col - 1, col - 1);
      } else {
        replace(error, err.message);
      }
    },
  };
}
