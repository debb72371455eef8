import assert from 'node:assert/strict';
import { NO_INLINE_PREFIX } from '../../src/pgo/safety.js';

/** Splits `go tool preprofile` output into its edges, each "caller\ncallee\noffset weight", in file order. */
export function preprofileEdges(text: string): string[] {
  const lines = text.trimEnd().split('\n').slice(1);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += 3) out.push(`${lines[i]}\n${lines[i + 1]}\n${lines[i + 2]}`);
  return out;
}

const touches = (edge: string, names: ReadonlySet<string>): boolean => edge.split('\n', 2).some((n) => names.has(n));
const weights = (edges: string[]): string[] => edges.map((e) => e.split('\n')[2]).sort();

/**
 * Asserts that `ours` (preprofile of a file with safety renames) equals `theirs` (preprofile of
 * the same profiles without them) except for the edges of renamed functions, which must carry
 * the same weights under the new names. Which functions were renamed is read from `ours`, so a
 * real profile that happens to have runtime.gopark as a leaf is handled too. Returns the
 * original names of the renamed functions.
 */
export function assertSamePreprofileRenamesAside(ours: string, theirs: string): Set<string> {
  const oursEdges = preprofileEdges(ours);
  const renamed = new Set<string>();
  const originals = new Set<string>();
  for (const edge of oursEdges) {
    for (const name of edge.split('\n', 2)) {
      if (name.startsWith(NO_INLINE_PREFIX)) {
        renamed.add(name);
        originals.add(name.slice(NO_INLINE_PREFIX.length));
      }
    }
  }
  const theirsEdges = preprofileEdges(theirs);
  assert.deepEqual(
    oursEdges.filter((e) => !touches(e, renamed)),
    theirsEdges.filter((e) => !touches(e, originals)),
  );
  assert.deepEqual(weights(oursEdges.filter((e) => touches(e, renamed))), weights(theirsEdges.filter((e) => touches(e, originals))));
  return originals;
}
