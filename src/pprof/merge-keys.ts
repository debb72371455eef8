import type { FunctionTable, LocationTable } from './profile.js';

/**
 * What makes two functions, mappings, locations or samples of different profiles "the same"
 * when they are merged: the identity keys of google/pprof's profile/merge.go (functionKey,
 * mappingKey, locationKey, sampleKey), written here as uint32 word sequences (numbers as their
 * float64 bits) for SequenceInterner, so finding the merged row builds no string and
 * allocates nothing per row.
 */

/** Maps a source profile's string index to the merged profile's, interning it on first use. */
export interface MergedStrings {
  str(sourceIndex: number): number;
}

/** Label columns (source string indexes), as SampleTable has them. */
export interface LabelColumns {
  labelKey: Int32Array;
  labelStr: Int32Array;
  labelNum: Float64Array;
  labelNumUnit: Int32Array;
}

/** The page size mapping sizes are rounded up to, as pprof's mapsizeRounding. */
const PAGE = 0x1000n;

/** Scratch words that keys are written into before they are interned; grows to the longest key. */
export class KeyWriter {
  words = new Uint32Array(256);
  private readonly float = new Float64Array(1);
  private readonly floatWords = new Uint32Array(this.float.buffer);
  /** (label row, rank) pairs, reused: an array emptied with `length = 0` gives up its storage. */
  private labelOrder = new Int32Array(64);

  /**
   * Writes the function key and returns its length in words. pprof's functionKey: (start line,
   * name, system name, file name), here as merged string indexes.
   */
  functionKey(fns: FunctionTable, f: number, strings: MergedStrings): number {
    const words = this.words;
    words[0] = strings.str(fns.name[f]);
    words[1] = strings.str(fns.systemName[f]);
    words[2] = strings.str(fns.filename[f]);
    this.float[0] = fns.startLine[f];
    words[3] = this.floatWords[0];
    words[4] = this.floatWords[1];
    return 5;
  }

  /**
   * Writes the location key of source location `loc` and returns its length in words.
   * pprof's locationKey: (mapping, address relative to the mapping start, function and line
   * of each line). Here the mapping is the merged row + 1 (0: none), the address is already
   * rebased onto the merged mapping (so equal addresses are equal mapping-relative
   * addresses), and the folded flag and each line's column are part of the key as well, so
   * locations that differ in either are never merged. `fnRows` maps source function rows to
   * merged ones; every function of the location must be mapped already.
   */
  locationKey(locs: LocationTable, loc: number, mapping: number, lo: number, hi: number, fnRows: Int32Array): number {
    const a = locs.lineStart[loc];
    const b = locs.lineStart[loc + 1];
    const need = 4 + 5 * (b - a);
    if (this.words.length < need) this.words = new Uint32Array(need * 2);
    const words = this.words;
    const floatWords = this.floatWords;
    words[0] = mapping + 1;
    words[1] = lo;
    words[2] = hi;
    words[3] = locs.isFolded[loc];
    let w = 4;
    for (let l = a; l < b; l++) {
      const f = locs.lineFunction[l];
      words[w++] = f >= 0 ? fnRows[f] + 1 : 0;
      this.float[0] = locs.lineLine[l];
      words[w++] = floatWords[0];
      words[w++] = floatWords[1];
      this.float[0] = locs.lineColumn[l];
      words[w++] = floatWords[0];
      words[w++] = floatWords[1];
    }
    return w;
  }

  /**
   * Writes the label part of a sample key and returns its length in words: pprof's sampleKey
   * is (location ids, labels, numeric labels); the merger interns the labels alone into a
   * label-set id and keys samples by (stack of merged location rows, label-set id), see
   * Merger.addSample. As in pprof, labels are ordered by key (here: merged string index,
   * string labels before numeric ones) while the values of one key keep their order.
   */
  labelSetKey(labels: LabelColumns, from: number, to: number, strings: MergedStrings): number {
    const keys = labels.labelKey;
    const strs = labels.labelStr;
    const nums = labels.labelNum;
    const units = labels.labelNumUnit;
    const n = to - from;
    if (this.labelOrder.length < 2 * n) this.labelOrder = new Int32Array(4 * n);
    const order = this.labelOrder;
    for (let l = from; l < to; l++) {
      // Stable insertion sort by rank: merged key index, numeric labels after string ones.
      const rank = strings.str(keys[l]) * 2 + (strs[l] !== 0 ? 0 : 1);
      let k = 2 * (l - from);
      while (k > 0 && order[k - 1] > rank) {
        order[k] = order[k - 2];
        order[k + 1] = order[k - 1];
        k -= 2;
      }
      order[k] = l;
      order[k + 1] = rank;
    }
    if (this.words.length < n * 4) this.words = new Uint32Array(n * 8);
    const words = this.words;
    let w = 0;
    for (let k = 0; k < 2 * n; k += 2) {
      const l = order[k];
      words[w++] = order[k + 1];
      if (strs[l] !== 0) {
        words[w++] = strings.str(strs[l]);
      } else {
        this.float[0] = nums[l];
        words[w++] = this.floatWords[0];
        words[w++] = this.floatWords[1];
        words[w++] = strings.str(units[l]);
      }
    }
    return w;
  }
}

/**
 * Returns the mapping key: pprof's mappingKey, (size rounded up to 4 KiB, file offset, build
 * id or file), which matches one binary loaded at different addresses. pprof records a
 * mapping under its build-id key and its path key; this keys it by the build id when there
 * is one, else by the file.
 */
export function mappingKey(memoryStart: bigint, memoryLimit: bigint, fileOffset: bigint, buildId: string, file: string): string {
  let size = BigInt.asUintN(64, memoryLimit - memoryStart);
  size = BigInt.asUintN(64, size + PAGE - 1n);
  size -= size % PAGE;
  return `${size},${fileOffset},${JSON.stringify(buildId !== '' ? buildId : file)}`;
}
