// The merge kernel: `hotpath merge` of small inputs, compiled to WebAssembly by AssemblyScript
// (`npm run build` writes dist/wasm/merge-kernel.wasm; merge-kernel.ts loads and calls it).
//
// Why: a short-lived process spends most of a small merge running the TypeScript decoder,
// merger and encoder before V8 has optimized them (bench/README.md, "Merge and decode"), where
// WebAssembly runs compiled from its first instruction. What: given inflated profile.proto
// messages, it returns exactly the bytes encodeProfile(merge of them) gives, the same merge
// (merger.ts: the keys of merge-keys.ts, first use first) and the same encoding (encode.ts),
// and where the output is cut into gzip members. It does the common case only: anything it
// does not do exactly like the TypeScript code, and every malformed or implausible input, makes
// it stop (a trap, see fail) and the caller runs the TypeScript path, which then merges or gives
// its error. So this file decides nothing the TypeScript path does not decide the same way.
//
// Memory: AssemblyScript's stub runtime, a bump allocator that never frees: one instance merges
// once and is dropped. All numbers are the wire's: ids, string indexes and values as read.

// ---------------------------------------------------------------------------------------------
// Failure: the reason is kept for tests and HOTPATH_DEBUG_KERNEL, then the instance traps.

let failure: i32 = 0;

/** Why the last merge stopped (see the F_ constants), 0 when it did not. */
export function failureCode(): i32 {
  return failure;
}

const F_TRUNCATED: i32 = 1; // a varint or field runs past its message
const F_WIRE: i32 = 2; // a wire type this kernel does not read (or a known field with another)
const F_RANGE: i32 = 3; // a number outside what the TypeScript decoder accepts
const F_STRING: i32 = 4; // a string index outside the table, a non-ASCII string, no "" first
const F_ID: i32 = 5; // an id that is zero, sparse, duplicated or unknown
const F_VALUES: i32 = 6; // a sample with another number of values than sample types
const F_INCOMPATIBLE: i32 = 7; // other sample types or period type than the first profile
const F_BUDGET: i32 = 8; // near or past what decodeProfile's budget allows
const F_SUM: i32 = 9; // a merged value past ±2^53, or one that sums to zero
const F_LIMIT: i32 = 10; // more mappings or comments than this kernel searches linearly

function fail(code: i32): void {
  failure = code;
  unreachable();
}

// ---------------------------------------------------------------------------------------------
// Growable arrays over the bump allocator.

class U32s {
  ptr: usize;
  len: i32 = 0;
  cap: i32;

  constructor(cap: i32) {
    this.cap = cap < 4 ? 4 : cap;
    this.ptr = heap.alloc((<usize>this.cap) << 2);
  }

  @inline get(i: i32): u32 {
    return load<u32>(this.ptr + ((<usize>i) << 2));
  }

  @inline set(i: i32, v: u32): void {
    store<u32>(this.ptr + ((<usize>i) << 2), v);
  }

  @inline push(v: u32): void {
    if (this.len === this.cap) this.grow(this.len + 1);
    store<u32>(this.ptr + ((<usize>this.len) << 2), v);
    this.len++;
  }

  reserve(n: i32): void {
    if (n > this.cap) this.grow(n);
  }

  grow(need: i32): void {
    let c = this.cap * 2;
    while (c < need) c *= 2;
    this.ptr = heap.realloc(this.ptr, (<usize>c) << 2);
    this.cap = c;
  }
}

class U64s {
  ptr: usize;
  len: i32 = 0;
  cap: i32;

  constructor(cap: i32) {
    this.cap = cap < 4 ? 4 : cap;
    this.ptr = heap.alloc((<usize>this.cap) << 3);
  }

  @inline get(i: i32): u64 {
    return load<u64>(this.ptr + ((<usize>i) << 3));
  }

  @inline set(i: i32, v: u64): void {
    store<u64>(this.ptr + ((<usize>i) << 3), v);
  }

  @inline push(v: u64): void {
    if (this.len === this.cap) this.grow(this.len + 1);
    store<u64>(this.ptr + ((<usize>this.len) << 3), v);
    this.len++;
  }

  grow(need: i32): void {
    let c = this.cap * 2;
    while (c < need) c *= 2;
    this.ptr = heap.realloc(this.ptr, (<usize>c) << 3);
    this.cap = c;
  }
}

/** n int32 slots set to -1. */
function minusOnes(n: i32): usize {
  const p = heap.alloc((<usize>(n < 1 ? 1 : n)) << 2);
  memory.fill(p, 0xff, (<usize>n) << 2);
  return p;
}

function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

function setI32(p: usize, i: i32, v: i32): void {
  store<i32>(p + ((<usize>i) << 2), v);
}

// ---------------------------------------------------------------------------------------------
// Reading protobuf: rp is the read position, re the end of the message being read.

let rp: usize = 0;
let re: usize = 0;

const TWO_53: i64 = 9007199254740992;

function varint(): u64 {
  let p = rp;
  if (p >= re) fail(F_TRUNCATED);
  let b = <u64>load<u8>(p++);
  if (b < 0x80) {
    rp = p;
    return b;
  }
  let x = b & 0x7f;
  let shift: u64 = 7;
  while (true) {
    if (p >= re) fail(F_TRUNCATED);
    b = <u64>load<u8>(p++);
    if (shift === 63 && b > 1) fail(F_RANGE);
    x |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  rp = p;
  return x;
}

/** A uint below 2^53 (an id). */
function uint53(): u64 {
  const v = varint();
  if (v >= <u64>TWO_53) fail(F_RANGE);
  return v;
}

/** An int64 strictly within ±2^53 (values, lines). */
function int53(): i64 {
  const v = <i64>varint();
  if (v >= TWO_53 || v <= -TWO_53) fail(F_RANGE);
  return v;
}

/** A string index (checked against the table by the caller). */
function index(): u32 {
  const v = varint();
  if (v > 0x7fffffff) fail(F_RANGE);
  return <u32>v;
}

/** Returns the end of the length-delimited field whose length is at rp. */
function delimitedEnd(): usize {
  const len = varint();
  if (len > <u64>(re - rp)) fail(F_TRUNCATED);
  return rp + <usize>len;
}

function skip(wire: u32): void {
  if (wire === 0) {
    varint();
  } else if (wire === 1) {
    if (re - rp < 8) fail(F_TRUNCATED);
    rp += 8;
  } else if (wire === 2) {
    rp = delimitedEnd();
  } else if (wire === 5) {
    if (re - rp < 4) fail(F_TRUNCATED);
    rp += 4;
  } else {
    fail(F_WIRE);
  }
}

/** Reads a tag; returns the field number, wire type in `wire`. */
let wire: u32 = 0;

function tag(): u32 {
  const t = varint();
  if (t > 0xffffffff) fail(F_RANGE);
  wire = <u32>t & 7;
  const field = <u32>(t >>> 3);
  if (field === 0) fail(F_WIRE);
  return field;
}

function expect(w: u32): void {
  if (wire !== w) fail(F_WIRE);
}

// ---------------------------------------------------------------------------------------------
// Strings: the merged string table, interned by content (the TypeScript builder interns by
// string value; with ASCII-only strings, which is all this kernel takes, the two are the same).

const outStrPtr = new U32s(4096);
const outStrLen = new U32s(4096);
let strSlots: usize = 0;
let strMask: u32 = 0;
const strHashes = new U32s(4096);

function hashBytes(p: usize, n: u32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * 0x01000193;
  return h;
}

function sameBytes(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) !== load<u8>(b + i)) return false;
  return true;
}

function strSlotsFor(size: u32): void {
  strSlots = minusOnes(<i32>size);
  strMask = size - 1;
  for (let id = 0; id < outStrPtr.len; id++) {
    let s = strHashes.get(id) & strMask;
    while (i32At(strSlots, <i32>s) !== -1) s = (s + 1) & strMask;
    setI32(strSlots, <i32>s, id);
  }
}

/** The merged index of the bytes p[0..n), or -1 when the table does not have them. */
function findString(p: usize, n: u32, h: u32): i32 {
  let s = h & strMask;
  while (true) {
    const id = i32At(strSlots, <i32>s);
    if (id === -1) return -1;
    if (strHashes.get(id) === h && outStrLen.get(id) === n && sameBytes(outStrPtr.get(id), p, n)) return id;
    s = (s + 1) & strMask;
  }
}

/** The merged index of the bytes p[0..n), added when new. */
function internBytes(p: usize, n: u32): i32 {
  const h = hashBytes(p, n);
  const found = findString(p, n, h);
  if (found >= 0) return found;
  const id = outStrPtr.len;
  outStrPtr.push(<u32>p);
  outStrLen.push(n);
  strHashes.push(h);
  if (<u32>(id + 1) * 2 > strMask) strSlotsFor((strMask + 1) * 2);
  else {
    let s = h & strMask;
    while (i32At(strSlots, <i32>s) !== -1) s = (s + 1) & strMask;
    setI32(strSlots, <i32>s, id);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// Interning word sequences (functions, locations, label sets, samples): merge-keys.ts's keys.

class Interner {
  arena: U32s;
  starts: U32s;
  hashes: U32s;
  slots: usize;
  mask: u32;
  count: i32 = 0;

  constructor(expected: i32, words: i32) {
    let size: u32 = 16;
    while (size < <u32>expected * 2) size *= 2;
    this.slots = minusOnes(<i32>size);
    this.mask = size - 1;
    this.arena = new U32s(words);
    this.hashes = new U32s(expected);
    const starts = new U32s(expected + 1);
    starts.push(0);
    this.starts = starts;
  }

  /** Returns the id of the n words at p, adding them when new (then id == count - 1). */
  intern(p: usize, n: i32): i32 {
    let h: u32 = <u32>n * 0x9e3779b1;
    for (let i = 0; i < n; i++) {
      h = (h ^ load<u32>(p + ((<usize>i) << 2))) * 0x85ebca6b;
      h ^= h >>> 13;
    }
    const mask = this.mask;
    let s = h & mask;
    const arena = this.arena.ptr;
    while (true) {
      const id = i32At(this.slots, <i32>s);
      if (id === -1) break;
      if (this.hashes.get(id) === h) {
        const a = this.starts.get(id);
        if (<i32>(this.starts.get(id + 1) - a) === n && sameWords(arena + ((<usize>a) << 2), p, n)) return id;
      }
      s = (s + 1) & mask;
    }
    const id = this.count++;
    setI32(this.slots, <i32>s, id);
    this.hashes.push(h);
    const at = this.arena.len;
    this.arena.reserve(at + n);
    memory.copy(this.arena.ptr + ((<usize>at) << 2), p, (<usize>n) << 2);
    this.arena.len = at + n;
    this.starts.push(<u32>this.arena.len);
    if (<u32>this.count * 2 > mask) this.rehash();
    return id;
  }

  rehash(): void {
    const size = (this.mask + 1) * 2;
    this.slots = minusOnes(<i32>size);
    this.mask = size - 1;
    for (let id = 0; id < this.count; id++) {
      let s = this.hashes.get(id) & this.mask;
      while (i32At(this.slots, <i32>s) !== -1) s = (s + 1) & this.mask;
      setI32(this.slots, <i32>s, id);
    }
  }
}

function sameWords(a: usize, b: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (load<u32>(a + ((<usize>i) << 2)) !== load<u32>(b + ((<usize>i) << 2))) return false;
  return true;
}

/** Proto id → row of one table, for dense ids only (IdTable's dense form); zero and duplicate ids fail. */
class IdRows {
  rows: usize;
  count: i32;

  constructor(ids: U64s) {
    const n = ids.len;
    let max: u64 = 0;
    for (let i = 0; i < n; i++) {
      const id = ids.get(i);
      if (id === 0) fail(F_ID);
      if (id > max) max = id;
    }
    if (max > <u64>n * 4 + 1024) fail(F_ID);
    this.count = <i32>max + 1;
    const rows = minusOnes(this.count);
    for (let i = 0; i < n; i++) {
      const id = <i32>ids.get(i);
      if (i32At(rows, id) !== -1) fail(F_ID);
      setI32(rows, id, i);
    }
    this.rows = rows;
  }

  /** The row of `id`; fails for an id the table does not have. */
  row(id: u64): i32 {
    if (id >= <u64>this.count) fail(F_ID);
    const row = i32At(this.rows, <i32>id);
    if (row < 0) fail(F_ID);
    return row;
  }
}

// ---------------------------------------------------------------------------------------------
// The inputs, registered by the caller (input), and the source being merged.

const inputPtr = new U32s(16);
const inputLen = new U32s(16);

/** Allocates n bytes for the caller to copy an input into; returns where. */
export function allocate(n: u32): usize {
  return heap.alloc(<usize>n);
}

/** Registers the input at p[0..n) as the next one to merge. */
export function input(p: usize, n: u32): void {
  inputPtr.push(<u32>p);
  inputLen.push(n);
}

// Top-level fields of the source.
let srcSampleTypes = new U32s(8);
let srcPeriodType0: u32 = 0;
let srcPeriodType1: u32 = 0;
let srcComments = new U32s(4);
let srcDropFrames: u32 = 0;
let srcKeepFrames: u32 = 0;
let srcDefaultSampleType: u32 = 0;
let srcDocUrl: u32 = 0;
let srcTime: i64 = 0;
let srcDuration: i64 = 0;
let srcPeriod: i64 = 0;
/** [start, end) of each record of fields 2 to 6, flattened. */
const ranges: StaticArray<U32s> = [new U32s(0), new U32s(0), new U32s(0), new U32s(0), new U32s(0), new U32s(0), new U32s(0)];
/** Bytes of the records of fields 2 to 6, and how many are empty (for the budget). */
const payload = new StaticArray<f64>(7);
const empties = new StaticArray<f64>(7);

// Tables of the source.
let nStrings: i32 = 0;
let strPtr = new U32s(0);
let strLen = new U32s(0);
let nMappings: i32 = 0;
let mapStart = new U64s(0);
let mapLimit = new U64s(0);
let mapOffset = new U64s(0);
let mapFilename = new U32s(0);
let mapBuildId = new U32s(0);
let mapFlags = new U32s(0);
let mapIds = new IdRows(new U64s(0));
let nFunctions: i32 = 0;
let fnName = new U32s(0);
let fnSystemName = new U32s(0);
let fnFilename = new U32s(0);
let fnStartLine = new U64s(0);
let nLocations: i32 = 0;
let locId = new U64s(0);
let locMapping = new U32s(0);
let locAddress = new U64s(0);
let locFolded = new U32s(0);
let locLineStart = new U32s(0);
let lineFn = new U32s(0);
let lineLine = new U64s(0);
let lineColumn = new U64s(0);
let locIds = new IdRows(new U64s(0));

// Source row → merged row (-1: not yet), and each source mapping's address shift.
let strMap: usize = 0;
let fnMap: usize = 0;
let locMap: usize = 0;
let mapMap: usize = 0;
let mapShift = new U64s(0);

// ---------------------------------------------------------------------------------------------
// The merged profile.

let nValues: i32 = 0;
const outSampleTypes = new U32s(8);
let outPeriodType0: u32 = 0;
let outPeriodType1: u32 = 0;
let outDefaultSampleType: u32 = 0;
let outDocUrl: u32 = 0;
let outDropFrames: u32 = 0;
let outKeepFrames: u32 = 0;
let outTime: i64 = 0;
let outDuration: i64 = 0;
let outPeriod: i64 = 0;
const outComments = new U32s(4);

const outMapStart = new U64s(16);
const outMapLimit = new U64s(16);
const outMapOffset = new U64s(16);
const outMapFilename = new U32s(16);
const outMapBuildId = new U32s(16);
const outMapFlags = new U32s(16);
const outMapKeySize = new U64s(16);
const outMapKeyPtr = new U32s(16);
const outMapKeyLen = new U32s(16);

const functionKeys = new Interner(4096, 4096 * 5);
const outFnName = new U32s(4096);
const outFnSystemName = new U32s(4096);
const outFnFilename = new U32s(4096);
const outFnStartLine = new U64s(4096);

const locationKeys = new Interner(8192, 8192 * 9);
const outLocMapping = new U32s(8192);
const outLocAddress = new U64s(8192);
const outLocFolded = new U32s(8192);
const outLocLineStart = new U32s(8192);
const outLineFn = new U32s(8192);
const outLineLine = new U64s(8192);
const outLineColumn = new U64s(8192);

const labelSets = new Interner(1024, 1024 * 8);
/** Samples: the key is the stack (merged location rows) followed by the label-set id. */
const sampleKeys = new Interner(8192, 8192 * 16);
const outValues = new U64s(8192);
const outLabelStart = new U32s(8192);
const outLabelKey = new U32s(1024);
const outLabelStr = new U32s(1024);
const outLabelNum = new U64s(1024);
const outLabelUnit = new U32s(1024);

/** Scratch: a key being built, the stack and labels of the sample being read. */
const key = new U32s(256);
const stack = new U32s(256);
const labelKey = new U32s(16);
const labelStr = new U32s(16);
const labelNum = new U64s(16);
const labelUnit = new U32s(16);
const labelOrder = new U32s(64);
const values = new U64s(16);

let inputSamples: i32 = 0;

// ---------------------------------------------------------------------------------------------
// Decoding one source.

/** Walks the top-level fields of the source at p[0..n): records located, header decoded. */
function scanTopLevel(p: usize, n: u32): void {
  srcSampleTypes = new U32s(8);
  srcComments = new U32s(4);
  srcPeriodType0 = 0;
  srcPeriodType1 = 0;
  srcDropFrames = 0;
  srcKeepFrames = 0;
  srcDefaultSampleType = 0;
  srcDocUrl = 0;
  srcTime = 0;
  srcDuration = 0;
  srcPeriod = 0;
  for (let f = 2; f <= 6; f++) {
    ranges[f] = new U32s(f === 2 ? 1024 : 256);
    payload[f] = 0;
    empties[f] = 0;
  }
  rp = p;
  re = p + n;
  const end = re;
  while (rp < end) {
    const field = tag();
    if (field >= 2 && field <= 6) {
      expect(2);
      const e = delimitedEnd();
      const r = ranges[field];
      r.push(<u32>rp);
      r.push(<u32>e);
      payload[field] += <f64>(e - rp);
      if (e === rp) empties[field] += 1;
      rp = e;
    } else if (field === 1 || field === 11) {
      expect(2);
      const e = delimitedEnd();
      re = e;
      let type: u32 = 0;
      let unit: u32 = 0;
      while (rp < e) {
        const f = tag();
        if (f === 1 && wire === 0) type = index();
        else if (f === 2 && wire === 0) unit = index();
        else skip(wire);
      }
      re = end;
      if (field === 1) {
        if (srcSampleTypes.len === 2 * 1024) fail(F_BUDGET);
        srcSampleTypes.push(type);
        srcSampleTypes.push(unit);
      } else {
        srcPeriodType0 = type;
        srcPeriodType1 = unit;
      }
    } else if (field === 13) {
      if (wire === 2) {
        const e = delimitedEnd();
        re = e;
        while (rp < e) srcComments.push(index());
        re = end;
      } else {
        expect(0);
        srcComments.push(index());
      }
    } else if (field >= 7 && field <= 15) {
      expect(0);
      if (field === 9) srcTime = <i64>varint();
      else if (field === 10) srcDuration = <i64>varint();
      else if (field === 12) srcPeriod = <i64>varint();
      else {
        const i = index();
        if (field === 7) srcDropFrames = i;
        else if (field === 8) srcKeepFrames = i;
        else if (field === 14) srcDefaultSampleType = i;
        else srcDocUrl = i;
      }
    } else {
      skip(wire);
    }
  }
}

// decodeProfile's budget (budget.ts), asked of the TypeScript code (merge-kernel.ts), so its
// rules are written once. AssemblyScript imports these from a module named after this file.

/** The bytes decoding a profile of `inputBytes` may allocate. */
declare function budgetLimit(inputBytes: f64): f64;

/**
 * decodeProfile's up-front charge of the tables (decode-costs.ts chargeDecodedTables) of the
 * records counted per top-level field (`counts`, `payloads`, `empties`: 7 float64 each, fields 2
 * to 6): the bytes charged, or -1 when the budget refuses them.
 */
declare function chargeTables(inputBytes: f64, counts: usize, payloads: usize, empties: usize, valuesPerSample: f64): f64;

const counts = new StaticArray<f64>(7);

/**
 * Checks the source's tables against decodeProfile's budget, keeping a quarter of the budget
 * for what the kernel does not charge as the decoder would (regrown buffers, id tables): what it
 * declines near the limit, the TypeScript path decides.
 */
function checkBudget(n: u32): void {
  for (let f = 2; f <= 6; f++) counts[f] = <f64>(ranges[f].len >> 1);
  const V = <f64>(srcSampleTypes.len >> 1);
  const charged = chargeTables(<f64>n, changetype<usize>(counts), changetype<usize>(payload), changetype<usize>(empties), V);
  if (charged < 0) fail(F_BUDGET);
  budgetLeft = budgetLimit(<f64>n) * 0.75 - charged;
  if (budgetLeft < 0) fail(F_BUDGET);
}

let budgetLeft: f64 = 0;

function decodeStrings(): void {
  const r = ranges[6];
  nStrings = r.len >> 1;
  strPtr = new U32s(nStrings);
  strLen = new U32s(nStrings);
  for (let i = 0; i < nStrings; i++) {
    const a = r.get(2 * i);
    const b = r.get(2 * i + 1);
    for (let q = a; q < b; q++) if (load<u8>(q) >= 0x80) fail(F_STRING);
    strPtr.push(a);
    strLen.push(b - a);
  }
  if (nStrings === 0 || strLen.get(0) !== 0) fail(F_STRING);
}

function checkIndex(i: u32): void {
  if (i >= <u32>nStrings) fail(F_STRING);
}

function decodeMappings(): void {
  const r = ranges[3];
  const n = r.len >> 1;
  nMappings = n;
  const ids = new U64s(n);
  mapStart = new U64s(n);
  mapLimit = new U64s(n);
  mapOffset = new U64s(n);
  mapFilename = new U32s(n);
  mapBuildId = new U32s(n);
  mapFlags = new U32s(n);
  for (let i = 0; i < n; i++) {
    rp = r.get(2 * i);
    re = r.get(2 * i + 1);
    let id: u64 = 0;
    let start: u64 = 0;
    let limit: u64 = 0;
    let offset: u64 = 0;
    let filename: u32 = 0;
    let buildId: u32 = 0;
    let flags: u32 = 0;
    while (rp < re) {
      const f = tag();
      if (f <= 10) expect(0);
      if (f === 1) id = uint53();
      else if (f === 2) start = varint();
      else if (f === 3) limit = varint();
      else if (f === 4) offset = varint();
      else if (f === 5) filename = index();
      else if (f === 6) buildId = index();
      else if (f <= 10) flags |= varint() !== 0 ? 1 << (f - 7) : 0;
      else skip(wire);
    }
    checkIndex(filename);
    checkIndex(buildId);
    ids.push(id);
    mapStart.push(start);
    mapLimit.push(limit);
    mapOffset.push(offset);
    mapFilename.push(filename);
    mapBuildId.push(buildId);
    mapFlags.push(flags);
  }
  mapIds = new IdRows(ids);
}

let fnIds = new IdRows(new U64s(0));

function decodeFunctions(): void {
  const r = ranges[5];
  const n = r.len >> 1;
  nFunctions = n;
  const ids = new U64s(n);
  fnName = new U32s(n);
  fnSystemName = new U32s(n);
  fnFilename = new U32s(n);
  fnStartLine = new U64s(n);
  for (let i = 0; i < n; i++) {
    rp = r.get(2 * i);
    re = r.get(2 * i + 1);
    let id: u64 = 0;
    let name: u32 = 0;
    let systemName: u32 = 0;
    let filename: u32 = 0;
    let startLine: i64 = 0;
    while (rp < re) {
      const f = tag();
      if (f <= 5) expect(0);
      if (f === 1) id = uint53();
      else if (f === 2) name = index();
      else if (f === 3) systemName = index();
      else if (f === 4) filename = index();
      else if (f === 5) startLine = int53();
      else skip(wire);
    }
    checkIndex(name);
    checkIndex(systemName);
    checkIndex(filename);
    ids.push(id);
    fnName.push(name);
    fnSystemName.push(systemName);
    fnFilename.push(filename);
    fnStartLine.push(<u64>startLine);
  }
  fnIds = new IdRows(ids);
}

function decodeLocations(): void {
  const r = ranges[4];
  const n = r.len >> 1;
  nLocations = n;
  locId = new U64s(n);
  locMapping = new U32s(n);
  locAddress = new U64s(n);
  locFolded = new U32s(n);
  locLineStart = new U32s(n + 1);
  locLineStart.push(0);
  lineFn = new U32s(n + (n >> 3) + 16);
  lineLine = new U64s(n + (n >> 3) + 16);
  lineColumn = new U64s(n + (n >> 3) + 16);
  for (let i = 0; i < n; i++) {
    rp = r.get(2 * i);
    const end = <usize>r.get(2 * i + 1);
    re = end;
    let id: u64 = 0;
    let mappingId: u64 = 0;
    let address: u64 = 0;
    let folded: u32 = 0;
    while (rp < end) {
      const f = tag();
      if (f === 4) {
        expect(2);
        const e = delimitedEnd();
        re = e;
        let fnId: u64 = 0;
        let line: i64 = 0;
        let column: i64 = 0;
        while (rp < e) {
          const g = tag();
          if (g <= 3) expect(0);
          if (g === 1) fnId = uint53();
          else if (g === 2) line = int53();
          else if (g === 3) column = int53();
          else skip(wire);
        }
        re = end;
        lineFn.push(fnId !== 0 ? <u32>fnIds.row(fnId) : <u32>-1);
        lineLine.push(<u64>line);
        lineColumn.push(<u64>column);
        continue;
      }
      if (f <= 5) expect(0);
      if (f === 1) id = uint53();
      else if (f === 2) mappingId = uint53();
      else if (f === 3) address = varint();
      else if (f === 5) folded = varint() !== 0 ? 1 : 0;
      else skip(wire);
    }
    locId.push(id);
    locMapping.push(mappingId !== 0 ? <u32>mapIds.row(mappingId) : <u32>-1);
    locAddress.push(address);
    locFolded.push(folded);
    locLineStart.push(<u32>lineFn.len);
  }
  // Lines past the first allocation (initialLineCapacity) are charged as the decoder's regrown
  // columns would be, LINE_BYTES each, with room for the regrowing.
  const first = <f64>n * 1.125 + 16;
  if (<f64>lineFn.len > first) budgetLeft -= <f64>lineFn.len * 20 * 3;
  if (budgetLeft < 0) fail(F_BUDGET);
  locIds = new IdRows(locId);
}

/** The source's sample types and period type must be the first source's (checkCompatible). */
let firstStrPtr = new U32s(0);
let firstStrLen = new U32s(0);
let firstSampleTypes = new U32s(0);
let firstPeriodType0: u32 = 0;
let firstPeriodType1: u32 = 0;

function sameString(i: u32, firstIndex: u32): bool {
  const n = strLen.get(<i32>i);
  return n === firstStrLen.get(<i32>firstIndex) && sameBytes(strPtr.get(<i32>i), firstStrPtr.get(<i32>firstIndex), n);
}

function checkCompatible(): void {
  if (!sameString(srcPeriodType0, firstPeriodType0) || !sameString(srcPeriodType1, firstPeriodType1)) fail(F_INCOMPATIBLE);
  if (srcSampleTypes.len !== firstSampleTypes.len) fail(F_INCOMPATIBLE);
  for (let i = 0; i < srcSampleTypes.len; i++) if (!sameString(srcSampleTypes.get(i), firstSampleTypes.get(i))) fail(F_INCOMPATIBLE);
}

// ---------------------------------------------------------------------------------------------
// Merging one source (merger.ts's Merger: begin, mergeHeader, mapMapping, mapFunction,
// mapLocation, labelSetId, addSample, pushLabels).

/** The merged index of source string i. */
function str(i: u32): u32 {
  const m = i32At(strMap, <i32>i);
  if (m >= 0) return <u32>m;
  const o = internBytes(strPtr.get(<i32>i), strLen.get(<i32>i));
  setI32(strMap, <i32>i, o);
  return <u32>o;
}

/** The merged index of source string i, interned without the per-source cache (the builder's string()). */
function contentIndex(i: u32): u32 {
  return <u32>internBytes(strPtr.get(<i32>i), strLen.get(<i32>i));
}

function startMerge(): void {
  nValues = srcSampleTypes.len >> 1;
  for (let i = 0; i < srcSampleTypes.len; i++) outSampleTypes.push(contentIndex(srcSampleTypes.get(i)));
  outPeriodType0 = contentIndex(srcPeriodType0);
  outPeriodType1 = contentIndex(srcPeriodType1);
  outDefaultSampleType = contentIndex(srcDefaultSampleType);
  firstStrPtr = strPtr;
  firstStrLen = strLen;
  firstSampleTypes = srcSampleTypes;
  firstPeriodType0 = srcPeriodType0;
  firstPeriodType1 = srcPeriodType1;
}

function mergeHeader(): void {
  if (outTime === 0 || srcTime < outTime) outTime = srcTime;
  const sum = outDuration + srcDuration;
  // bigint in TypeScript: a sum past int64 is left to it.
  if ((srcDuration > 0 && sum < outDuration) || (srcDuration < 0 && sum > outDuration)) fail(F_RANGE);
  outDuration = sum;
  if (outPeriod === 0 || outPeriod < srcPeriod) outPeriod = srcPeriod;
  for (let c = 0; c < srcComments.len; c++) {
    const i = srcComments.get(c);
    // A comment text not seen yet is interned and appended (seenComments).
    const h = hashBytes(strPtr.get(<i32>i), strLen.get(<i32>i));
    const known = findString(strPtr.get(<i32>i), strLen.get(<i32>i), h);
    let seen = false;
    if (known >= 0) for (let k = 0; k < outComments.len; k++) if (outComments.get(k) === <u32>known) seen = true;
    if (!seen) {
      if (outComments.len === 4096) fail(F_LIMIT);
      outComments.push(contentIndex(i));
    }
  }
  if (outDefaultSampleType === 0 && srcDefaultSampleType !== 0) outDefaultSampleType = contentIndex(srcDefaultSampleType);
  if (outDocUrl === 0 && srcDocUrl !== 0) outDocUrl = contentIndex(srcDocUrl);
  if (outDropFrames === 0 && srcDropFrames !== 0) outDropFrames = contentIndex(srcDropFrames);
  if (outKeepFrames === 0 && srcKeepFrames !== 0) outKeepFrames = contentIndex(srcKeepFrames);
}

function begin(): void {
  mergeHeader();
  strMap = minusOnes(nStrings);
  fnMap = minusOnes(nFunctions);
  locMap = minusOnes(nLocations);
  mapMap = minusOnes(nMappings);
  mapShift = new U64s(nMappings);
  mapShift.len = nMappings;
  if (outMapStart.len === 0 && nMappings > 0) mapMapping(0);
}

function mapMapping(m: i32): i32 {
  const mapped = i32At(mapMap, m);
  if (mapped >= 0) return mapped;
  const start = mapStart.get(m);
  const limit = mapLimit.get(m);
  const offset = mapOffset.get(m);
  const size = (limit - start + 0xfff) & ~(<u64>0xfff);
  const keyString = strLen.get(<i32>mapBuildId.get(m)) !== 0 ? mapBuildId.get(m) : mapFilename.get(m);
  const kp = strPtr.get(<i32>keyString);
  const kn = strLen.get(<i32>keyString);
  let row = -1;
  for (let r = 0; r < outMapStart.len; r++) {
    if (
      outMapKeySize.get(r) === size &&
      outMapOffset.get(r) === offset &&
      outMapKeyLen.get(r) === kn &&
      sameBytes(outMapKeyPtr.get(r), kp, kn)
    ) {
      row = r;
      break;
    }
  }
  if (row < 0) {
    if (outMapStart.len === 1024) fail(F_LIMIT);
    row = outMapStart.len;
    outMapStart.push(start);
    outMapLimit.push(limit);
    outMapOffset.push(offset);
    outMapFilename.push(str(mapFilename.get(m)));
    outMapBuildId.push(str(mapBuildId.get(m)));
    outMapFlags.push(mapFlags.get(m));
    outMapKeySize.push(size);
    outMapKeyPtr.push(kp);
    outMapKeyLen.push(kn);
    mapShift.set(m, 0);
  } else {
    // The same binary loaded at another address: this source's addresses are rebased onto it.
    mapShift.set(m, outMapStart.get(row) - start);
  }
  setI32(mapMap, m, row);
  return row;
}

function mapFunction(f: i32): i32 {
  const m = i32At(fnMap, f);
  if (m >= 0) return m;
  key.len = 0;
  key.reserve(5);
  key.push(str(fnName.get(f)));
  key.push(str(fnSystemName.get(f)));
  key.push(str(fnFilename.get(f)));
  const startLine = fnStartLine.get(f);
  pushF64Bits(startLine);
  const before = functionKeys.count;
  const row = functionKeys.intern(key.ptr, key.len);
  if (row === before) {
    outFnName.push(key.get(0));
    outFnSystemName.push(key.get(1));
    outFnFilename.push(key.get(2));
    outFnStartLine.push(startLine);
  }
  setI32(fnMap, f, row);
  return row;
}

/** Appends the float64 bits of the integer v (|v| < 2^53) to the key, as KeyWriter does. */
function pushF64Bits(v: u64): void {
  const bits = reinterpret<u64>(<f64>(<i64>v));
  key.push(<u32>bits);
  key.push(<u32>(bits >>> 32));
}

function mapLocation(loc: i32): i32 {
  const srcMapping = <i32>locMapping.get(loc);
  let mapping: i32 = -1;
  let address = locAddress.get(loc);
  if (srcMapping >= 0) {
    mapping = mapMapping(srcMapping);
    address += mapShift.get(srcMapping);
  }
  const a = <i32>locLineStart.get(loc);
  const b = <i32>locLineStart.get(loc + 1);
  for (let l = a; l < b; l++) {
    const f = <i32>lineFn.get(l);
    if (f >= 0 && i32At(fnMap, f) < 0) mapFunction(f);
  }
  key.len = 0;
  key.reserve(4 + 5 * (b - a));
  key.push(<u32>(mapping + 1));
  key.push(<u32>address);
  key.push(<u32>(address >>> 32));
  key.push(locFolded.get(loc));
  for (let l = a; l < b; l++) {
    const f = <i32>lineFn.get(l);
    key.push(f >= 0 ? <u32>(i32At(fnMap, f) + 1) : 0);
    pushF64Bits(lineLine.get(l));
    pushF64Bits(lineColumn.get(l));
  }
  const before = locationKeys.count;
  const row = locationKeys.intern(key.ptr, key.len);
  if (row === before) {
    outLocMapping.push(<u32>mapping);
    outLocAddress.push(address);
    outLocFolded.push(locFolded.get(loc));
    for (let l = a; l < b; l++) {
      const f = <i32>lineFn.get(l);
      outLineFn.push(f >= 0 ? <u32>i32At(fnMap, f) : <u32>-1);
      outLineLine.push(lineLine.get(l));
      outLineColumn.push(lineColumn.get(l));
    }
    outLocLineStart.push(<u32>outLineFn.len);
  }
  setI32(locMap, loc, row);
  return row;
}

/** The label-set id (1-based) of the labels of the sample just read (KeyWriter.labelSetKey). */
function labelSetId(): u32 {
  const n = labelKey.len;
  labelOrder.len = 0;
  labelOrder.reserve(2 * n);
  const order = labelOrder.ptr;
  for (let l = 0; l < n; l++) {
    // Stable insertion sort by rank: merged key index, numeric labels after string ones.
    const rank = str(labelKey.get(l)) * 2 + (labelStr.get(l) !== 0 ? 0 : 1);
    let k = 2 * l;
    while (k > 0 && load<u32>(order + ((<usize>(k - 1)) << 2)) > rank) {
      store<u32>(order + ((<usize>k) << 2), load<u32>(order + ((<usize>(k - 2)) << 2)));
      store<u32>(order + ((<usize>(k + 1)) << 2), load<u32>(order + ((<usize>(k - 1)) << 2)));
      k -= 2;
    }
    store<u32>(order + ((<usize>k) << 2), <u32>l);
    store<u32>(order + ((<usize>(k + 1)) << 2), rank);
  }
  key.len = 0;
  key.reserve(4 * n);
  for (let k = 0; k < 2 * n; k += 2) {
    const l = <i32>load<u32>(order + ((<usize>k) << 2));
    key.push(load<u32>(order + ((<usize>(k + 1)) << 2)));
    if (labelStr.get(l) !== 0) {
      key.push(str(labelStr.get(l)));
    } else {
      pushF64Bits(labelNum.get(l));
      key.push(str(labelUnit.get(l)));
    }
  }
  return <u32>labelSets.intern(key.ptr, key.len) + 1;
}

/** Merges the sample just read (stack of source rows, values, labels). */
function mergeSample(dropLabels: bool): void {
  const V = nValues;
  let zero = true;
  for (let j = 0; j < V; j++) if (values.get(j) !== 0) zero = false;
  if (zero) return;
  const n = stack.len;
  for (let q = 0; q < n; q++) {
    const loc = <i32>stack.get(q);
    const m = i32At(locMap, loc);
    stack.set(q, <u32>(m >= 0 ? m : mapLocation(loc)));
  }
  const hasLabels = !dropLabels && labelKey.len > 0;
  const labelSet = hasLabels ? labelSetId() : 0;
  stack.push(labelSet);
  const before = sampleKeys.count;
  const id = sampleKeys.intern(stack.ptr, stack.len);
  if (id === before) {
    for (let j = 0; j < V; j++) outValues.push(values.get(j));
    if (hasLabels) {
      for (let l = 0; l < labelKey.len; l++) {
        outLabelKey.push(str(labelKey.get(l)));
        outLabelStr.push(str(labelStr.get(l)));
        outLabelNum.push(labelNum.get(l));
        outLabelUnit.push(str(labelUnit.get(l)));
      }
    }
    outLabelStart.push(<u32>outLabelKey.len);
  } else {
    const o = id * V;
    for (let j = 0; j < V; j++) {
      const sum = <i64>outValues.get(o + j) + <i64>values.get(j);
      if (sum >= TWO_53 || sum < -TWO_53) fail(F_SUM);
      outValues.set(o + j, <u64>sum);
    }
  }
}

/** Reads sample i of the source into stack (source rows), values and the label columns. */
function readSample(start: usize, end: usize): void {
  rp = start;
  re = end;
  stack.len = 0;
  values.len = 0;
  labelKey.len = 0;
  labelStr.len = 0;
  labelNum.len = 0;
  labelUnit.len = 0;
  const V = nValues;
  while (rp < end) {
    const f = tag();
    if (f === 1) {
      if (wire === 2) {
        const e = delimitedEnd();
        re = e;
        stack.reserve(stack.len + <i32>(e - rp));
        while (rp < e) stack.push(<u32>locIds.row(uint53()));
        re = end;
      } else {
        expect(0);
        stack.push(<u32>locIds.row(uint53()));
      }
    } else if (f === 2) {
      if (wire === 2) {
        const e = delimitedEnd();
        re = e;
        while (rp < e) {
          if (values.len === V) fail(F_VALUES);
          values.push(<u64>int53());
        }
        re = end;
      } else {
        expect(0);
        if (values.len === V) fail(F_VALUES);
        values.push(<u64>int53());
      }
    } else if (f === 3) {
      expect(2);
      const e = delimitedEnd();
      re = e;
      let k: u32 = 0;
      let s: u32 = 0;
      let num: i64 = 0;
      let unit: u32 = 0;
      while (rp < e) {
        const g = tag();
        if (g <= 4) expect(0);
        if (g === 1) k = index();
        else if (g === 2) s = index();
        else if (g === 3) num = int53();
        else if (g === 4) unit = index();
        else skip(wire);
      }
      re = end;
      checkIndex(k);
      checkIndex(s);
      checkIndex(unit);
      labelKey.push(k);
      labelStr.push(s);
      labelNum.push(<u64>num);
      labelUnit.push(unit);
    } else {
      skip(wire);
    }
  }
  if (values.len !== V) fail(F_VALUES);
  // What decodeProfile's sample table would hold of this sample (EncodedSampleReader.merge): 4
  // bytes per location and SAMPLE_LABEL_BYTES per label.
  budgetLeft -= <f64>(4 * stack.len + 20 * labelKey.len);
  if (budgetLeft < 0) fail(F_BUDGET);
}

function checkHeaderIndexes(): void {
  for (let i = 0; i < srcSampleTypes.len; i++) checkIndex(srcSampleTypes.get(i));
  checkIndex(srcPeriodType0);
  checkIndex(srcPeriodType1);
  for (let i = 0; i < srcComments.len; i++) checkIndex(srcComments.get(i));
  checkIndex(srcDropFrames);
  checkIndex(srcKeepFrames);
  checkIndex(srcDefaultSampleType);
  checkIndex(srcDocUrl);
}

function mergeSource(s: i32, dropLabels: bool): void {
  const p = <usize>inputPtr.get(s);
  const n = inputLen.get(s);
  if (n === 0) fail(F_TRUNCATED);
  scanTopLevel(p, n);
  checkBudget(n);
  decodeStrings();
  checkHeaderIndexes();
  decodeMappings();
  decodeFunctions();
  decodeLocations();
  if (s === 0) startMerge();
  else checkCompatible();
  begin();
  const r = ranges[2];
  const samples = r.len >> 1;
  for (let i = 0; i < samples; i++) {
    readSample(r.get(2 * i), r.get(2 * i + 1));
    mergeSample(dropLabels);
  }
  inputSamples += samples;
}

// ---------------------------------------------------------------------------------------------
// Encoding (encode.ts): fields in field-number order, tables in row order, zeros omitted.

let outBase: usize = 0;
let outCap: usize = 0;
let wp: usize = 0;
const cuts = new U32s(16);
let chunkStart: usize = 0;
let chunkBytes: usize = 1 << 20;

function ensure(extra: usize): void {
  if (wp + extra <= outCap) return;
  let c = outCap * 2;
  while (c < wp + extra) c *= 2;
  outBase = heap.realloc(outBase, c);
  outCap = c;
}

function _putByte(b: u32): void {
  store<u8>(outBase + wp, <u8>b);
  wp++;
}

function putVarint(v: u64): void {
  ensure(10);
  let p = outBase + wp;
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>>= 7;
  }
  store<u8>(p++, <u8>v);
  wp = p - outBase;
}

function putTag(field: u32, w: u32): void {
  putVarint(<u64>((field << 3) | w));
}

function varField(field: u32, v: u64): void {
  if (v !== 0) {
    putTag(field, 0);
    putVarint(v);
  }
}

function beginField(field: u32): usize {
  putTag(field, 2);
  ensure(1);
  return wp++;
}

function endField(mark: usize): void {
  const len = wp - mark - 1;
  if (len < 0x80) {
    store<u8>(outBase + mark, <u8>len);
    return;
  }
  let extra: usize = 0;
  for (let l = len >>> 7; l > 0; l >>>= 7) extra++;
  ensure(extra);
  memory.copy(outBase + mark + 1 + extra, outBase + mark + 1, len);
  wp += extra;
  let v = len;
  let p = outBase + mark;
  while (v > 0x7f) {
    store<u8>(p++, <u8>((v & 0x7f) | 0x80));
    v >>>= 7;
  }
  store<u8>(p, <u8>v);
}

/** Cuts the output here if the piece since the last cut is a chunk (ChunkedWriter.flush). */
function flush(): void {
  if (wp - chunkStart >= chunkBytes) {
    cuts.push(<u32>wp);
    chunkStart = wp;
  }
}

function encode(): void {
  outCap = 1 << 16;
  outBase = heap.alloc(outCap);
  wp = 0;
  for (let i = 0; i < outSampleTypes.len; i += 2) {
    const m = beginField(1);
    varField(1, outSampleTypes.get(i));
    varField(2, outSampleTypes.get(i + 1));
    endField(m);
  }
  const V = nValues;
  const starts = sampleKeys.starts;
  const arena = sampleKeys.arena;
  for (let i = 0; i < sampleKeys.count; i++) {
    const m = beginField(2);
    const a = <i32>starts.get(i);
    const b = <i32>starts.get(i + 1) - 1; // the last word is the label set
    if (b > a) {
      const packed = beginField(1);
      ensure(<usize>(b - a) * 5);
      let p = outBase + wp;
      for (let j = a; j < b; j++) {
        let id = arena.get(j) + 1;
        while (id >= 0x80) {
          store<u8>(p++, <u8>(id | 0x80));
          id >>>= 7;
        }
        store<u8>(p++, <u8>id);
      }
      wp = p - outBase;
      endField(packed);
    }
    if (V > 0) {
      const packed = beginField(2);
      for (let j = 0; j < V; j++) putVarint(outValues.get(i * V + j));
      endField(packed);
    }
    for (let l = <i32>outLabelStart.get(i); l < <i32>outLabelStart.get(i + 1); l++) {
      const lm = beginField(3);
      varField(1, outLabelKey.get(l));
      varField(2, outLabelStr.get(l));
      varField(3, outLabelNum.get(l));
      varField(4, outLabelUnit.get(l));
      endField(lm);
    }
    endField(m);
    flush();
  }
  for (let i = 0; i < outMapStart.len; i++) {
    const m = beginField(3);
    varField(1, <u64>(i + 1));
    varField(2, outMapStart.get(i));
    varField(3, outMapLimit.get(i));
    varField(4, outMapOffset.get(i));
    varField(5, outMapFilename.get(i));
    varField(6, outMapBuildId.get(i));
    const flags = outMapFlags.get(i);
    for (let f: u32 = 0; f < 4; f++) varField(7 + f, (flags >>> f) & 1);
    endField(m);
  }
  for (let i = 0; i < locationKeys.count; i++) {
    const m = beginField(4);
    varField(1, <u64>(i + 1));
    const mapping = <i32>outLocMapping.get(i);
    if (mapping >= 0) varField(2, <u64>(mapping + 1));
    varField(3, outLocAddress.get(i));
    for (let l = <i32>outLocLineStart.get(i); l < <i32>outLocLineStart.get(i + 1); l++) {
      const lm = beginField(4);
      const fn = <i32>outLineFn.get(l);
      if (fn >= 0) varField(1, <u64>(fn + 1));
      varField(2, outLineLine.get(l));
      varField(3, outLineColumn.get(l));
      endField(lm);
    }
    varField(5, outLocFolded.get(i));
    endField(m);
    flush();
  }
  for (let i = 0; i < functionKeys.count; i++) {
    const m = beginField(5);
    varField(1, <u64>(i + 1));
    varField(2, outFnName.get(i));
    varField(3, outFnSystemName.get(i));
    varField(4, outFnFilename.get(i));
    varField(5, outFnStartLine.get(i));
    endField(m);
  }
  for (let i = 0; i < outStrPtr.len; i++) {
    const n = outStrLen.get(i);
    putTag(6, 2);
    putVarint(n);
    ensure(n);
    memory.copy(outBase + wp, outStrPtr.get(i), n);
    wp += n;
  }
  varField(7, outDropFrames);
  varField(8, outKeepFrames);
  varField(9, <u64>outTime);
  varField(10, <u64>outDuration);
  if (outPeriodType0 !== 0 || outPeriodType1 !== 0) {
    const m = beginField(11);
    varField(1, outPeriodType0);
    varField(2, outPeriodType1);
    endField(m);
  }
  varField(12, <u64>outPeriod);
  if (outComments.len > 0) {
    const m = beginField(13);
    for (let i = 0; i < outComments.len; i++) putVarint(outComments.get(i));
    endField(m);
  }
  varField(14, outDefaultSampleType);
  varField(15, outDocUrl);
}

// ---------------------------------------------------------------------------------------------
// Entry point and results.

/**
 * Merges the registered inputs; `chunk` is the gzip member size (GZIP_MEMBER_BYTES). Returns
 * normally when the merge is done (see outputPointer...), traps otherwise (failureCode).
 */
export function merge(dropLabels: bool, chunk: u32): void {
  chunkBytes = chunk;
  strSlotsFor(1 << 12);
  internBytes(0, 0);
  outLocLineStart.push(0);
  outLabelStart.push(0);
  for (let s = 0; s < inputPtr.len; s++) mergeSource(s, dropLabels);
  // A merged sample whose values cancel out: the TypeScript merger merges again to drop it.
  const V = nValues;
  for (let i = 0; i < sampleKeys.count; i++) {
    let zero = true;
    for (let j = 0; j < V; j++) if (outValues.get(i * V + j) !== 0) zero = false;
    if (zero) fail(F_SUM);
  }
  encode();
}

export function outputPointer(): usize {
  return outBase;
}

export function outputLength(): usize {
  return wp;
}

/** Where the output is cut into gzip members: cutCount() offsets at cutsPointer(), as uint32. */
export function cutsPointer(): usize {
  return cuts.ptr;
}

export function cutCount(): i32 {
  return cuts.len;
}

export function mergedSampleCount(): i32 {
  return sampleKeys.count;
}

export function inputSampleCount(): i32 {
  return inputSamples;
}
