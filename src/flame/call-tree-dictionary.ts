import { GrowableInt32 } from '../pprof/growable.js';
import type { PreparedForm } from './prepared-form.js';

/** Thrown when one view's profiles hold more distinct call paths than a dictionary may take. */
export class CallTreeTooLargeError extends Error {
  override name = 'CallTreeTooLargeError';
}

/** Bytes a dictionary holds per node at most: parent, name, first child, next sibling, child count, first-of-name flag, two child-table slots of three ints. */
export const DICTIONARY_BYTES_PER_NODE = 5 * 4 + 1 + 24;

/** Children a node keeps in its sibling list before they move to the hash table. */
const LIST_CHILDREN = 8;

/** Hash of a (parent node, name) pair for the child table (murmur3's finaliser: the table masks the low bits, so every input bit must reach them). */
function childHash(parent: number, name: number): number {
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
  /** Per node, its newest child (-1 for none); with nextSibling, every child of a node. Only `map` and `childOf` write it. */
  readonly firstChild = new GrowableInt32(1 << 12);
  /** Per node, the next older child of its parent (-1 after the oldest). Only `map` and `childOf` write it. */
  readonly nextSibling = new GrowableInt32(1 << 12);
  private readonly childCount = new GrowableInt32(1 << 12);
  /** Children of nodes with more than LIST_CHILDREN, three ints per slot: parent, name, node + 1 (0 = empty). */
  private table = new Int32Array(3 << 12);
  private mask = (1 << 12) - 1;
  private tableCount = 0;

  /**
   * `trackFirstOfName` false skips the first-of-name flags (a walk up the path per new node) for
   * a tree that only needs its shape, as a prepared form being built does.
   */
  constructor(
    readonly maxNodes: number,
    private readonly trackFirstOfName = true,
  ) {
    this.parent.push(-1);
    this.name.push(0);
    this.firstChild.push(-1);
    this.nextSibling.push(-1);
    this.childCount.push(0);
    this.firstOfName[0] = 0;
  }

  /** Number of nodes, the root included. */
  get size(): number {
    return this.parent.length;
  }

  /** Approximate bytes held. */
  get bytes(): number {
    return this.parent.data.length * 20 + this.firstOfName.length + this.table.length * 4;
  }

  private nameRanks = new Int32Array(0);

  /**
   * Per function name, its place among all names in string order (`<`), so nodes are ordered by
   * name with integer compares; sorted again only after names were added.
   */
  nameOrder(): Int32Array {
    if (this.nameRanks.length !== this.names.length) {
      const names = this.names;
      const byName = Array.from(names.keys()).sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
      const ranks = new Int32Array(names.length);
      byName.forEach((id, rank) => {
        ranks[id] = rank;
      });
      this.nameRanks = ranks;
    }
    return this.nameRanks;
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

  /** Returns the id of function name `s`, adding it. */
  intern(s: string): number {
    let id = this.nameIds.get(s);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(s);
      this.nameIds.set(s, id);
    }
    return id;
  }

  /**
   * Returns the child of `parent` named `name`, creating it. A node's children are found through a
   * sibling list while it has few and through the hash table once it has many: a profile's nodes
   * are mostly chains of single children, and the list reads memory next to what the previous
   * step read where a hash probe would miss the cache (a hash lookup per frame was several times
   * slower on 100-profile aggregates).
   */
  childOf(parent: number, name: number): number {
    const count = this.childCount.data[parent];
    if (count <= LIST_CHILDREN) {
      const names = this.name.data;
      const next = this.nextSibling.data;
      for (let c = this.firstChild.data[parent]; c >= 0; c = next[c]) if (names[c] === name) return c;
    } else {
      const found = this.tableLookup(parent, name);
      if (found >= 0) return found;
    }
    const node = this.parent.length;
    if (node >= this.maxNodes) {
      throw new CallTreeTooLargeError(`the selected profiles hold more than ${this.maxNodes.toLocaleString('en')} distinct call paths`);
    }
    this.parent.push(parent);
    this.name.push(name);
    this.firstChild.push(-1);
    this.nextSibling.push(this.firstChild.data[parent]);
    this.childCount.push(0);
    this.firstChild.data[parent] = node;
    this.childCount.data[parent] = count + 1;
    if (count + 1 > LIST_CHILDREN) {
      // Just past the list limit: every child moves into the table; afterwards, only the new one.
      if (count === LIST_CHILDREN) for (let c = node; c >= 0; c = this.nextSibling.data[c]) this.tableInsert(parent, this.name.data[c], c);
      else this.tableInsert(parent, name, node);
    }
    if (!this.trackFirstOfName) return node;
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
    return node;
  }

  private tableLookup(parent: number, name: number): number {
    const table = this.table;
    const mask = this.mask;
    for (let slot = childHash(parent, name) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 3;
      const entry = table[at + 2];
      if (entry === 0) return -1;
      if (table[at] === parent && table[at + 1] === name) return entry - 1;
    }
  }

  private tableInsert(parent: number, name: number, child: number): void {
    if ((this.tableCount + 1) * 2 > this.mask + 1) this.grow();
    const table = this.table;
    const mask = this.mask;
    let slot = childHash(parent, name) & mask;
    while (table[slot * 3 + 2] !== 0) slot = (slot + 1) & mask;
    table[slot * 3] = parent;
    table[slot * 3 + 1] = name;
    table[slot * 3 + 2] = child + 1;
    this.tableCount++;
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
