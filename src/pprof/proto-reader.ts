import { ProfileError } from './errors.js';

const TWO_32 = 4294967296;
const MAX_SAFE = 9007199254740992; // 2^53

/**
 * A cursor over protobuf wire bytes. Varints are returned as float64 numbers when they fit
 * in ±2^53 exactly, and rejected otherwise, so no value is ever silently rounded.
 */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  end: number;
  /**
   * Low and high 32 bits of the last varint read by readRawVarint. They start as doubles
   * (-0 is not a small integer) because they later hold values up to 2^32-1: a field that
   * changes representation deprecates the object's map and throws away optimized code.
   */
  lo = -0;
  hi = -0;
  /** Wire type of the last tag read by readTag. */
  wire = 0;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Reads a varint into lo/hi (two uint32 halves). */
  readRawVarint(): void {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    let lo = 0;
    let hi = 0;
    let b = 0;
    let shift = 0;
    // Bits 0..27 go straight into lo.
    for (; shift < 28; shift += 7) {
      if (pos >= end) this.truncated();
      b = buf[pos++];
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    // Byte 5 carries bits 28..34: four into lo, three into hi.
    if (pos >= end) this.truncated();
    b = buf[pos++];
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (shift = 3; shift < 32; shift += 7) {
        if (pos >= end) this.truncated();
        b = buf[pos++];
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
      if (b >= 0x80) throw new ProfileError(`malformed varint at byte ${pos}: longer than 10 bytes`);
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /**
   * Reads a varint below 2^28 at pos for the decoders' fast paths, without checking it against
   * `end`: the caller compares pos with the end of its field afterwards. Returns -1, pos
   * unchanged, for a longer varint or one that runs past the buffer, which the caller then
   * reads with uint() or int() (and gets their errors). Small enough for V8 to inline, so the
   * hot loops of decode and the encoded merger call it instead of copying it.
   */
  smallUint(): number {
    const buf = this.buf;
    const pos = this.pos;
    let b = buf[pos];
    if (b < 0x80) {
      this.pos = pos + 1;
      return b;
    }
    let x = b & 0x7f;
    b = buf[pos + 1];
    if (b < 0x80) {
      this.pos = pos + 2;
      return x | (b << 7);
    }
    x |= (b & 0x7f) << 7;
    b = buf[pos + 2];
    if (b < 0x80) {
      this.pos = pos + 3;
      return x | (b << 14);
    }
    x |= (b & 0x7f) << 14;
    b = buf[pos + 3];
    if (b < 0x80) {
      this.pos = pos + 4;
      return x | (b << 21);
    }
    return -1;
  }

  /** Reads a field tag: returns the field number and leaves the wire type in `wire`. */
  readTag(): number {
    const tag = this.uint('field tag');
    this.wire = tag & 7;
    return tag >>> 3;
  }

  /** Moves to the field at `pos` of the message that ends at `end` and reads its tag (see readTag). */
  readTagAt(pos: number, end: number): number {
    this.pos = pos;
    this.end = end;
    return this.readTag();
  }

  /** smallUint() when the varint also ends within `end`; else -1, pos unchanged. */
  private smallUintInField(): number {
    const start = this.pos;
    const x = this.smallUint();
    if (x >= 0 && this.pos <= this.end) return x;
    this.pos = start;
    return -1;
  }

  /** Reads an unsigned varint (uint64) that must be below 2^53. */
  uint(what: string): number {
    const x = this.smallUintInField();
    if (x >= 0) return x;
    this.readRawVarint();
    if (this.hi >= 0x200000) {
      throw new ProfileError(`${what} is ${this.bigUint()} which is larger than 2^53, not supported`);
    }
    return this.hi * TWO_32 + this.lo;
  }

  /** Reads a signed varint (int64, two's complement) that must lie within ±2^53. */
  int(what: string): number {
    const x = this.smallUintInField();
    if (x >= 0) return x;
    this.readRawVarint();
    const hi = this.hi;
    if (hi < 0x200000) return hi * TWO_32 + this.lo;
    if (hi >= 0x80000000) {
      const v = (hi - TWO_32) * TWO_32 + this.lo;
      if (v >= -MAX_SAFE) return v;
    }
    throw new ProfileError(`${what} is ${this.bigInt()} which is outside ±2^53, not supported`);
  }

  /** Reads a varint as a full uint64. */
  uint64(): bigint {
    this.readRawVarint();
    return this.bigUint();
  }

  /** Reads a varint as a full int64. */
  int64(): bigint {
    this.readRawVarint();
    return this.bigInt();
  }

  /** Reads a varint that must fit in a non-negative int32 (string indexes, enums). */
  index(what: string): number {
    const v = this.uint(what);
    if (v > 0x7fffffff) throw new ProfileError(`${what} ${v} is out of range`);
    return v;
  }

  bool(): boolean {
    this.readRawVarint();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes. */
  delimitedEnd(what: string): number {
    const len = this.uint(`${what} length`);
    const end = this.pos + len;
    if (end > this.end) {
      throw new ProfileError(
        `${what} at byte ${this.pos} claims ${len} bytes but only ${this.end - this.pos} remain (truncated or corrupt protobuf)`,
      );
    }
    return end;
  }

  /**
   * For a repeated scalar field whose tag, of wire type `wire`, was just read: returns the
   * offset its values end at, with `end` set to it when they are packed (wire type 2); for
   * one unpacked value (wire type 0), an offset that stops a `while (pos < end)` loop after
   * one value. Throws ProfileError for another wire type, or a length past `end`.
   */
  repeatedEnd(wire: number, what: string): number {
    if (wire !== 2) {
      expectWire(wire, 0, what);
      return this.pos + 1;
    }
    this.end = this.delimitedEnd(what);
    return this.end;
  }

  /** Skips a field of the given wire type. */
  skip(wireType: number, field: number): void {
    switch (wireType) {
      case 0:
        this.readRawVarint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimitedEnd(`field ${field}`);
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new ProfileError(`corrupt protobuf: field ${field} has unsupported wire type ${wireType} at byte ${this.pos}`);
    }
    if (this.pos > this.end) this.truncated();
  }

  bigUint(): bigint {
    return this.hi === 0 ? BigInt(this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  bigInt(): bigint {
    return BigInt.asIntN(64, this.bigUint());
  }

  private truncated(): never {
    throw new ProfileError(`truncated protobuf: a varint runs past the end of its message at byte ${this.pos}`);
  }
}

/** Throws ProfileError unless a field has the expected wire type. */
export function expectWire(wire: number, expected: number, what: string): void {
  if (wire !== expected) {
    throw new ProfileError(`corrupt protobuf: ${what} has wire type ${wire}, expected ${expected}`);
  }
}
