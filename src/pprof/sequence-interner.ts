import { GrowableUint32 } from './growable.js';
import { grownHashes, hashWords, sameWords, slotsFor } from './word-hash.js';

/**
 * Assigns a dense id to each distinct sequence of uint32 values (a stack of location rows,
 * optionally followed by a label-set id). Open addressing over a flat arena, so interning a
 * sample costs one hash and, on a hit, one comparison, with no per-sample allocation.
 */
export class SequenceInterner {
  /** Arena of all interned sequences, back to back. */
  private readonly arena = new GrowableUint32(1 << 12);
  /** start offset in the arena of sequence id i is starts[i]; its end is starts[i+1]. */
  private readonly starts = new GrowableUint32(1 << 10);
  private hashes = new Int32Array(0);
  private slots: Int32Array;
  private mask: number;
  count = 0;

  /**
   * `expected` sequences of `expectedWords` words in total are preallocated for, so a caller
   * that knows its input size (merge) never pays for regrowing the tables.
   */
  constructor(expected = 1024, expectedWords = expected * 8) {
    let size = 16;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.starts.reserve(expected + 1);
    this.starts.push(0);
    this.arena.reserve(expectedWords);
    this.hashes = new Int32Array(Math.max(16, expected));
  }

  /** Returns the id of seq[start..end), adding it when new (then id === count - 1). */
  intern(seq: Uint32Array, start: number, end: number): number {
    const h = hashWords(seq, start, end, 0);
    const mask = this.mask;
    const slots = this.slots;
    const arena = this.arena.data;
    const starts = this.starts.data;
    const len = end - start;
    let slot = h & mask;
    for (;;) {
      const id = slots[slot];
      if (id === -1) break;
      if (this.hashes[id] === h) {
        const s = starts[id];
        if (starts[id + 1] - s === len && sameWords(arena, s, seq, start, len)) return id;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.count++;
    slots[slot] = id;
    if (id >= this.hashes.length) this.hashes = grownHashes(this.hashes);
    this.hashes[id] = h;
    this.arena.reserve(this.arena.length + len);
    this.arena.data.set(seq.subarray(start, end), this.arena.length);
    this.arena.length += len;
    this.starts.push(this.arena.length);
    if (this.count * 2 > mask) this.rehash();
    return id;
  }

  private rehash(): void {
    this.slots = slotsFor(this.hashes, this.count, this.slots.length * 2);
    this.mask = this.slots.length - 1;
  }
}
