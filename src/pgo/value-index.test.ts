import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { pgoValueIndex } from './value-index.js';

function withSampleTypes(types: Array<{ type: string; unit: string }>) {
  const b = new ProfileBuilder();
  b.setSampleTypes(types);
  return b.finish();
}

describe('pgoValueIndex', () => {
  it('picks the first samples/count or cpu/nanoseconds column, as the Go compiler does', () => {
    assert.equal(pgoValueIndex(ProfileBuilder.goCpu().finish()), 0);
    const cpuFirst = withSampleTypes([
      { type: 'alloc', unit: 'bytes' },
      { type: 'cpu', unit: 'nanoseconds' },
      { type: 'samples', unit: 'count' },
    ]);
    assert.equal(pgoValueIndex(cpuFirst), 1);
  });

  it('returns -1 for a profile without a column the compiler reads', () => {
    assert.equal(pgoValueIndex(withSampleTypes([{ type: 'alloc_space', unit: 'bytes' }])), -1);
    assert.equal(pgoValueIndex(withSampleTypes([{ type: 'cpu', unit: 'count' }])), -1);
  });
});
