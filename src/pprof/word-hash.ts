/**
 * Hashing and comparison of uint32 word sequences (stacks, identity keys) for the
 * open-addressing tables of SequenceInterner and the merger's sample table.
 */

/**
 * Returns the hash of words[start..end) mixed with `seed`: an FNV-style word hash, finished
 * with murmur3's avalanche so that nearby stacks spread over the table.
 */
export function hashWords(words: Uint32Array, start: number, end: number, seed: number): number {
  let h = 0x811c9dc5 ^ (end - start) ^ seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ words[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** True when a[aStart..aStart+len) and b[bStart..bStart+len) hold the same words. */
export function sameWords(a: Uint32Array, aStart: number, b: Uint32Array, bStart: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** Returns an open-addressing slot table of `size` (a power of two) holding ids 0..count-1 by their hashes. */
export function slotsFor(hashes: Int32Array, count: number, size: number): Int32Array<ArrayBuffer> {
  const slots = new Int32Array(size).fill(-1);
  const mask = size - 1;
  for (let id = 0; id < count; id++) {
    let slot = hashes[id] & mask;
    while (slots[slot] !== -1) slot = (slot + 1) & mask;
    slots[slot] = id;
  }
  return slots;
}

/** Returns a copy of `hashes` twice as long (at least 16). */
export function grownHashes(hashes: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.max(16, hashes.length * 2));
  next.set(hashes);
  return next;
}
