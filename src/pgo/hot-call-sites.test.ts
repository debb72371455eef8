import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import type { Profile } from '../pprof/profile.js';
import { formatPreprofile } from './call-edges.js';
import { DEFAULT_CDF_THRESHOLD_PERCENT, hotCallSites } from './hot-call-sites.js';

/** A CPU profile with one two-location sample per [caller, callee, offset, weight]. */
function profileWithEdges(edges: Array<[string, string, number, number]>): Profile {
  const b = ProfileBuilder.goCpu();
  const fns = new Map<string, number>();
  const fn = (name: string): number => {
    let f = fns.get(name);
    if (f === undefined) {
      f = b.addFunction(name, 'main.go', 100);
      fns.set(name, f);
    }
    return f;
  };
  let address = 0x1000n;
  for (const [caller, callee, offset, weight] of edges) {
    const leaf = b.addLocation([{ fn: fn(callee), line: 101 }], { address: address++ });
    const call = b.addLocation([{ fn: fn(caller), line: 100 + offset }], { address: address++ });
    b.addSample([leaf, call], [weight, weight * 10_000_000]);
  }
  return b.finish();
}

/** Edges named e1, e2, ... (caller eN → callee x) in the given weight order. */
const numbered = (weights: number[]): Profile => profileWithEdges(weights.map((w, i) => [`e${i + 1}`, 'x', 0, w]));

describe('hotCallSites', () => {
  it('reproduces the compiler on the worked example (298, 241, 54, 54, 1, 1)', () => {
    // The edges `go tool preprofile` printed for a real profile, with the threshold
    // `go build -pgo -gcflags=-d=pgodebug=1` printed for it: 8.320493066255779.
    const p = profileWithEdges([
      ['runtime.futexwakeup', 'runtime.futex', 1, 1],
      ['main.work', 'main.square', 4, 54],
      ['main.hash', 'runtime.asyncPreempt', 2, 1],
      ['main.main', 'main.work', 12, 298],
      ['main.square', 'main.mul', 0, 54],
      ['main.work', 'main.hash', 5, 241],
    ]);
    const r = hotCallSites(p);
    assert.equal(r.totalWeight, 649);
    assert.equal(r.valueType, 'samples/count');
    assert.equal(r.thresholdPercent, 8.320493066255779);
    assert.equal(r.thresholdPercent, (54 / 649) * 100);
    assert.equal(r.hotCount, 4);
    assert.deepEqual(
      r.edges.map((e) => [e.caller, e.callee, e.hot]),
      [
        ['main.main', 'main.work', true],
        ['main.work', 'main.hash', true],
        ['main.square', 'main.mul', true],
        ['main.work', 'main.square', true],
        ['main.hash', 'runtime.asyncPreempt', false],
        ['runtime.futexwakeup', 'runtime.futex', false],
      ],
    );
    assert.equal(
      formatPreprofile(r.edges),
      [
        'GO PREPROFILE V1',
        'main.main',
        'main.work',
        '12 298',
        'main.work',
        'main.hash',
        '5 241',
        'main.square',
        'main.mul',
        '0 54',
        'main.work',
        'main.square',
        '4 54',
        'main.hash',
        'runtime.asyncPreempt',
        '2 1',
        'runtime.futexwakeup',
        'runtime.futex',
        '1 1',
        '',
      ].join('\n'),
    );
  });

  it('uses 99 as the default CDF threshold', () => {
    assert.equal(DEFAULT_CDF_THRESHOLD_PERCENT, 99);
    const p = numbered([50, 49, 1]);
    assert.deepEqual(hotCallSites(p), hotCallSites(p, 99));
  });

  it('stops at the first edge whose cumulative share is strictly above the threshold', () => {
    // 50 + 49 = 99% exactly: not above 99, so the third edge is the one that crosses.
    const exact = hotCallSites(numbered([50, 49, 1]), 99);
    assert.equal(exact.hotCount, 3);
    assert.equal(exact.thresholdPercent, 1);
    assert.deepEqual(
      exact.edges.map((e) => e.hot),
      [true, true, true],
    );

    // Just below 99: the second edge crosses and is the last hot one.
    const below = hotCallSites(numbered([50, 49, 1]), 98.9);
    assert.equal(below.hotCount, 2);
    assert.equal(below.thresholdPercent, 49);
    assert.deepEqual(
      below.edges.map((e) => e.hot),
      [true, true, false],
    );
  });

  it('includes the crossing edge but not later edges of the same weight', () => {
    // Shares: 50%, 66.7% (crosses 60), 83.3%, 100%.
    const r = hotCallSites(numbered([60, 20, 20, 20]), 60);
    assert.equal(r.hotCount, 2);
    assert.equal(r.thresholdPercent, (20 / 120) * 100);
    assert.deepEqual(
      r.edges.map((e) => [e.caller, e.hot]),
      [
        ['e1', true],
        ['e2', true],
        ['e3', false],
        ['e4', false],
      ],
    );
  });

  it('makes only the first edge hot at threshold 0', () => {
    const r = hotCallSites(numbered([5, 3, 2]), 0);
    assert.equal(r.hotCount, 1);
    assert.equal(r.thresholdPercent, 50);
  });

  it('makes every edge hot with threshold 0% printed when the threshold is 100', () => {
    const r = hotCallSites(numbered([5, 3, 2, 1, 1]), 100);
    assert.equal(r.thresholdPercent, 0);
    assert.equal(r.hotCount, 5);
    assert.ok(r.edges.every((e) => e.hot));
  });

  it('reports each edge share and the cumulative share in percent', () => {
    const r = hotCallSites(numbered([50, 30, 20]), 99);
    assert.deepEqual(
      r.edges.map((e) => [e.weight, e.sharePercent, e.cumulativePercent]),
      [
        [50, 50, 50],
        [30, 30, 80],
        [20, 20, 100],
      ],
    );
    const odd = hotCallSites(numbered([2, 1]), 99);
    assert.deepEqual(
      odd.edges.map((e) => [e.sharePercent, e.cumulativePercent]),
      [
        [(2 / 3) * 100, (2 / 3) * 100],
        [(1 / 3) * 100, (3 / 3) * 100],
      ],
    );
  });

  it('keeps the call edge fields and order', () => {
    const r = hotCallSites(profileWithEdges([['main.a', 'main.b', 7, 3]]));
    assert.deepEqual(r.edges, [
      { caller: 'main.a', callee: 'main.b', offset: 7, weight: 3, sharePercent: 100, cumulativePercent: 100, hot: true },
    ]);
    assert.equal(r.hotCount, 1);
    assert.equal(r.thresholdPercent, 100);
  });

  it('returns an empty report for a profile without samples', () => {
    const r = hotCallSites(profileWithEdges([]));
    assert.deepEqual(r, { valueType: 'samples/count', totalWeight: 0, thresholdPercent: 0, hotCount: 0, edges: [] });
  });
});
