import { ProfileError } from '../pprof/errors.js';
import type { Profile } from '../pprof/profile.js';
import { pgoValueIndex } from './value-index.js';

/** One call edge as the Go compiler keys it: caller, callee, call-site offset (line − start line). */
export interface CallEdge {
  caller: string;
  callee: string;
  offset: number;
  weight: number;
}

export interface CallEdges {
  /** Sorted as the compiler sorts them: weight descending, then caller, callee, offset ascending. */
  edges: CallEdge[];
  /** Sum of all edge weights (not of samples): the denominator of the hot-call-site CDF. */
  totalWeight: number;
  /** The sample type whose values are the weights, e.g. "samples/count". */
  valueType: string;
}

/**
 * Returns the call edges `go build -pgo` derives from `p` (cmd/internal/pgo FromPProf over
 * internal/profile NewGraph):
 * - weights come from the first sample type that is samples/count or cpu/nanoseconds;
 * - only the two leaf locations of a stack count; their lines are walked from the caller's
 *   outermost frame down to the leaf's innermost one, forming one chain of nodes;
 * - a node is (function name, address, start line, line); an edge joins consecutive nodes of
 *   the chain unless they are the same node, and a node pair counts once per sample;
 * - edges are then summed by (caller name, callee name, caller line − caller start line).
 * Throws ProfileError with the compiler's reasons when it would reject the profile: no usable
 * sample type, or no function with a start line.
 */
export function computeCallEdges(p: Profile): CallEdges {
  const empty = (valueType: string): CallEdges => ({ edges: [], totalWeight: 0, valueType });
  const vi = pgoValueIndex(p);
  if (p.samples.count === 0) return empty(vi < 0 ? '' : valueTypeName(p, vi));
  if (vi < 0) {
    throw new ProfileError('not usable for PGO: the profile has no samples/count or cpu/nanoseconds sample type (is it a CPU profile?)');
  }
  const V = p.sampleTypes.length >> 1;
  const locs = p.locations;
  const fns = p.functions;
  const s = p.samples;

  // One node per distinct (name, address, start line, line), resolved once per line row.
  const nodeOfLine = new Int32Array(locs.lineFunction.length).fill(-1);
  const nodeIndex = new Map<string, number>();
  const nodeName: string[] = [];
  const nodeOffset: number[] = [];
  const nodeStartLine: number[] = [];
  const nodeFor = (loc: number, line: number): number => {
    // A location without lines is one nameless node at its address.
    const fn = line < 0 ? -1 : locs.lineFunction[line];
    const name = fn < 0 ? '' : p.strings[fns.name[fn]];
    const startLine = fn < 0 ? 0 : fns.startLine[fn];
    const lineNo = fn < 0 || line < 0 ? 0 : locs.lineLine[line];
    const key = `${locs.address[loc]}|${startLine}|${lineNo}|${name}`;
    let n = nodeIndex.get(key);
    if (n === undefined) {
      n = nodeName.length;
      nodeIndex.set(key, n);
      nodeName.push(name);
      nodeOffset.push(lineNo - startLine);
      nodeStartLine.push(startLine);
    }
    return n;
  };
  const emptyLocationNode = new Map<number, number>();

  const chain: number[] = [];
  const seenPairs: number[] = [];
  const nodeCum = new Map<number, number>();
  const nodeFlat = new Map<number, number>();
  const pairWeight = new Map<string, number>();

  for (let i = 0; i < s.count; i++) {
    const w = s.values[i * V + vi];
    if (w === 0) continue;
    const a = s.locStart[i];
    const n = s.locStart[i + 1] - a;
    chain.length = 0;
    for (let k = Math.min(n, 2) - 1; k >= 0; k--) {
      const loc = s.locs[a + k];
      const from = locs.lineStart[loc];
      const to = locs.lineStart[loc + 1];
      if (to === from) {
        let node = emptyLocationNode.get(loc);
        if (node === undefined) {
          node = nodeFor(loc, -1);
          emptyLocationNode.set(loc, node);
        }
        chain.push(node);
        continue;
      }
      for (let l = to - 1; l >= from; l--) {
        let node = nodeOfLine[l];
        if (node < 0) {
          node = nodeFor(loc, l);
          nodeOfLine[l] = node;
        }
        chain.push(node);
      }
    }
    if (chain.length === 0) continue;
    // Cum once per node per sample, flat on the leaf-most node.
    const counted = new Set<number>();
    for (const node of chain) {
      if (!counted.has(node)) {
        counted.add(node);
        nodeCum.set(node, (nodeCum.get(node) ?? 0) + w);
      }
    }
    const leaf = chain[chain.length - 1];
    nodeFlat.set(leaf, (nodeFlat.get(leaf) ?? 0) + w);
    seenPairs.length = 0;
    for (let c = 1; c < chain.length; c++) {
      const parent = chain[c - 1];
      const child = chain[c];
      if (parent === child) continue;
      let seen = false;
      for (let q = 0; q < seenPairs.length; q += 2) {
        if (seenPairs[q] === parent && seenPairs[q + 1] === child) {
          seen = true;
          break;
        }
      }
      if (seen) continue;
      seenPairs.push(parent, child);
      const key = `${parent},${child}`;
      pairWeight.set(key, (pairWeight.get(key) ?? 0) + w);
    }
  }

  let seenStartLine = false;
  for (const [node, cum] of nodeCum) {
    if ((cum !== 0 || (nodeFlat.get(node) ?? 0) !== 0) && nodeStartLine[node] !== 0) seenStartLine = true;
  }
  if (!seenStartLine) {
    throw new ProfileError(
      'not usable for PGO: the profile has no Function.start_line data (Go 1.20+ runtimes write it; was it re-symbolized or produced by an old Go?)',
    );
  }

  const named = new Map<string, CallEdge>();
  let totalWeight = 0;
  for (const [key, weight] of pairWeight) {
    const comma = key.indexOf(',');
    const parent = Number(key.slice(0, comma));
    const child = Number(key.slice(comma + 1));
    // The compiler forgets nodes whose weights cancel out, and their out-edges with them.
    if ((nodeCum.get(parent) ?? 0) === 0 && (nodeFlat.get(parent) ?? 0) === 0) continue;
    const caller = nodeName[parent];
    const callee = nodeName[child];
    const offset = nodeOffset[parent];
    const namedKey = `${offset}\u0000${caller}\u0000${callee}`;
    const edge = named.get(namedKey);
    if (edge) edge.weight += weight;
    else named.set(namedKey, { caller, callee, offset, weight });
    totalWeight += weight;
  }
  const edges = [...named.values()].sort(compareEdges);
  return { edges, totalWeight, valueType: valueTypeName(p, vi) };
}

function valueTypeName(p: Profile, vi: number): string {
  return `${p.strings[p.sampleTypes[2 * vi]]}/${p.strings[p.sampleTypes[2 * vi + 1]]}`;
}

/** The compiler's edge order: weight descending, then caller, callee, offset ascending (byte order). */
export function compareEdges(a: CallEdge, b: CallEdge): number {
  if (a.weight !== b.weight) return b.weight - a.weight;
  if (a.caller !== b.caller) return a.caller < b.caller ? -1 : 1;
  if (a.callee !== b.callee) return a.callee < b.callee ? -1 : 1;
  return a.offset - b.offset;
}

/** Returns the edges in `go tool preprofile`'s text form ("GO PREPROFILE V1", then caller, callee, "offset weight"). */
export function formatPreprofile(edges: readonly CallEdge[]): string {
  let out = 'GO PREPROFILE V1\n';
  for (const e of edges) out += `${e.caller}\n${e.callee}\n${e.offset} ${e.weight}\n`;
  return out;
}
