import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { ProfileError } from '../pprof/errors.js';
import type { Profile } from '../pprof/profile.js';
import { type CallEdge, compareEdges, computeCallEdges, formatPreprofile } from './call-edges.js';

type Types = Array<{ type: string; unit: string }>;
const SAMPLES_CPU: Types = [
  { type: 'samples', unit: 'count' },
  { type: 'cpu', unit: 'nanoseconds' },
];

/** A builder with the given sample types and functions main.main(5), a(10), b(20), c(30), d(40). */
function builder(types: Types = SAMPLES_CPU) {
  const b = new ProfileBuilder();
  b.setSampleTypes(types);
  b.setPeriodType('cpu', 'nanoseconds');
  const fn = {
    main: b.addFunction('main.main', 'main.go', 5),
    a: b.addFunction('main.a', 'main.go', 10),
    b: b.addFunction('main.b', 'main.go', 20),
    c: b.addFunction('main.c', 'main.go', 30),
    d: b.addFunction('main.d', 'main.go', 40),
  };
  return { b, fn };
}

const throwsProfileError = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProfileError, `expected ProfileError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
};

describe('computeCallEdges', () => {
  it('counts only the two leaf locations of each stack', () => {
    const { b, fn } = builder();
    const lb = b.addLocation([{ fn: fn.b, line: 23 }], { address: 0x30n });
    const la = b.addLocation([{ fn: fn.a, line: 12 }], { address: 0x20n });
    const lmain = b.addLocation([{ fn: fn.main, line: 7 }], { address: 0x10n });
    b.addSample([lb, la, lmain], [2, 20]);
    b.addSample([lmain], [100, 1000]); // one location: no edge at all
    const r = computeCallEdges(b.finish());
    assert.deepEqual(r.edges, [{ caller: 'main.a', callee: 'main.b', offset: 2, weight: 2 }]);
    assert.equal(r.totalWeight, 2, 'the total is of edge weights, not of samples');
    assert.equal(r.valueType, 'samples/count');
  });

  it('walks inlined lines from the outermost caller to the innermost leaf', () => {
    const { b, fn } = builder();
    // Leaf location: d inlined into c inlined into b (innermost first).
    const leaf = b.addLocation(
      [
        { fn: fn.d, line: 41 },
        { fn: fn.c, line: 33 },
        { fn: fn.b, line: 27 },
      ],
      { address: 0x300n },
    );
    // Caller location: a inlined into main.
    const caller = b.addLocation(
      [
        { fn: fn.a, line: 15 },
        { fn: fn.main, line: 9 },
      ],
      { address: 0x200n },
    );
    b.addSample([leaf, caller], [1, 10]);
    assert.deepEqual(
      computeCallEdges(b.finish()).edges,
      [
        { caller: 'main.a', callee: 'main.b', offset: 5 },
        { caller: 'main.b', callee: 'main.c', offset: 7 },
        { caller: 'main.c', callee: 'main.d', offset: 3 },
        { caller: 'main.main', callee: 'main.a', offset: 4 },
      ].map((e) => ({ ...e, weight: 1 })),
    );
  });

  it('uses caller line − caller start line as the offset, negative ones included', () => {
    const { b, fn } = builder();
    const leaf = b.addLocation([{ fn: fn.b, line: 25 }], { address: 0x30n });
    const callerAbove = b.addLocation([{ fn: fn.a, line: 8 }], { address: 0x20n }); // a starts at 10
    const callerBelow = b.addLocation([{ fn: fn.c, line: 100 }], { address: 0x40n });
    b.addSample([leaf, callerAbove], [1, 1]);
    b.addSample([leaf, callerBelow], [1, 1]);
    assert.deepEqual(
      computeCallEdges(b.finish()).edges.map((e) => [e.caller, e.offset]),
      [
        ['main.a', -2],
        ['main.c', 70],
      ],
    );
  });

  it('skips the self-edge between identical nodes but keeps recursion across addresses', () => {
    const { b, fn } = builder();
    const at1 = b.addLocation([{ fn: fn.a, line: 12 }], { address: 0x100n });
    const at1Again = b.addLocation([{ fn: fn.a, line: 12 }], { address: 0x100n });
    const at2 = b.addLocation([{ fn: fn.a, line: 12 }], { address: 0x200n });
    const otherLine = b.addLocation([{ fn: fn.a, line: 13 }], { address: 0x100n });
    b.addSample([at1, at1Again], [1, 1]); // same name, address, start line, line: no edge
    b.addSample([at1, at2], [2, 2]); // another address: an a→a edge
    b.addSample([at1, otherLine], [4, 4]); // another line: an a→a edge from offset 3
    assert.deepEqual(computeCallEdges(b.finish()).edges, [
      { caller: 'main.a', callee: 'main.a', offset: 3, weight: 4 },
      { caller: 'main.a', callee: 'main.a', offset: 2, weight: 2 },
    ]);
  });

  it('counts a node pair once per sample', () => {
    const { b, fn } = builder();
    // Two location rows at one address, each "b inlined into a": the chain is a, b, a, b, so
    // the pair a→b occurs twice and b→a once.
    const l1 = b.addLocation(
      [
        { fn: fn.b, line: 22 },
        { fn: fn.a, line: 12 },
      ],
      { address: 0x100n },
    );
    const l2 = b.addLocation(
      [
        { fn: fn.b, line: 22 },
        { fn: fn.a, line: 12 },
      ],
      { address: 0x100n },
    );
    b.addSample([l1, l2], [5, 5]);
    assert.deepEqual(computeCallEdges(b.finish()).edges, [
      { caller: 'main.a', callee: 'main.b', offset: 2, weight: 5 },
      { caller: 'main.b', callee: 'main.a', offset: 2, weight: 5 },
    ]);
  });

  it('sums edges of different nodes that share caller, callee and offset', () => {
    const { b, fn } = builder();
    const leaf1 = b.addLocation([{ fn: fn.b, line: 21 }], { address: 0x300n });
    const leaf2 = b.addLocation([{ fn: fn.b, line: 29 }], { address: 0x310n });
    const caller1 = b.addLocation([{ fn: fn.a, line: 12 }], { address: 0x200n });
    const caller2 = b.addLocation([{ fn: fn.a, line: 12 }], { address: 0x210n });
    b.addSample([leaf1, caller1], [1, 1]);
    b.addSample([leaf2, caller2], [2, 2]);
    b.addSample([leaf2, caller1], [4, 4]);
    const r = computeCallEdges(b.finish());
    assert.deepEqual(r.edges, [{ caller: 'main.a', callee: 'main.b', offset: 2, weight: 7 }]);
    assert.equal(r.totalWeight, 7);
  });

  it('takes weights from the first of samples/count and cpu/nanoseconds', () => {
    const run = (types: Types, values: number[]) => {
      const { b, fn } = builder(types);
      b.addSample([b.addLocation([{ fn: fn.b, line: 21 }]), b.addLocation([{ fn: fn.a, line: 11 }])], values);
      return computeCallEdges(b.finish());
    };
    const countFirst = run(SAMPLES_CPU, [3, 30_000]);
    assert.equal(countFirst.valueType, 'samples/count');
    assert.equal(countFirst.edges[0].weight, 3);

    const cpuFirst = run(
      [
        { type: 'alloc', unit: 'bytes' },
        { type: 'cpu', unit: 'nanoseconds' },
        { type: 'samples', unit: 'count' },
      ],
      [999, 30_000, 3],
    );
    assert.equal(cpuFirst.valueType, 'cpu/nanoseconds');
    assert.equal(cpuFirst.edges[0].weight, 30_000);
    assert.equal(cpuFirst.totalWeight, 30_000);

    // Exact type and unit only.
    const other = run(
      [
        { type: 'samples', unit: 'bytes' },
        { type: 'cpu', unit: 'nanoseconds' },
      ],
      [7, 70],
    );
    assert.equal(other.valueType, 'cpu/nanoseconds');
    assert.equal(other.edges[0].weight, 70);
  });

  it('skips samples whose weight is 0', () => {
    const { b, fn } = builder();
    const lb = b.addLocation([{ fn: fn.b, line: 21 }]);
    const la = b.addLocation([{ fn: fn.a, line: 11 }]);
    const lc = b.addLocation([{ fn: fn.c, line: 31 }]);
    b.addSample([lb, la], [0, 999]); // weight (samples/count) is 0
    b.addSample([lc, la], [1, 10]);
    assert.deepEqual(computeCallEdges(b.finish()).edges, [{ caller: 'main.a', callee: 'main.c', offset: 1, weight: 1 }]);
  });

  it('throws ProfileError when no function has a start line', () => {
    const b = new ProfileBuilder();
    b.setSampleTypes(SAMPLES_CPU);
    const f = b.addFunction('main.f', 'main.go', 0);
    const g = b.addFunction('main.g', 'main.go', 0);
    b.addSample([b.addLocation([{ fn: f, line: 3 }]), b.addLocation([{ fn: g, line: 4 }])], [1, 1]);
    throwsProfileError(() => computeCallEdges(b.finish()), /start_line/);

    // Start lines only on functions that no weighted sample reaches do not count.
    const { b: b2, fn } = builder();
    const z = b2.addFunction('main.z', 'main.go', 0);
    const y = b2.addFunction('main.y', 'main.go', 0);
    b2.addSample([b2.addLocation([{ fn: z, line: 3 }]), b2.addLocation([{ fn: y, line: 4 }])], [1, 1]);
    b2.addSample([b2.addLocation([{ fn: fn.a, line: 11 }]), b2.addLocation([{ fn: fn.main, line: 6 }])], [0, 5]);
    throwsProfileError(() => computeCallEdges(b2.finish()), /start_line/);
  });

  it('accepts a profile where only some functions have start lines', () => {
    const { b, fn } = builder();
    const z = b.addFunction('main.z', 'main.go', 0);
    b.addSample([b.addLocation([{ fn: z, line: 3 }]), b.addLocation([{ fn: fn.a, line: 11 }])], [1, 1]);
    assert.deepEqual(computeCallEdges(b.finish()).edges, [{ caller: 'main.a', callee: 'main.z', offset: 1, weight: 1 }]);
  });

  it('throws ProfileError when there is no usable sample type', () => {
    const { b, fn } = builder([
      { type: 'alloc_space', unit: 'bytes' },
      { type: 'inuse_space', unit: 'bytes' },
    ]);
    b.addSample([b.addLocation([{ fn: fn.b, line: 21 }]), b.addLocation([{ fn: fn.a, line: 11 }])], [1, 1]);
    throwsProfileError(() => computeCallEdges(b.finish()), /samples\/count or cpu\/nanoseconds/);
  });

  it('returns no edges and no error for a profile with no samples', () => {
    const { b } = builder();
    assert.deepEqual(computeCallEdges(b.finish()), { edges: [], totalWeight: 0, valueType: 'samples/count' });
    // Even without a usable sample type or start lines, as the compiler does.
    const bare = new ProfileBuilder();
    bare.setSampleTypes([{ type: 'alloc', unit: 'bytes' }]);
    bare.addFunction('main.f', 'main.go', 0);
    assert.deepEqual(computeCallEdges(bare.finish()).edges, []);
  });

  it('sorts by weight descending, then caller, callee and offset ascending', () => {
    const { b } = builder();
    const fnOf = (name: string, start = 0) => b.addFunction(name, 'x.go', start + 1);
    const samples: Array<[string, string, number, number]> = [
      ['z', 'a', 1, 5],
      ['b', 'c', 1, 9],
      ['b', 'a', 3, 5],
      ['b', 'a', 1, 5],
      ['a', 'z', 1, 5],
      ['B', 'z', 1, 5], // byte order: upper case sorts first
      ['b', 'a', 2, 5],
    ];
    const fns = new Map<string, number>();
    const get = (name: string) => {
      let f = fns.get(name);
      if (f === undefined) {
        f = fnOf(name);
        fns.set(name, f);
      }
      return f;
    };
    samples.forEach(([caller, callee, offset, weight]) => {
      const leaf = b.addLocation([{ fn: get(callee), line: 1 }]);
      const call = b.addLocation([{ fn: get(caller), line: 1 + offset }]);
      b.addSample([leaf, call], [weight, weight]);
    });
    const r = computeCallEdges(b.finish());
    assert.deepEqual(
      r.edges.map((e) => `${e.weight} ${e.caller}→${e.callee}+${e.offset}`),
      ['9 b→c+1', '5 B→z+1', '5 a→z+1', '5 b→a+1', '5 b→a+2', '5 b→a+3', '5 z→a+1'],
    );
    assert.equal(r.totalWeight, 39);
    const shuffled = [...r.edges].reverse().sort(compareEdges);
    assert.deepEqual(shuffled, r.edges);
  });
});

describe('formatPreprofile', () => {
  it('writes the header, then caller, callee and "offset weight" per edge', () => {
    const edges: CallEdge[] = [
      { caller: 'main.main', callee: 'main.work', offset: 12, weight: 298 },
      { caller: 'main.work', callee: 'main.hash', offset: -5, weight: 241 },
    ];
    assert.equal(formatPreprofile(edges), 'GO PREPROFILE V1\nmain.main\nmain.work\n12 298\nmain.work\nmain.hash\n-5 241\n');
  });

  it('writes only the header for no edges', () => {
    assert.equal(formatPreprofile([]), 'GO PREPROFILE V1\n');
  });

  it('formats the edges computed from a profile', () => {
    const { b, fn } = builder();
    b.addSample([b.addLocation([{ fn: fn.b, line: 21 }]), b.addLocation([{ fn: fn.a, line: 17 }])], [4, 40]);
    const p: Profile = b.finish();
    assert.equal(formatPreprofile(computeCallEdges(p).edges), 'GO PREPROFILE V1\nmain.a\nmain.b\n7 4\n');
  });
});
