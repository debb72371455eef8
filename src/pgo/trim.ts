import { ProfileBuilder } from '../pprof/builder.js';
import { ProfileError } from '../pprof/errors.js';
import type { Profile } from '../pprof/profile.js';
import { SequenceInterner } from '../pprof/sequence-interner.js';

/** The only sample types the Go compiler reads from a PGO profile. */
const PGO_SAMPLE_TYPES = new Set(['samples/count', 'cpu/nanoseconds']);

/** Values must lie in [-2^53, 2^53), the range the decoder accepts (exact integers in a float64). */
const MAX_VALUE = 2 ** 53;

/** How many leaf locations of a stack the compiler's call graph looks at. */
export const PGO_KEPT_LOCATIONS = 2;

/**
 * Returns the smallest profile that makes `go build -pgo` take the same decisions as `p`:
 * - only the samples/count and cpu/nanoseconds values are kept (in their original order, so
 *   the compiler picks the same one);
 * - each stack is cut to its two leaf locations, with all their inlined lines, because the
 *   compiler only forms an edge from the leaf location and its caller;
 * - labels, mappings, comments and drop/keep frames are dropped, functions keep only their
 *   name and start line (the compiler reads no file names);
 * - addresses are replaced by 1 (leaf) and 2 (caller), or 1 for both when the two original
 *   addresses were equal. The compiler's graph keys nodes by (name, address, start line,
 *   line) and drops self-edges and repeated edges within a sample, so dropping addresses
 *   outright would merge the leaf and caller nodes of a recursive call on one line and lose
 *   that edge; slot addresses keep exactly the distinctions the original addresses made
 *   within a sample. Across samples, merging nodes only matters when their weights can
 *   cancel out (the compiler forgets zero-weight nodes), so a profile with negative values
 *   (a delta profile) keeps its original addresses instead;
 * - samples with the same remaining stack are summed, all-zero samples dropped.
 * `go tool preprofile` of the result equals that of `p`. Throws ProfileError when `p` has
 * neither sample type (it is not a CPU profile), or when summed values leave [-2^53, 2^53)
 * (the result could not be decoded again).
 */
export function trimForPgo(p: Profile): Profile {
  const keep: number[] = [];
  for (let i = 0; i < p.sampleTypes.length; i += 2) {
    const name = `${p.strings[p.sampleTypes[i]]}/${p.strings[p.sampleTypes[i + 1]]}`;
    if (PGO_SAMPLE_TYPES.has(name)) keep.push(i >> 1);
  }
  if (keep.length === 0) {
    const types: string[] = [];
    for (let i = 0; i < p.sampleTypes.length; i += 2) types.push(`${p.strings[p.sampleTypes[i]]}/${p.strings[p.sampleTypes[i + 1]]}`);
    throw new ProfileError(
      `not a CPU profile: PGO needs a samples/count or cpu/nanoseconds sample type, this profile has [${types.join(' ')}]`,
    );
  }

  const out = new ProfileBuilder();
  out.setSampleTypes(keep.map((k) => ({ type: p.strings[p.sampleTypes[2 * k]], unit: p.strings[p.sampleTypes[2 * k + 1]] })));
  out.setPeriodType(p.strings[p.periodType[0]], p.strings[p.periodType[1]]);
  out.header.period = p.period;
  out.header.timeNanos = p.timeNanos;
  out.header.durationNanos = p.durationNanos;

  const strMap = new Int32Array(p.strings.length).fill(-1);
  const str = (i: number): number => {
    let m = strMap[i];
    if (m < 0) {
      m = out.string(p.strings[i]);
      strMap[i] = m;
    }
    return m;
  };
  const functionKeys = new Map<string, number>();
  const fnMap = new Int32Array(p.functions.count).fill(-1);
  const mapFunction = (f: number): number => {
    let m = fnMap[f];
    if (m >= 0) return m;
    const fns = p.functions;
    // Only the name and start line reach the compiler; file names are most of a trimmed
    // profile's strings, so they are left out.
    const name = str(fns.name[f]);
    const key = `${name},${fns.startLine[f]}`;
    const existing = functionKeys.get(key);
    m = existing ?? out.addFunctionIndexes(name, 0, 0, fns.startLine[f]);
    if (existing === undefined) functionKeys.set(key, m);
    fnMap[f] = m;
    return m;
  };
  const locationKeys = new Map<string, number>();
  const locs = p.locations;
  const s = p.samples;
  const V = p.sampleTypes.length >> 1;
  const K = keep.length;
  let keepAddresses = false;
  for (let i = 0; i < s.count && !keepAddresses; i++) {
    for (let k = 0; k < K; k++) if (s.values[i * V + keep[k]] < 0) keepAddresses = true;
  }
  const addressWords = new Uint32Array(p.locations.address.buffer, p.locations.address.byteOffset, p.locations.count * 2);

  // A location row can become two trimmed locations (one per address slot).
  const locMap = [new Int32Array(p.locations.count).fill(-1), new Int32Array(p.locations.count).fill(-1)];
  const mapLocation = (loc: number, slot: number): number => {
    const memo = locMap[slot - 1];
    let m = memo[loc];
    if (m >= 0) return m;
    let key = keepAddresses ? `${addressWords[2 * loc]}.${addressWords[2 * loc + 1]}:` : `${slot}:`;
    for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) {
      const f = locs.lineFunction[l];
      key += `${f >= 0 ? mapFunction(f) : -1},${locs.lineLine[l]},${locs.lineColumn[l]};`;
    }
    const existing = locationKeys.get(key);
    if (existing !== undefined) {
      m = existing;
    } else {
      m = out.locId.length;
      out.locId.push(m + 1);
      out.locMapping.push(-1);
      if (keepAddresses) out.locAddress.pushWords(addressWords[2 * loc], addressWords[2 * loc + 1]);
      else out.locAddress.push(BigInt(slot));
      out.locIsFolded.push(0);
      for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) {
        const f = locs.lineFunction[l];
        out.lineFunction.push(f >= 0 ? fnMap[f] : -1);
        out.lineLine.push(locs.lineLine[l]);
        out.lineColumn.push(locs.lineColumn[l]);
      }
      out.locLineStart.push(out.lineFunction.length);
      locationKeys.set(key, m);
    }
    memo[loc] = m;
    return m;
  };

  const stacks = new SequenceInterner(Math.min(s.count, 1 << 16));
  const key = new Uint32Array(PGO_KEPT_LOCATIONS);
  for (let i = 0; i < s.count; i++) {
    let zero = true;
    for (let k = 0; k < K; k++) if (s.values[i * V + keep[k]] !== 0) zero = false;
    if (zero) continue;
    const a = s.locStart[i];
    const n = Math.min(s.locStart[i + 1] - a, PGO_KEPT_LOCATIONS);
    const leaf = s.locs[a];
    if (n > 0) key[0] = mapLocation(leaf, 1);
    if (n === 2) {
      const caller = s.locs[a + 1];
      key[1] = mapLocation(caller, locs.address[caller] === locs.address[leaf] ? 1 : 2);
    }
    const before = stacks.count;
    const id = stacks.intern(key, 0, n);
    if (id < before) {
      const data = out.sampleValues.data;
      for (let k = 0; k < K; k++) {
        const sum = data[id * K + k] + s.values[i * V + keep[k]];
        // The decoder refuses values outside [-2^53, 2^53), so a sum there would make a PGO
        // form that no reader of ours can load again.
        if (sum >= MAX_VALUE || sum < -MAX_VALUE) {
          throw new ProfileError(
            `sample values too large: the samples that share a trimmed stack add up to more than 2^53 ${p.strings[p.sampleTypes[2 * keep[k]]]}/${p.strings[p.sampleTypes[2 * keep[k] + 1]]}, not supported`,
          );
        }
        data[id * K + k] = sum;
      }
    } else {
      for (let j = 0; j < n; j++) out.sampleLocs.push(key[j]);
      out.sampleLocStart.push(out.sampleLocs.length);
      for (let k = 0; k < K; k++) out.sampleValues.push(s.values[i * V + keep[k]]);
      out.sampleLabelStart.push(0);
    }
  }
  const trimmed = out.finish();
  return dropZeroSamples(trimmed);
}

/** Returns p without samples whose values are all zero (sums of opposite deltas). */
function dropZeroSamples(p: Profile): Profile {
  const V = p.sampleTypes.length >> 1;
  const s = p.samples;
  let zeros = 0;
  for (let i = 0; i < s.count; i++) {
    let zero = true;
    for (let k = 0; k < V; k++) if (s.values[i * V + k] !== 0) zero = false;
    if (zero) zeros++;
  }
  if (zeros === 0) return p;
  const n = s.count - zeros;
  const locStart = new Uint32Array(n + 1);
  const locs: number[] = [];
  const values = new Float64Array(n * V);
  let o = 0;
  for (let i = 0; i < s.count; i++) {
    let zero = true;
    for (let k = 0; k < V; k++) if (s.values[i * V + k] !== 0) zero = false;
    if (zero) continue;
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) locs.push(s.locs[j]);
    for (let k = 0; k < V; k++) values[o * V + k] = s.values[i * V + k];
    locStart[++o] = locs.length;
  }
  p.samples = { ...s, count: n, locStart, locs: Uint32Array.from(locs), values, labelStart: new Uint32Array(n + 1) };
  return p;
}
