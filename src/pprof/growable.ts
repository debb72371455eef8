/**
 * Append-only typed-array buffers for building profile tables whose final size is unknown.
 * They double their capacity, so n pushes cost O(n); `finish()` returns a view of exactly the
 * pushed elements without copying.
 *
 * There is one class per element type on purpose: a single generic class would share one
 * element-store site between all array types, which V8 then treats as megamorphic and runs
 * several times slower in the decode and merge loops.
 */

export class GrowableInt32 {
  data: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Int32Array(Math.max(capacity, 4));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < n) capacity *= 2;
    const next = new Int32Array(capacity);
    next.set(this.data);
    this.data = next;
  }

  /** Sets the capacity to exactly `capacity` elements (at least the length). */
  resize(capacity: number): void {
    const next = new Int32Array(Math.max(capacity, this.length));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  finish(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

export class GrowableUint32 {
  data: Uint32Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Uint32Array(Math.max(capacity, 4));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < n) capacity *= 2;
    const next = new Uint32Array(capacity);
    next.set(this.data);
    this.data = next;
  }

  finish(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

export class GrowableFloat64 {
  data: Float64Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Float64Array(Math.max(capacity, 4));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < n) capacity *= 2;
    const next = new Float64Array(capacity);
    next.set(this.data);
    this.data = next;
  }

  /** Sets the capacity to exactly `capacity` elements (at least the length). */
  resize(capacity: number): void {
    const next = new Float64Array(Math.max(capacity, this.length));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  finish(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export class GrowableUint8 {
  data: Uint8Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Uint8Array(Math.max(capacity, 4));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < n) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.data);
    this.data = next;
  }

  finish(): Uint8Array {
    return this.data.subarray(0, this.length);
  }
}

export class GrowableBigUint64 {
  data: BigUint64Array;
  length = 0;
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  constructor(capacity = 64) {
    this.data = new BigUint64Array(Math.max(capacity, 4));
  }

  push(value: bigint): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < n) capacity *= 2;
    const next = new BigUint64Array(capacity);
    next.set(this.data);
    this.data = next;
  }

  /** Appends the uint64 whose low and high 32-bit halves are given, without making a bigint. */
  pushWords(lo: number, hi: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    if (this.words.buffer !== this.data.buffer) this.words = new Uint32Array(this.data.buffer, this.data.byteOffset, this.data.length * 2);
    this.words[2 * this.length] = lo;
    this.words[2 * this.length + 1] = hi;
    this.length++;
  }

  finish(): BigUint64Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * The capacity to grow a buffer to that holds `count` elements and must hold `needed`, when
 * `done` of the `total` input units it is filled from have been read: twice the current
 * capacity until 1/16 of the input is read, then the final count projected from the rate so
 * far, plus 1/16; at least 1/8 more than now (so a bad projection still grows geometrically),
 * never above `max`, the most the input can hold. A decoder that grows this way allocates about
 * what it needs, in one step after the first few, where doubling allocates 2 to 4 times that
 * in all (every regrown buffer stays allocated until the garbage collector frees it).
 */
export function projectedCapacity(current: number, needed: number, count: number, done: number, total: number, max: number): number {
  const grown = done * 16 >= total ? Math.ceil((count / done) * total * 1.0625) + 64 : current * 2;
  return Math.min(max, Math.max(needed, grown, current + (current >> 3) + 16));
}
