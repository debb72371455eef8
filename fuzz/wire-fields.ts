/**
 * The protobuf fields found in some bytes, for mutators that aim at structure (a varint, a
 * length prefix, a whole field) instead of at random bytes. Each field is four offsets into
 * the bytes: where its tag starts, where its value starts (for a length-delimited field: where
 * the length varint starts), where its payload starts (length-delimited only, else = value
 * start) and where it ends.
 */
export interface WireFields {
  count: number;
  start: Int32Array;
  value: Int32Array;
  payload: Int32Array;
  end: Int32Array;
  wire: Uint8Array;
  /** Field number of each field. */
  number: Int32Array;
  /** Nesting depth: 0 for top-level fields. */
  depth: Uint8Array;
  /** Index of the enclosing length-delimited field, or -1 at the top level. */
  parent: Int32Array;
}

/** The most fields one scan records: enough for every real fixture, bounded for amplified inputs. */
const MAX_FIELDS = 1 << 17;
/** How deep length-delimited payloads are tried as messages (profile → location → line). */
const MAX_DEPTH = 3;

/**
 * Returns the fields of `bytes` read as a protobuf message, and, recursively, of every
 * length-delimited payload that itself reads as a whole message. Never throws: scanning stops
 * at the first byte that is not a well-formed field (mutated inputs are often broken), so the
 * fields before it are still found.
 */
export function scanWireFields(bytes: Uint8Array): WireFields {
  const out = {
    count: 0,
    start: new Int32Array(1024),
    value: new Int32Array(1024),
    payload: new Int32Array(1024),
    end: new Int32Array(1024),
    wire: new Uint8Array(1024),
    number: new Int32Array(1024),
    depth: new Uint8Array(1024),
    parent: new Int32Array(1024),
  };
  scanMessage(bytes, 0, bytes.length, 0, -1, out);
  return out;
}

/** Reads a varint at `pos`; returns [value as a float (may be inexact past 2^53), end] or null when malformed. */
export function readVarint(bytes: Uint8Array, pos: number, end: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return null;
    const b = bytes[pos++];
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) return [value, pos];
  }
  return null;
}

/** Scans fields in [pos, end); returns true when they cover the range exactly. */
function scanMessage(bytes: Uint8Array, pos: number, end: number, depth: number, parent: number, out: WireFields): boolean {
  while (pos < end) {
    if (out.count >= MAX_FIELDS) return false;
    const start = pos;
    const tag = readVarint(bytes, pos, end);
    if (tag === null) return false;
    const wire = tag[0] % 8;
    const number = Math.floor(tag[0] / 8);
    if (number === 0 || number > 536870911) return false;
    const value = tag[1];
    let payload = value;
    let fieldEnd: number;
    if (wire === 0) {
      const v = readVarint(bytes, value, end);
      if (v === null) return false;
      fieldEnd = v[1];
    } else if (wire === 1) {
      fieldEnd = value + 8;
    } else if (wire === 5) {
      fieldEnd = value + 4;
    } else if (wire === 2) {
      const len = readVarint(bytes, value, end);
      if (len === null) return false;
      payload = len[1];
      fieldEnd = payload + len[0];
    } else {
      return false;
    }
    if (fieldEnd > end) return false;
    const index = out.count;
    push(out, start, value, payload, fieldEnd, wire, number, depth, parent);
    pos = fieldEnd;
    if (wire === 2 && depth + 1 < MAX_DEPTH && fieldEnd > payload) {
      const before = out.count;
      // A payload that is not a whole message (a string, packed numbers) leaves no fields behind.
      if (!scanMessage(bytes, payload, fieldEnd, depth + 1, index, out)) out.count = before;
    }
  }
  return true;
}

function push(
  out: WireFields,
  start: number,
  value: number,
  payload: number,
  end: number,
  wire: number,
  number: number,
  depth: number,
  parent: number,
): void {
  if (out.count === out.start.length) {
    const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    out.start = grow(out.start);
    out.value = grow(out.value);
    out.payload = grow(out.payload);
    out.end = grow(out.end);
    out.wire = grow(out.wire);
    out.number = grow(out.number);
    out.depth = grow(out.depth);
    out.parent = grow(out.parent);
  }
  const i = out.count++;
  out.start[i] = start;
  out.value[i] = value;
  out.payload[i] = payload;
  out.end[i] = end;
  out.wire[i] = wire;
  out.number[i] = number;
  out.depth[i] = depth;
  out.parent[i] = parent;
}
