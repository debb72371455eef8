import type { FlameJson } from '../../api/types.js';
import type { FlameTree } from '../../flame/flame-tree.js';

/** `[a,b,…]` of integers, as JSON.stringify writes an array of them. */
function integersText(values: Int32Array): string {
  return `[${values.join(',')}]`;
}

/**
 * `[a,b,…]` of numbers exactly as JSON.stringify writes them (NaN and ±Infinity as null, -0 as
 * 0). A merged tree repeats few values (many frames hold one sample's worth), so a value equal to
 * the one before reuses its text instead of formatting a double again.
 */
function numbersText(values: Float64Array): string {
  const parts = new Array<string>(values.length);
  let previous = Number.NaN;
  let text = 'null';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== previous) {
      previous = v;
      text = JSON.stringify(v);
    }
    parts[i] = text;
  }
  return `[${parts.join(',')}]`;
}

/** The JSON of a flame tree (FlameTreeJson) written straight from its typed arrays: the same text as JSON.stringify of the plain-array form. */
export function flameTreeJsonText(t: FlameTree): string {
  return `{"names":${JSON.stringify(t.names)},"name":${integersText(t.name)},"depth":${integersText(t.depth)},"self":${numbersText(t.self)},"total":${numbersText(t.total)}}`;
}

/**
 * The text of a flame graph answer: exactly JSON.stringify of the FlameJson whose tree is
 * `tree`, the fields in FlameJson's order, without copying the tree's arrays into JavaScript
 * arrays first (for a 50,000-frame tree that copy cost more than writing the text).
 */
export function flameJsonText(answer: Omit<FlameJson, 'tree'>, tree: FlameTree): string {
  const head = JSON.stringify({
    profiles: answer.profiles,
    profileIds: answer.profileIds,
    seconds: answer.seconds,
    sampleTypes: answer.sampleTypes,
    sampleType: answer.sampleType,
    unit: answer.unit,
    mainModule: answer.mainModule,
    total: answer.total,
    nodes: answer.nodes,
    droppedNodes: answer.droppedNodes,
  });
  const tail = JSON.stringify({ top: answer.top, skipped: answer.skipped });
  return `${head.slice(0, -1)},"tree":${flameTreeJsonText(tree)},${tail.slice(1)}`;
}
