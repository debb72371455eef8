import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { computeCallEdges, formatPreprofile } from '../src/pgo/call-edges.js';
import { trimForPgo } from '../src/pgo/trim.js';
import { encodeProfile, encodeProfileGzip } from '../src/pprof/encode.js';
import { mergeProfiles } from '../src/pprof/merge.js';
import { parseProfile } from '../src/pprof/parse.js';
import { functionTotals } from '../src/pprof/stats.js';
import { canonicalSamples, sortedEntries } from './support/canonical.js';
import { pprofBinary, pprofMerge, preprofile, runOk } from './support/go.js';
import { fixture, hotpathBin } from './support/paths.js';
import { assertSamePreprofileRenamesAside } from './support/preprofile.js';

// Checks the pprof core against Go's own tools on profiles written by real Go programs.
const CPU_FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'].map(fixture);

const work = mkdtempSync(join(tmpdir(), 'hotpath-ref-'));
after(() => rmSync(work, { recursive: true, force: true }));
const load = (path: string) => parseProfile(readFileSync(path));

describe('merge agrees with go tool pprof -proto', () => {
  const ours = join(work, 'ours.pprof');
  const theirs = join(work, 'theirs.pprof');
  writeFileSync(ours, encodeProfileGzip(mergeProfiles(CPU_FIXTURES.map(load))));
  pprofMerge(CPU_FIXTURES, theirs);
  const a = load(ours);
  const b = load(theirs);

  it('has the same header', () => {
    assert.equal(a.durationNanos, b.durationNanos);
    assert.equal(a.timeNanos, b.timeNanos);
    assert.equal(a.period, b.period);
    assert.deepEqual(
      Array.from(a.sampleTypes, (i) => a.strings[i]),
      Array.from(b.sampleTypes, (i) => b.strings[i]),
    );
  });

  it('has the same per-function flat and cumulative totals for every sample type', () => {
    for (let v = 0; v < a.sampleTypes.length >> 1; v++) {
      const ta = functionTotals(a, v);
      const tb = functionTotals(b, v);
      assert.ok(ta.flat.length > 20, 'the fixture has many functions');
      assert.deepEqual(ta.flat, tb.flat);
      assert.deepEqual(ta.cum, tb.cum);
    }
  });

  it('has the same samples (stacks with inlined frames and labels, values summed)', () => {
    assert.deepEqual(sortedEntries(canonicalSamples(a)), sortedEntries(canonicalSamples(b)));
  });

  it('deduplicates like pprof: same number of samples, locations and functions', () => {
    assert.equal(a.samples.count, b.samples.count);
    assert.equal(a.locations.count, b.locations.count);
    assert.equal(a.functions.count, b.functions.count);
    assert.equal(a.mappings.count, b.mappings.count);
  });

  it('reads the same in pprof itself (-top over all nodes)', () => {
    const top = (file: string) =>
      runOk(pprofBinary, ['-top', '-nodecount=100000', '-symbolize=none', file])
        .split('\n')
        .filter((l) => !l.startsWith('File:') && !l.startsWith('Build ID:'))
        .join('\n');
    assert.equal(top(ours), top(theirs));
  });

  it('`hotpath merge` (which reads samples straight from the files) writes exactly what was compared above', () => {
    const cli = join(work, 'cli.pprof');
    runOk(process.execPath, [hotpathBin, 'merge', '-q', '-o', cli, ...CPU_FIXTURES]);
    assert.deepEqual(gunzipSync(readFileSync(cli)), Buffer.from(encodeProfile(mergeProfiles(CPU_FIXTURES.map(load)))));
  });
});

describe('call edges agree with go tool preprofile', () => {
  for (const path of [...CPU_FIXTURES.slice(0, 2), fixture('cpu-json.pprof')]) {
    it(`computes the compiler's edges for ${path.split('/').pop()}`, () => {
      const expected = preprofile(path);
      assert.ok(expected.split('\n').length > 30, 'the fixture has many edges');
      assert.equal(formatPreprofile(computeCallEdges(load(path)).edges), expected);
    });
  }
});

describe('PGO trim keeps what the compiler reads', () => {
  it('trimmed profiles give the same preprofile as the untrimmed ones', () => {
    for (const path of CPU_FIXTURES) {
      const trimmed = join(work, 'trimmed.pprof');
      writeFileSync(trimmed, encodeProfileGzip(trimForPgo(load(path))));
      assert.equal(preprofile(trimmed), preprofile(path), path);
    }
  });

  it('`hotpath merge --pgo` gives the preprofile of the untrimmed pprof merge, renamed edges aside', () => {
    const untrimmed = join(work, 'untrimmed.pprof');
    pprofMerge(CPU_FIXTURES, untrimmed);
    const expected = preprofile(untrimmed);
    // Rename a function that really is a leaf in the workload, to check the exception is narrow.
    const edges = computeCallEdges(load(untrimmed)).edges;
    const leaf = edges.find((e) => e.callee.startsWith('hotpath.local/'))?.callee;
    assert.ok(leaf, 'a workload function is a callee');
    const pgo = join(work, 'default.pgo');
    runOk(process.execPath, [hotpathBin, 'merge', '--pgo', '--no-inline', leaf, '-o', pgo, ...CPU_FIXTURES]);
    const ours = preprofile(pgo);
    const renamed = `DO NOT INLINE: ${leaf}`;
    assert.ok(ours.includes(renamed), 'the no-inline rename is applied');
    // Equal but for the renamed edges, which carry the same weights under the new name.
    assert.ok(assertSamePreprofileRenamesAside(ours, expected).has(leaf));
  });
});
