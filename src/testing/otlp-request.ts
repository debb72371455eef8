import { ProtoWriter } from '../pprof/proto-writer.js';

/**
 * Builds ExportProfilesServiceRequest protobuf bytes (profiles/v1development, proto v1.10 layout)
 * for tests, field by field as the Go pdata library writes them, from a description whose tables
 * are written exactly as given, zero entries included, so tests can also describe broken
 * requests (an index past its table, a non-empty string_table[0]).
 */
export interface OtlpSpec {
  strings: string[];
  mappings?: Array<{ start?: bigint; limit?: bigint; offset?: bigint; filename?: number }>;
  /** Each location's lines, innermost first; function indexes into `functions`. */
  locations?: Array<{ mapping?: number; address?: bigint; lines?: Array<{ fn: number; line?: number }> }>;
  functions?: Array<{ name?: number; systemName?: number; filename?: number; startLine?: number }>;
  /** How many link_table entries (trace and span ids are not read). */
  links?: number;
  attributes?: Array<{ key: number; str?: string; int?: number; unit?: number }>;
  /** location indexes of each stack, leaf first. */
  stacks?: number[][];
  resources: OtlpResourceSpec[];
}

export interface OtlpResourceSpec {
  attributes?: Array<[string, string | number | boolean]>;
  profiles: OtlpProfileSpec[];
}

export interface OtlpProfileSpec {
  sampleType: [number, number];
  periodType?: [number, number];
  period?: number;
  timeUnixNano?: bigint;
  durationNano?: bigint;
  attributes?: number[];
  samples: Array<{ stack: number; values?: number[]; timestamps?: bigint[]; attributes?: number[]; link?: number }>;
}

export function otlpRequestBytes(spec: OtlpSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const resource of spec.resources) {
    const rp = w.begin(1);
    const res = w.begin(1);
    for (const [key, value] of resource.attributes ?? []) {
      const kv = w.begin(1);
      w.bytesField(1, new TextEncoder().encode(key));
      const v = w.begin(2);
      if (typeof value === 'string') w.bytesField(1, new TextEncoder().encode(value));
      else if (typeof value === 'boolean') w.boolField(2, value);
      else w.intField(3, value);
      w.end(v);
      w.end(kv);
    }
    w.end(res);
    const sp = w.begin(2);
    const scope = w.begin(1);
    w.bytesField(1, new TextEncoder().encode('hotpath.test'));
    w.end(scope);
    for (const p of resource.profiles) writeProfile(w, p);
    w.end(sp);
    w.end(rp);
  }
  const d = w.begin(2);
  for (const m of spec.mappings ?? [{}]) {
    const e = w.begin(1);
    w.bigField(1, m.start ?? 0n);
    w.bigField(2, m.limit ?? 0n);
    w.bigField(3, m.offset ?? 0n);
    w.uintField(4, m.filename ?? 0);
    w.end(e);
  }
  for (const l of spec.locations ?? [{}]) {
    const e = w.begin(2);
    w.intField(1, l.mapping ?? 0);
    w.bigField(2, l.address ?? 0n);
    for (const line of l.lines ?? []) {
      const le = w.begin(3);
      w.intField(1, line.fn);
      w.intField(2, line.line ?? 0);
      w.end(le);
    }
    w.end(e);
  }
  for (const f of spec.functions ?? [{}]) {
    const e = w.begin(3);
    w.intField(1, f.name ?? 0);
    w.intField(2, f.systemName ?? 0);
    w.intField(3, f.filename ?? 0);
    w.intField(4, f.startLine ?? 0);
    w.end(e);
  }
  for (let i = 0; i < (spec.links ?? 1); i++) w.end(w.begin(4));
  for (const s of spec.strings) w.bytesField(5, new TextEncoder().encode(s));
  for (const a of spec.attributes ?? [{ key: 0 }]) {
    const e = w.begin(6);
    w.intField(1, a.key);
    if (a.str !== undefined || a.int !== undefined) {
      const v = w.begin(2);
      if (a.str !== undefined) w.bytesField(1, new TextEncoder().encode(a.str));
      else w.intField(3, a.int ?? 0);
      w.end(v);
    }
    w.intField(3, a.unit ?? 0);
    w.end(e);
  }
  for (const stack of spec.stacks ?? [[]]) {
    const e = w.begin(7);
    if (stack.length > 0) {
      const packed = w.begin(1);
      for (const l of stack) w.signed(l);
      w.end(packed);
    }
    w.end(e);
  }
  w.end(d);
  return w.finish().slice();
}

function writeProfile(w: ProtoWriter, p: OtlpProfileSpec): void {
  const m = w.begin(2);
  const st = w.begin(1);
  w.intField(1, p.sampleType[0]);
  w.intField(2, p.sampleType[1]);
  w.end(st);
  for (const s of p.samples) {
    const e = w.begin(2);
    w.intField(1, s.stack);
    if (s.attributes && s.attributes.length > 0) {
      const a = w.begin(2);
      for (const x of s.attributes) w.signed(x);
      w.end(a);
    }
    w.intField(3, s.link ?? 0);
    if (s.values && s.values.length > 0) {
      const v = w.begin(4);
      for (const x of s.values) w.signed(x);
      w.end(v);
    }
    if (s.timestamps && s.timestamps.length > 0) {
      w.tag(5, 2);
      w.varint(s.timestamps.length * 8);
      w.ensure(s.timestamps.length * 8);
      for (const t of s.timestamps) {
        new DataView(w.buf.buffer, w.buf.byteOffset + w.pos, 8).setBigUint64(0, t, true);
        w.pos += 8;
      }
    }
    w.end(e);
  }
  if (p.timeUnixNano !== undefined) {
    w.tag(3, 1);
    w.ensure(8);
    new DataView(w.buf.buffer, w.buf.byteOffset + w.pos, 8).setBigUint64(0, p.timeUnixNano, true);
    w.pos += 8;
  }
  w.bigField(4, p.durationNano ?? 0n);
  if (p.periodType) {
    const pt = w.begin(5);
    w.intField(1, p.periodType[0]);
    w.intField(2, p.periodType[1]);
    w.end(pt);
  }
  w.intField(6, p.period ?? 0);
  if (p.attributes && p.attributes.length > 0) {
    const a = w.begin(11);
    for (const x of p.attributes) w.signed(x);
    w.end(a);
  }
  w.end(m);
}

/**
 * A small Go CPU profile as an OTLP request: main.burn called from main.main (runtime.main,
 * runtime.goexit below), 30 ms of CPU in main.burn and 10 ms in main.main, sampled every 10 ms,
 * under a resource of service checkout in env prod.
 */
export function goCpuSpec(): OtlpSpec {
  return {
    strings: [
      '',
      'cpu',
      'nanoseconds',
      'main.burn',
      'main.main',
      'runtime.main',
      'runtime.goexit',
      '/src/main.go',
      'span',
      'req-1',
      'bytes',
    ],
    functions: [{}, { name: 3, filename: 7, startLine: 10 }, { name: 4, filename: 7, startLine: 20 }, { name: 5 }, { name: 6 }],
    mappings: [{}, { start: 0x400000n, limit: 0x800000n, filename: 7 }],
    locations: [
      {},
      { mapping: 1, address: 0x401000n, lines: [{ fn: 1, line: 12 }] },
      { mapping: 1, address: 0x402000n, lines: [{ fn: 2, line: 22 }] },
      { mapping: 1, address: 0x403000n, lines: [{ fn: 3, line: 250 }] },
      { mapping: 1, address: 0x404000n, lines: [{ fn: 4, line: 1700 }] },
    ],
    stacks: [[], [1, 2, 3, 4], [2, 3, 4]],
    attributes: [{ key: 0 }, { key: 8, str: 'req-1' }, { key: 10, int: 4096, unit: 10 }],
    resources: [
      {
        attributes: [
          ['service.name', 'checkout'],
          ['deployment.environment.name', 'prod'],
          ['service.version', '1.4.2'],
          ['telemetry.sdk.language', 'go'],
          ['k8s.namespace.name', 'shop'],
        ],
        profiles: [
          {
            sampleType: [1, 2],
            periodType: [1, 2],
            period: 10_000_000,
            timeUnixNano: 1_764_000_000_000_000_000n,
            durationNano: 10_000_000_000n,
            samples: [
              { stack: 1, values: [30_000_000], attributes: [1, 2] },
              { stack: 2, values: [10_000_000] },
            ],
          },
        ],
      },
    ],
  };
}
