/**
 * Append-only typed-array buffers for building profile tables whose final size is unknown.
 * They double their capacity, so n pushes cost O(n); `finish()` returns a view of exactly the
 * pushed elements without copying.
 *
 * push() is written once per element type on purpose: a single generic push would share one
 * element-store site between all array types, which V8 then treats as megamorphic and runs
 * several times slower in the decode and merge loops. Growth, which runs once per doubling,
 * is shared (Growable).
 */

/** Any typed array a Growable holds. */
type Elements = Int32Array | Uint32Array | Float64Array | Uint8Array | BigUint64Array;

/**
 * What every Growable shares: growth, exact resizing and the view of the pushed elements.
 * Only allocation and push (the element store) are per type.
 */
abstract class Growable<A extends Elements> {
  data: A;
  length = 0;

  constructor(capacity = 64) {
    this.data = this.allocate(Math.max(capacity, 4));
  }

  /** A new array of this type with `capacity` elements: the subclass names its type as `static elements`. */
  private allocate(capacity: number): A {
    return new (this.constructor as unknown as { elements: new (n: number) => A }).elements(capacity);
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < n) capacity *= 2;
    this.moveTo(this.allocate(capacity), this.data);
  }

  /** Sets the capacity to exactly `capacity` elements (at least the length). */
  resize(capacity: number): void {
    this.moveTo(this.allocate(Math.max(capacity, this.length)), this.data.subarray(0, this.length) as A);
  }

  private moveTo(next: A, elements: A): void {
    (next as { set(a: A): void }).set(elements);
    this.data = next;
  }

  finish(): A {
    return this.data.subarray(0, this.length) as A;
  }
}

export class GrowableInt32 extends Growable<Int32Array> {
  static readonly elements = Int32Array;

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }
}

export class GrowableUint32 extends Growable<Uint32Array> {
  static readonly elements = Uint32Array;

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }
}

export class GrowableFloat64 extends Growable<Float64Array> {
  static readonly elements = Float64Array;

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }
}

export class GrowableUint8 extends Growable<Uint8Array> {
  static readonly elements = Uint8Array;

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }
}

export class GrowableBigUint64 extends Growable<BigUint64Array> {
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  static readonly elements = BigUint64Array;

  push(value: bigint): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Appends the uint64 whose low and high 32-bit halves are given, without making a bigint. */
  pushWords(lo: number, hi: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    if (this.words.buffer !== this.data.buffer) this.words = new Uint32Array(this.data.buffer, this.data.byteOffset, this.data.length * 2);
    this.words[2 * this.length] = lo;
    this.words[2 * this.length + 1] = hi;
    this.length++;
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
