import type { ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { RANGES } from '../format.js';

export interface QueryBar {
  element: HTMLFormElement;
  /** Shows a query error under the input, with a caret at its column (1-based); null clears. */
  showError: (err: ApiError | null) => void;
}

/**
 * A search-language input with a time range picker. Submitting calls `onSubmit` with the query
 * and range; a query error from the server is shown at its column.
 */
export function queryBar(
  initial: { query: string; from: string },
  onSubmit: (query: string, from: string) => void,
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
  const range = h('select', { name: 'from', 'aria-label': 'Time range' });
  for (const [value, label] of RANGES) range.append(h('option', { value, selected: value === initial.from }, label));
  if (!RANGES.some(([v]) => v === initial.from)) range.append(h('option', { value: initial.from, selected: true }, initial.from));
  const error = h('div', { class: 'query-error', role: 'alert', hidden: true, 'data-testid': 'query-error' });
  const element = h(
    'form',
    { class: 'querybar', role: 'search' },
    h('div', { class: 'field' }, input, error),
    range,
    h('button', { class: 'primary', type: 'submit' }, options.button ?? 'Search'),
  );
  element.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit(input.value.trim(), range.value);
  });
  range.addEventListener('change', () => onSubmit(input.value.trim(), range.value));
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
