import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import type { Profile } from '../pprof/profile.js';
import { renameLeafFunctions } from '../pprof/rename.js';
import { plain } from '../testing/profiles.js';
import { computeCallEdges } from './call-edges.js';
import { applySafetyRenames, BUILTIN_NO_INLINE, NO_INLINE_PREFIX, noInlineList } from './safety.js';

const GOPARK = 'runtime.gopark';
const PROCESS_DATA = 'google.golang.org/grpc/internal/transport.(*loopyWriter).processData';

/** Function names of every frame of every sample, leaf first, inlined frames innermost first. */
function frames(p: Profile): string[][] {
  const s = p.samples;
  const locs = p.locations;
  const out: string[][] = [];
  for (let i = 0; i < s.count; i++) {
    const names: string[] = [];
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) {
      const loc = s.locs[j];
      for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) names.push(p.strings[p.functions.name[locs.lineFunction[l]]]);
    }
    out.push(names);
  }
  return out;
}

/**
 * Samples:
 * 0. runtime.gopark (leaf) ← main.wait
 * 1. main.work ← runtime.gopark (as a caller only, same function row as in sample 0)
 * 2. processData only as a caller: main.write ← processData
 * 3. main.inner inlined into runtime.gopark#2 (another function row with the same name, never a leaf line)
 * 4. runtime.goparkunlock (a longer name, leaf)
 */
function safetyProfile(): Profile {
  const b = ProfileBuilder.goCpu();
  const gopark = b.addFunction(GOPARK, 'proc.go', 400);
  const wait = b.addFunction('main.wait', 'main.go', 10);
  const work = b.addFunction('main.work', 'main.go', 20);
  const processData = b.addFunction(PROCESS_DATA, 'controlbuf.go', 900);
  const write = b.addFunction('main.write', 'main.go', 30);
  const inner = b.addFunction('main.inner', 'main.go', 40);
  const gopark2 = b.addFunction(GOPARK, 'proc.go', 401);
  const unlock = b.addFunction('runtime.goparkunlock', 'proc.go', 450);
  const lGopark = b.addLocation([{ fn: gopark, line: 410 }], { address: 0x10n });
  const lWait = b.addLocation([{ fn: wait, line: 12 }], { address: 0x20n });
  const lWork = b.addLocation([{ fn: work, line: 22 }], { address: 0x30n });
  const lGoparkCaller = b.addLocation([{ fn: gopark, line: 420 }], { address: 0x40n });
  const lWrite = b.addLocation([{ fn: write, line: 33 }], { address: 0x50n });
  const lProcess = b.addLocation([{ fn: processData, line: 905 }], { address: 0x60n });
  const lInlined = b.addLocation(
    [
      { fn: inner, line: 41 },
      { fn: gopark2, line: 402 },
    ],
    { address: 0x70n },
  );
  const lUnlock = b.addLocation([{ fn: unlock, line: 451 }], { address: 0x80n });
  b.addSample([lGopark, lWait], [1, 10]);
  b.addSample([lWork, lGoparkCaller], [2, 20]);
  b.addSample([lWrite, lProcess], [4, 40]);
  b.addSample([lInlined, lWait], [8, 80]);
  b.addSample([lUnlock, lWait], [16, 160]);
  return b.finish();
}

describe('renameLeafFunctions', () => {
  it('renames only listed functions that are a sample leaf, in every frame that uses them', () => {
    const p = safetyProfile();
    const r = renameLeafFunctions(p, new Set([GOPARK, PROCESS_DATA, 'main.inner']), 'X: ');
    assert.deepEqual(r.renamed, ['main.inner', GOPARK], 'original names, sorted');
    assert.deepEqual(frames(r.profile), [
      [`X: ${GOPARK}`, 'main.wait'],
      ['main.work', `X: ${GOPARK}`], // the same function row as the leaf of sample 0
      ['main.write', PROCESS_DATA], // never a leaf: kept
      ['X: main.inner', GOPARK, 'main.wait'], // another row of that name, never a leaf line: kept
      ['runtime.goparkunlock', 'main.wait'], // exact names only
    ]);
  });

  it('looks only at the first line of the first location', () => {
    const p = safetyProfile();
    // main.wait is only ever the caller location.
    const r = renameLeafFunctions(p, new Set(['main.wait']), 'X: ');
    assert.deepEqual(r.renamed, []);
    assert.deepEqual(frames(r.profile), frames(p));
  });

  it('changes only function names: values, stacks, other function fields are unchanged', () => {
    const p = safetyProfile();
    const q = renameLeafFunctions(p, new Set([GOPARK]), 'X: ').profile;
    assert.deepEqual(Array.from(q.samples.values), Array.from(p.samples.values));
    assert.deepEqual(Array.from(q.samples.locs), Array.from(p.samples.locs));
    const withoutNames = (x: Profile): unknown => plain({ ...x, strings: [], functions: { ...x.functions, name: new Int32Array(0) } });
    assert.deepEqual(withoutNames(q), withoutNames(p));
    assert.deepEqual(
      Array.from(q.functions.systemName, (i) => q.strings[i]),
      Array.from(p.functions.systemName, (i) => p.strings[i]),
    );
    const names = Array.from(q.functions.name, (i) => q.strings[i]);
    assert.equal(names.filter((n) => n === `X: ${GOPARK}`).length, 1, 'one row renamed');
    assert.equal(names.filter((n) => n === GOPARK).length, 1, 'the other row of that name kept');
  });

  it('does not modify its input', () => {
    const p = safetyProfile();
    const before = plain(p);
    renameLeafFunctions(p, new Set([GOPARK, 'main.inner', 'main.work']), 'X: ');
    assert.deepEqual(plain(p), before);
  });

  it('skips samples with no locations or a leaf location with no lines', () => {
    const b = new ProfileBuilder();
    b.setSampleTypes([{ type: 'samples', unit: 'count' }]);
    const f = b.addFunction('main.f', 'main.go', 1);
    const empty = b.addLocation([], { address: 0x10n });
    const lf = b.addLocation([{ fn: f, line: 2 }], { address: 0x20n });
    b.addSample([], [1]);
    b.addSample([empty, lf], [1]);
    const r = renameLeafFunctions(b.finish(), new Set(['main.f']), 'X: ');
    assert.deepEqual(r.renamed, []);
  });
});

describe('applySafetyRenames', () => {
  it('has the grpc loopyWriter.processData and runtime.gopark names built in', () => {
    assert.ok(BUILTIN_NO_INLINE.includes(PROCESS_DATA));
    assert.ok(BUILTIN_NO_INLINE.includes(GOPARK));
    assert.equal(NO_INLINE_PREFIX, 'DO NOT INLINE: ');
  });

  it('renames the built-in functions when they are a leaf, with the DO NOT INLINE prefix', () => {
    const b = new ProfileBuilder();
    b.setSampleTypes([{ type: 'samples', unit: 'count' }]);
    const pd = b.addFunction(PROCESS_DATA, 'controlbuf.go', 900);
    const run = b.addFunction('google.golang.org/grpc/internal/transport.(*loopyWriter).run', 'controlbuf.go', 500);
    const gp = b.addFunction(GOPARK, 'proc.go', 400);
    const sel = b.addFunction('runtime.selectgo', 'select.go', 100);
    b.addSample([b.addLocation([{ fn: pd, line: 950 }]), b.addLocation([{ fn: run, line: 530 }])], [5]);
    b.addSample([b.addLocation([{ fn: gp, line: 440 }]), b.addLocation([{ fn: sel, line: 120 }])], [3]);
    const p = b.finish();
    const r = applySafetyRenames(p);
    assert.deepEqual(r.renamed, [PROCESS_DATA, GOPARK].sort());
    assert.deepEqual(frames(r.profile), [
      [`DO NOT INLINE: ${PROCESS_DATA}`, 'google.golang.org/grpc/internal/transport.(*loopyWriter).run'],
      [`DO NOT INLINE: ${GOPARK}`, 'runtime.selectgo'],
    ]);
    // The compiler's edges keep their weights, so the hot-call-site CDF keeps its shape.
    const before = computeCallEdges(p);
    const after = computeCallEdges(r.profile);
    assert.equal(after.totalWeight, before.totalWeight);
    assert.deepEqual(
      after.edges.map((e) => [e.callee, e.weight]),
      [
        [`DO NOT INLINE: ${PROCESS_DATA}`, 5],
        [`DO NOT INLINE: ${GOPARK}`, 3],
      ],
    );
  });

  it('uses the names it is given instead of the built-in list', () => {
    const p = safetyProfile();
    const r = applySafetyRenames(p, new Set(['main.work']));
    assert.deepEqual(r.renamed, ['main.work']);
    assert.equal(frames(r.profile)[1][0], 'DO NOT INLINE: main.work');
    assert.equal(frames(r.profile)[0][0], GOPARK);
  });
});

describe('noInlineList', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-noinline-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the built-in list by default', () => {
    assert.deepEqual([...noInlineList()].sort(), [...BUILTIN_NO_INLINE].sort());
  });

  it('adds extra names and the names in files, skipping blank lines and # comments', () => {
    const a = join(dir, 'a.txt');
    const b = join(dir, 'b.txt');
    writeFileSync(a, '# functions we never inline\n\nmain.fromFile\n   \n  main.indented  \r\n#main.commented\n  # indented comment\n');
    writeFileSync(b, 'pkg.(*T).Method\nmain.fromFile');
    const names = noInlineList(['main.extra', '  ', ' main.spaced '], [a, b]);
    assert.deepEqual(
      [...names].sort(),
      [...BUILTIN_NO_INLINE, 'main.extra', 'main.spaced', 'main.fromFile', 'main.indented', 'pkg.(*T).Method'].sort(),
    );
    assert.ok(!names.has(''));
    assert.ok(!names.has('#main.commented'));
  });

  it('throws for a missing file', () => {
    assert.throws(() => noInlineList([], [join(dir, 'missing.txt')]), /ENOENT/);
  });
});
