import type { TreeJson } from '../api.js';
import { h } from '../dom.js';
import { FlameGraph } from '../flame/flame-graph.js';
import { layoutTree } from '../flame/layout.js';
import { sandwichOf } from '../flame/sandwich.js';
import { formatValue } from '../format.js';

export interface SandwichPanelOptions {
  unit: string;
  mainModule: string | null;
  /** Frames the server left out of the tree: the sandwich's totals may then be below the cum. */
  droppedNodes: number;
  onClose: () => void;
  /** Opens the sandwich of another function (right-click on a frame of either half). */
  onSandwich: (fn: string) => void;
}

/**
 * The sandwich view of one function: its callers above (an inverted flame graph whose root, at
 * the bottom, is the function) and its callees below. Both halves total the function's
 * cumulative value; the section carries the totals as data attributes for tests.
 */
export function sandwichPanel(tree: TreeJson, fn: string, options: SandwichPanelOptions): { element: HTMLElement; dispose: () => void } {
  const s = sandwichOf(layoutTree(tree), fn);
  const graph = (half: TreeJson, inverted: boolean) =>
    new FlameGraph(half, {
      unit: options.unit,
      title: `${inverted ? 'Callers' : 'Callees'} of ${fn}`,
      inverted,
      rootName: fn,
      mainModule: options.mainModule,
      onSandwich: options.onSandwich,
    });
  const callers = graph(s.callers, true);
  const callees = graph(s.callees, false);
  const element = h(
    'section',
    {
      class: 'sandwich panel',
      'aria-label': `Sandwich view of ${fn}`,
      'data-testid': 'sandwich',
      'data-function': fn,
      'data-callers-total': s.callers.total?.[0] ?? 0,
      'data-callees-total': s.callees.total?.[0] ?? 0,
    },
    h(
      'div',
      { class: 'row' },
      h('h2', { class: 'grow' }, `Sandwich: ${fn}`),
      h('button', { type: 'button', onclick: () => options.onClose() }, 'Close sandwich'),
    ),
    h(
      'p',
      { class: 'muted' },
      `${formatValue(s.total, options.unit)} cumulative, in ${s.occurrences} place${s.occurrences === 1 ? '' : 's'} of the graph. Callers above (the function at the bottom), callees below; recursive stacks are counted once.`,
      options.droppedNodes > 0
        ? ' The server left out the smallest frames of this graph, so these totals may be a little below the table’s.'
        : '',
    ),
    h('h3', {}, 'Callers'),
    h('div', { 'data-testid': 'sandwich-callers' }, callers.element),
    h('h3', {}, 'Callees'),
    h('div', { 'data-testid': 'sandwich-callees' }, callees.element),
  );
  callers.render();
  callees.render();
  return {
    element,
    dispose: () => {
      callers.dispose();
      callees.dispose();
    },
  };
}
