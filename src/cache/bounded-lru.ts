/**
 * A map that keeps at most `maxEntries` values and `maxBytes` bytes of them (as `sizeOf` counts),
 * evicting the least recently used first. A value larger than `maxBytes` on its own is not kept
 * (an older value under its key is dropped all the same), so one huge answer cannot empty the cache.
 */
export class BoundedLru<V> {
  // Maps iterate in insertion order: re-inserting a key makes it the most recently used.
  private readonly entries = new Map<string, V>();
  private held = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: V): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.held -= this.sizeOf(old);
    }
    const size = this.sizeOf(value);
    if (size > this.maxBytes) return;
    for (const [k, v] of this.entries) {
      if (this.entries.size < this.maxEntries && this.held + size <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= this.sizeOf(v);
    }
    this.entries.set(key, value);
    this.held += size;
  }

  /** Bytes held, as `sizeOf` counts them. */
  get bytes(): number {
    return this.held;
  }

  /** Values held. */
  get size(): number {
    return this.entries.size;
  }
}
