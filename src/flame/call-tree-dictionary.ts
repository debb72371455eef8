import { GrowableInt32 } from '../pprof/growable.js';
import type { PreparedForm } from './prepared-form.js';

/** Thrown when one view's profiles hold more distinct call paths than a dictionary may take. */
export class CallTreeTooLargeError extends Error {
  override name = 'CallTreeTooLargeError';
}

/** Bytes a dictionary holds per node: parent, name, first-of-name flag and two child-table slots of three ints. */
export const DICTIONARY_BYTES_PER_NODE = 4 + 4 + 1 + 24;

/** Hash of a (parent node, name) pair for the child table (murmur3's finaliser, as FlameTreeAccumulator's). */
export function childHash(parent: number, name: number): number {
  let h = Math.imul(parent ^ Math.imul(name, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The union of the call trees of many profiles, in function-name space: every distinct stack
 * path (root to frame, by function names) is one node, numbered in creation order, so a parent's
 * number is always below its children's. Profiles are mapped into it once (`map`), after which
 * merging any selection of them is a dense add over node numbers.
 *
 * It only grows; `maxNodes` bounds it: `map` throws CallTreeTooLargeError rather than pass it,
 * and the owner replaces a dictionary that has grown past its soft bound between views.
 */
export class CallTreeDictionary {
  readonly names: string[] = ['total'];
  private readonly nameIds = new Map<string, number>([['total', 0]]);
  readonly parent = new GrowableInt32(1 << 12);
  readonly name = new GrowableInt32(1 << 12);
  /**
   * Per node: 1 when no ancestor has the same name. A function's cumulative value is the sum of
   * the totals of these nodes, so recursion counts once, as FlameTreeAccumulator's `cum` does.
   */
  firstOfName = new Uint8Array(1 << 12);
  private table = new Int32Array(3 << 12);
  private mask = (1 << 12) - 1;

  constructor(readonly maxNodes: number) {
    this.parent.push(-1);
    this.name.push(0);
    this.firstOfName[0] = 0;
  }

  /** Number of nodes, the root included. */
  get size(): number {
    return this.parent.length;
  }

  /** Approximate bytes held. */
  get bytes(): number {
    return this.parent.data.length * 8 + this.firstOfName.length + this.table.length * 4;
  }

  /** Returns the dictionary's node for every node of `form` (the root maps to 0), creating the missing ones. */
  map(form: PreparedForm): Int32Array {
    const nameId = new Int32Array(form.names.length);
    for (let k = 0; k < form.names.length; k++) nameId[k] = this.intern(form.names[k]);
    const n = form.parent.length;
    const out = new Int32Array(n);
    for (let i = 1; i < n; i++) out[i] = this.childOf(out[form.parent[i]], nameId[form.name[i]]);
    return out;
  }

  private intern(s: string): number {
    let id = this.nameIds.get(s);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(s);
      this.nameIds.set(s, id);
    }
    return id;
  }

  private childOf(parent: number, name: number): number {
    const mask = this.mask;
    let slot = childHash(parent, name) & mask;
    for (;;) {
      const at = slot * 3;
      const entry = this.table[at + 2];
      if (entry === 0) break;
      if (this.table[at] === parent && this.table[at + 1] === name) return entry - 1;
      slot = (slot + 1) & mask;
    }
    const node = this.parent.length;
    if (node >= this.maxNodes) {
      throw new CallTreeTooLargeError(`the selected profiles hold more than ${this.maxNodes.toLocaleString('en')} distinct call paths`);
    }
    this.parent.push(parent);
    this.name.push(name);
    if (node >= this.firstOfName.length) {
      const grown = new Uint8Array(this.firstOfName.length * 2);
      grown.set(this.firstOfName);
      this.firstOfName = grown;
    }
    let first = 1;
    const parents = this.parent.data;
    const names = this.name.data;
    for (let a = parent; a > 0; a = parents[a]) {
      if (names[a] === name) {
        first = 0;
        break;
      }
    }
    this.firstOfName[node] = first;
    const at = slot * 3;
    this.table[at] = parent;
    this.table[at + 1] = name;
    this.table[at + 2] = node + 1;
    if (node * 2 > mask) this.grow();
    return node;
  }

  /** Doubles the child table, re-inserting what it holds. */
  private grow(): void {
    const old = this.table;
    const slots = (this.mask + 1) * 2;
    const table = new Int32Array(slots * 3);
    const mask = slots - 1;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at + 2] === 0) continue;
      let slot = childHash(old[at], old[at + 1]) & mask;
      while (table[slot * 3 + 2] !== 0) slot = (slot + 1) & mask;
      table[slot * 3] = old[at];
      table[slot * 3 + 1] = old[at + 1];
      table[slot * 3 + 2] = old[at + 2];
    }
    this.table = table;
    this.mask = mask;
  }
}
