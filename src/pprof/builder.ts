import { GrowableBigUint64, GrowableFloat64, GrowableInt32, GrowableUint8, GrowableUint32 } from './growable.js';
import { emptyProfile, type Profile } from './profile.js';
import { internString } from './string-index.js';

export interface LineSpec {
  /** Function row number, or -1 for none. */
  fn: number;
  line: number;
  column?: number;
}

export interface LabelSpec {
  key: string;
  str?: string;
  num?: number;
  numUnit?: string;
}

/**
 * Builds a Profile table by table. Strings are interned (index 0 is ""), rows get ids
 * 1, 2, 3... unless given, and the growable columns are public so hot loops (merge, trim)
 * can append without a call per field. `finish()` returns the profile; the header fields
 * are set directly on `header`.
 */
export class ProfileBuilder {
  readonly header: Profile = emptyProfile();
  private readonly stringIndex = new Map<string, number>([['', 0]]);
  readonly strings: string[] = [''];

  readonly fnId = new GrowableFloat64();
  readonly fnName = new GrowableInt32();
  readonly fnSystemName = new GrowableInt32();
  readonly fnFilename = new GrowableInt32();
  readonly fnStartLine = new GrowableFloat64();

  readonly mapId = new GrowableFloat64(4);
  readonly mapStart = new GrowableBigUint64(4);
  readonly mapLimit = new GrowableBigUint64(4);
  readonly mapOffset = new GrowableBigUint64(4);
  readonly mapFilename = new GrowableInt32(4);
  readonly mapBuildId = new GrowableInt32(4);
  readonly mapFlags = new GrowableUint8(4);

  readonly locId = new GrowableFloat64();
  readonly locMapping = new GrowableInt32();
  readonly locAddress = new GrowableBigUint64();
  readonly locIsFolded = new GrowableUint8();
  readonly locLineStart = new GrowableUint32();
  readonly lineFunction = new GrowableInt32();
  readonly lineLine = new GrowableFloat64();
  readonly lineColumn = new GrowableFloat64();

  readonly sampleLocStart = new GrowableUint32(1024);
  readonly sampleLocs = new GrowableUint32(8192);
  readonly sampleValues = new GrowableFloat64(2048);
  readonly sampleLabelStart = new GrowableUint32(1024);
  readonly labelKey = new GrowableInt32();
  readonly labelStr = new GrowableInt32();
  readonly labelNum = new GrowableFloat64();
  readonly labelNumUnit = new GrowableInt32();

  constructor() {
    this.locLineStart.push(0);
    this.sampleLocStart.push(0);
    this.sampleLabelStart.push(0);
  }

  /**
   * Returns a builder with the header of a Go runtime CPU profile: sample types samples/count
   * and cpu/nanoseconds, period type cpu/nanoseconds, period 10 ms (100 Hz).
   */
  static goCpu(): ProfileBuilder {
    const b = new ProfileBuilder();
    b.setSampleTypes([
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ]);
    b.setPeriodType('cpu', 'nanoseconds');
    b.header.period = 10_000_000n;
    return b;
  }

  /** Returns the string-table index of s, adding it when new. */
  string(s: string): number {
    return internString(this.strings, this.stringIndex, s);
  }

  setSampleTypes(types: Array<{ type: string; unit: string }>): void {
    const out = new Int32Array(types.length * 2);
    types.forEach((t, i) => {
      out[2 * i] = this.string(t.type);
      out[2 * i + 1] = this.string(t.unit);
    });
    this.header.sampleTypes = out;
  }

  setPeriodType(type: string, unit: string): void {
    this.header.periodType = Int32Array.of(this.string(type), this.string(unit));
  }

  get functionCount(): number {
    return this.fnId.length;
  }

  get locationCount(): number {
    return this.locId.length;
  }

  get sampleCount(): number {
    return this.sampleLocStart.length - 1;
  }

  /** Adds a function and returns its row number. */
  addFunction(name: string, filename = '', startLine = 0, systemName = name, id = this.fnId.length + 1): number {
    return this.addFunctionIndexes(this.string(name), this.string(systemName), this.string(filename), startLine, id);
  }

  addFunctionIndexes(name: number, systemName: number, filename: number, startLine: number, id = this.fnId.length + 1): number {
    const row = this.fnId.length;
    this.fnId.push(id);
    this.fnName.push(name);
    this.fnSystemName.push(systemName);
    this.fnFilename.push(filename);
    this.fnStartLine.push(startLine);
    return row;
  }

  /** Adds a mapping and returns its row number. */
  addMapping(m: {
    start?: bigint;
    limit?: bigint;
    offset?: bigint;
    filename?: string;
    buildId?: string;
    flags?: number;
    id?: number;
  }): number {
    const row = this.mapId.length;
    this.mapId.push(m.id ?? row + 1);
    this.mapStart.push(m.start ?? 0n);
    this.mapLimit.push(m.limit ?? 0n);
    this.mapOffset.push(m.offset ?? 0n);
    this.mapFilename.push(this.string(m.filename ?? ''));
    this.mapBuildId.push(this.string(m.buildId ?? ''));
    this.mapFlags.push(m.flags ?? 0);
    return row;
  }

  /** Adds a location (lines innermost first) and returns its row number. */
  addLocation(lines: LineSpec[], opts: { mapping?: number; address?: bigint; isFolded?: boolean; id?: number } = {}): number {
    const row = this.locId.length;
    this.locId.push(opts.id ?? row + 1);
    this.locMapping.push(opts.mapping ?? -1);
    this.locAddress.push(opts.address ?? 0n);
    this.locIsFolded.push(opts.isFolded ? 1 : 0);
    for (const l of lines) {
      this.lineFunction.push(l.fn);
      this.lineLine.push(l.line);
      this.lineColumn.push(l.column ?? 0);
    }
    this.locLineStart.push(this.lineFunction.length);
    return row;
  }

  /** Adds a sample (location rows leaf first) and returns its row number. */
  addSample(locations: ArrayLike<number>, values: ArrayLike<number>, labels: LabelSpec[] = []): number {
    const row = this.sampleCount;
    for (let i = 0; i < locations.length; i++) this.sampleLocs.push(locations[i]);
    this.sampleLocStart.push(this.sampleLocs.length);
    for (let i = 0; i < values.length; i++) this.sampleValues.push(values[i]);
    for (const l of labels) {
      this.labelKey.push(this.string(l.key));
      this.labelStr.push(this.string(l.str ?? ''));
      this.labelNum.push(l.num ?? 0);
      this.labelNumUnit.push(this.string(l.numUnit ?? ''));
    }
    this.sampleLabelStart.push(this.labelKey.length);
    return row;
  }

  finish(): Profile {
    const p = this.header;
    p.strings = this.strings;
    p.functions = {
      count: this.fnId.length,
      id: this.fnId.finish(),
      name: this.fnName.finish(),
      systemName: this.fnSystemName.finish(),
      filename: this.fnFilename.finish(),
      startLine: this.fnStartLine.finish(),
    };
    p.mappings = {
      count: this.mapId.length,
      id: this.mapId.finish(),
      memoryStart: this.mapStart.finish(),
      memoryLimit: this.mapLimit.finish(),
      fileOffset: this.mapOffset.finish(),
      filename: this.mapFilename.finish(),
      buildId: this.mapBuildId.finish(),
      flags: this.mapFlags.finish(),
    };
    p.locations = {
      count: this.locId.length,
      id: this.locId.finish(),
      mapping: this.locMapping.finish(),
      address: this.locAddress.finish(),
      isFolded: this.locIsFolded.finish(),
      lineStart: this.locLineStart.finish(),
      lineFunction: this.lineFunction.finish(),
      lineLine: this.lineLine.finish(),
      lineColumn: this.lineColumn.finish(),
    };
    p.samples = {
      count: this.sampleCount,
      locStart: this.sampleLocStart.finish(),
      locs: this.sampleLocs.finish(),
      values: this.sampleValues.finish(),
      labelStart: this.sampleLabelStart.finish(),
      labelKey: this.labelKey.finish(),
      labelStr: this.labelStr.finish(),
      labelNum: this.labelNum.finish(),
      labelNumUnit: this.labelNumUnit.finish(),
    };
    return p;
  }
}
