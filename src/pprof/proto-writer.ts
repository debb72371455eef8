/**
 * An append-only protobuf wire writer. Nested messages are written in place: `begin()`
 * reserves one length byte, `end()` fills it in and shifts the body only in the rare case
 * that the length needs more than one byte, so encoding never builds temporary buffers.
 */
export class ProtoWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Writes a non-negative integer below 2^53 as a varint. */
  varint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (v < 0x80000000) {
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    } else {
      while (v > 0x7f) {
        buf[pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      buf[pos++] = v;
    }
    this.pos = pos;
  }

  /** Writes an int64 held as a number within ±2^53 (negative values take 10 bytes). */
  signed(v: number): void {
    if (v >= 0) this.varint(v);
    else this.bigVarint(BigInt.asUintN(64, BigInt(v)));
  }

  /** Writes a uint64 (or int64, as two's complement) held as a bigint. */
  bigVarint(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    if (u < 0x80000000n) {
      this.varint(Number(u));
      return;
    }
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** Writes a varint field unless it is zero (proto3 default). */
  uintField(field: number, v: number): void {
    if (v !== 0) {
      this.tag(field, 0);
      this.varint(v);
    }
  }

  intField(field: number, v: number): void {
    if (v !== 0) {
      this.tag(field, 0);
      this.signed(v);
    }
  }

  bigField(field: number, v: bigint): void {
    if (v !== 0n) {
      this.tag(field, 0);
      this.bigVarint(v);
    }
  }

  /** Writes a uint64 varint field given as its low and high 32-bit words, unless it is zero. */
  uint64WordsField(field: number, lo: number, hi: number): void {
    if (hi === 0) {
      this.uintField(field, lo);
      return;
    }
    this.tag(field, 0);
    // Above 2^32: the low 28 bits, then the rest as a number below 2^36 once they are gone.
    this.ensure(10);
    this.buf[this.pos++] = (lo & 0x7f) | 0x80;
    this.buf[this.pos++] = ((lo >>> 7) & 0x7f) | 0x80;
    this.buf[this.pos++] = ((lo >>> 14) & 0x7f) | 0x80;
    this.buf[this.pos++] = ((lo >>> 21) & 0x7f) | 0x80;
    let rest = (lo >>> 28) + hi * 16;
    while (rest > 0x7f) {
      this.buf[this.pos++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.buf[this.pos++] = rest;
  }

  boolField(field: number, v: boolean): void {
    if (v) {
      this.tag(field, 0);
      this.varint(1);
    }
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, 2);
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts a length-delimited field; returns the mark to pass to end(). */
  begin(field: number): number {
    this.tag(field, 2);
    this.ensure(1);
    return this.pos++;
  }

  end(mark: number): void {
    const len = this.pos - mark - 1;
    if (len < 0x80) {
      this.buf[mark] = len;
      return;
    }
    let extra = 0;
    for (let l = len >>> 7; l > 0; l >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    this.pos += extra;
    let v = len;
    let p = mark;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
