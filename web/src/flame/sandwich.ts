import type { TreeJson } from '../api.js';
import type { FlameLayout } from './layout-types.js';

/** The two halves of a function's sandwich view, as flame trees the FlameGraph draws. */
export interface Sandwich {
  /** Callers, inverted: the root is the function, its children its callers, theirs their callers, up to the stack roots. */
  callers: TreeJson;
  /** Callees: the root is the function, below it everything it called, merged over every place it ran. */
  callees: TreeJson;
  /** The function's cumulative value: both roots' totals. */
  total: number;
  /** Stacks through the function at an outermost call (the places merged). */
  occurrences: number;
}

interface TrieNode {
  name: number;
  total: number;
  self: number;
  children: Map<number, TrieNode>;
}

function trieNode(name: number): TrieNode {
  return { name, total: 0, self: 0, children: new Map() };
}

function child(parent: TrieNode, name: number): TrieNode {
  let c = parent.children.get(name);
  if (c === undefined) {
    c = trieNode(name);
    parent.children.set(name, c);
  }
  return c;
}

/** A trie as a depth-first TreeJson, children by name, so it draws like the server's trees. */
function toTree(root: TrieNode, names: string[]): TreeJson {
  const out: TreeJson = { names, name: [], depth: [], self: [], total: [] };
  const stack: Array<[TrieNode, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [TrieNode, number];
    out.name.push(node.name);
    out.depth.push(depth);
    out.self?.push(node.self);
    out.total?.push(node.total);
    const kids = [...node.children.values()].sort((a, b) => (names[a.name] < names[b.name] ? -1 : names[a.name] > names[b.name] ? 1 : 0));
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
  }
  return out;
}

/**
 * Returns the sandwich of function `fn` in a plain flame tree: who called it (inverted) and what
 * it called. A stack is counted once at its outermost frame of `fn`, so with recursion the
 * callers and callees both total the function's cumulative value, as the top table's "cum"
 * does, and recursive calls show as callees of themselves. Trees the server pruned lack their
 * smallest frames, so the totals can be below the full cum by what was pruned.
 */
export function sandwichOf(layout: FlameLayout, fn: string): Sandwich {
  // A function the tree does not hold (pruned, or a stale URL) gives empty halves named after it.
  const names = layout.names.includes(fn) ? layout.names : [...layout.names, fn];
  const target = names.indexOf(fn);
  const callersRoot = trieNode(target);
  const calleesRoot = trieNode(target);
  let occurrences = 0;
  for (let i = 1; i < layout.name.length; ) {
    if (layout.name[i] !== target) {
      i++;
      continue;
    }
    // Outermost frame of fn on this path: its subtree holds every stack through it once.
    const value = layout.width[i];
    occurrences++;
    let up = callersRoot;
    up.total += value;
    for (let p = layout.parent[i]; p > 0; p = layout.parent[p]) {
      up = child(up, layout.name[p]);
      up.total += value;
    }
    up.self += value;
    const base = layout.depth[i];
    const path: TrieNode[] = [calleesRoot];
    for (let j = i; j < layout.end[i]; j++) {
      const d = layout.depth[j] - base;
      path.length = d + 1;
      const node = d === 0 ? calleesRoot : child(path[d - 1], layout.name[j]);
      path[d] = node;
      node.total += layout.width[j];
      node.self += layout.self[j];
    }
    i = layout.end[i];
  }
  return { callers: toTree(callersRoot, names), callees: toTree(calleesRoot, names), total: callersRoot.total, occurrences };
}
