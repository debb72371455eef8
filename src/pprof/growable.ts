/**
 * Append-only typed-array buffers for building profile tables whose final size is unknown.
 * They double their capacity, so n pushes cost O(n); `finish()` returns a view of exactly the
 * pushed elements without copying.
 */
type TypedArray = Int32Array | Uint32Array | Float64Array | Uint8Array | BigUint64Array;

interface TypedArrayConstructor<T> {
  new (length: number): T;
}

class Growable<T extends TypedArray, E extends number | bigint> {
  data: T;
  length = 0;
  private readonly make: TypedArrayConstructor<T>;

  constructor(make: TypedArrayConstructor<T>, capacity = 64) {
    this.make = make;
    this.data = new make(Math.max(capacity, 4));
  }

  push(value: E): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    (this.data as unknown as E[])[this.length++] = value;
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n > this.data.length) this.grow(n);
  }

  finish(): T {
    return this.data.subarray(0, this.length) as T;
  }

  private grow(min: number): void {
    let capacity = this.data.length * 2;
    while (capacity < min) capacity *= 2;
    const next = new this.make(capacity);
    (next as unknown as { set(a: T): void }).set(this.data);
    this.data = next;
  }
}

export class GrowableInt32 extends Growable<Int32Array, number> {
  constructor(capacity?: number) {
    super(Int32Array, capacity);
  }
}

export class GrowableUint32 extends Growable<Uint32Array, number> {
  constructor(capacity?: number) {
    super(Uint32Array, capacity);
  }
}

export class GrowableFloat64 extends Growable<Float64Array, number> {
  constructor(capacity?: number) {
    super(Float64Array, capacity);
  }
}

export class GrowableUint8 extends Growable<Uint8Array, number> {
  constructor(capacity?: number) {
    super(Uint8Array, capacity);
  }
}

export class GrowableBigUint64 extends Growable<BigUint64Array, bigint> {
  constructor(capacity?: number) {
    super(BigUint64Array, capacity);
  }
}
