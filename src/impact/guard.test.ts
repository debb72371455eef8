import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { guardFigure } from './guard.js';
import { type ResourceFigures, resourceFigures } from './resource-figures.js';

/**
 * A goroutine profile: `parked` goroutines in main.worker (called from main.serve, or with
 * main.worker inlined into main.serve when `inlined`), and 10 in runtime.main.
 */
function goroutines(parked: number, inlined: boolean): ResourceFigures {
  const b = new ProfileBuilder();
  b.setSampleTypes([{ type: 'goroutine', unit: 'count' }]);
  const serve = b.addFunction('main.serve');
  const worker = b.addFunction('main.worker');
  const rt = b.addFunction('runtime.main');
  const stack = inlined
    ? [
        b.addLocation([
          { fn: worker, line: 10 },
          { fn: serve, line: 20 },
        ]),
      ]
    : [b.addLocation([{ fn: worker, line: 10 }]), b.addLocation([{ fn: serve, line: 20 }])];
  b.addSample(stack, [parked]);
  b.addSample([b.addLocation([{ fn: rt, line: 1 }])], [10]);
  const f = resourceFigures(b.finish(), 'goroutine', 'count');
  assert.ok(f !== null);
  return f;
}

describe('regression guard', () => {
  it('reads totals, per-function values through stacks and inlined functions from a profile', () => {
    const f = goroutines(5, true);
    assert.equal(f.total, 15);
    assert.equal(f.byFunction.get('main.serve'), 5);
    assert.equal(f.byFunction.get('main.worker'), 5);
    assert.equal(f.byFunction.get('runtime.main'), 10);
    assert.deepEqual([...f.inlined], ['main.worker']);
    assert.deepEqual([...goroutines(5, false).inlined], []);
    const b = new ProfileBuilder();
    b.setSampleTypes([{ type: 'cpu', unit: 'nanoseconds' }]);
    assert.equal(resourceFigures(b.finish(), 'goroutine', 'count'), null);
  });

  it('flags a significant rise, names the functions that grew and the newly inlined ones', () => {
    const before = [40, 42, 38, 41].map((n) => goroutines(n, false));
    const after = [400, 403, 399, 402].map((n) => goroutines(n, true));
    const g = guardFigure({ metric: 'goroutines', unit: 'count', before, after });
    assert.equal(g.verdict, 'more');
    assert.equal(g.flagged, true);
    assert.ok(g.rise !== null && g.rise.low !== null && g.rise.low > 0);
    assert.deepEqual(
      g.grew.map((x) => x.function),
      ['main.serve', 'main.worker'],
    );
    assert.equal(g.grew[0].before, 40.25);
    assert.deepEqual(g.noInlineCandidates, ['main.worker']);
  });

  it('does not flag the same build, a fall, a small rise, or too few profiles', () => {
    const same = guardFigure({
      metric: 'goroutines',
      unit: 'count',
      before: [40, 42, 38].map((n) => goroutines(n, false)),
      after: [41, 39, 42].map((n) => goroutines(n, false)),
    });
    assert.equal(same.verdict, 'not significant');
    assert.equal(same.flagged, false);
    assert.deepEqual(same.grew, []);
    const fall = guardFigure({
      metric: 'goroutines',
      unit: 'count',
      before: [80, 82, 81].map((n) => goroutines(n, false)),
      after: [40, 41, 39].map((n) => goroutines(n, true)),
    });
    assert.equal(fall.verdict, 'less');
    assert.equal(fall.flagged, false);
    // Significant, but 12 goroutines more is not worth a warning.
    const small = guardFigure({
      metric: 'goroutines',
      unit: 'count',
      before: [40, 41, 39].map((n) => goroutines(n, false)),
      after: [52, 53, 51].map((n) => goroutines(n, true)),
    });
    assert.equal(small.verdict, 'more');
    assert.equal(small.flagged, false);
    const few = guardFigure({ metric: 'goroutines', unit: 'count', before: [goroutines(1, false)], after: [goroutines(9, false)] });
    assert.equal(few.verdict, 'not enough data');
    assert.equal(few.flagged, false);
  });
});
