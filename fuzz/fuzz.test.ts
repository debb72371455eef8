import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../e2e/support/paths.js';
import { runCampaign } from './campaign.js';
import { loadCorpus } from './corpus.js';
import { makeInput } from './inputs.js';
import { minimize } from './minimize.js';
import { MUTATORS, recompress } from './mutate.js';
import { Prng } from './prng.js';
import { formatReport } from './report.js';
import { scanWireFields } from './wire-fields.js';

const corpus = loadCorpus();
/** Byte equality whatever the view type (the corpus holds Buffers, mutators return Uint8Arrays). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const context = (seed: number) => ({ rng: new Prng(seed), corpus: corpus.profiles, maxBytes: 1 << 20 });

describe('fuzz mutators', () => {
  for (const mutator of MUTATORS) {
    it(`${mutator.name} gives the same output for the same seed, changes its input and leaves it intact`, () => {
      for (let n = 0; n < corpus.profiles.length; n++) {
        const input = corpus.profiles[n];
        const copy = Uint8Array.from(input);
        for (let seed = 0; seed < 20; seed++) {
          const a = mutator.mutate(input, context(seed));
          const b = mutator.mutate(input, context(seed));
          assert.ok(sameBytes(a, b), `${corpus.names[n]}, seed ${seed}: two runs differ`);
          assert.ok(!sameBytes(a, input), `${corpus.names[n]}, seed ${seed}: the output equals the input`);
        }
        assert.ok(sameBytes(input, copy), `${corpus.names[n]} was modified in place`);
      }
    });
  }

  it('different seeds make different outputs', () => {
    for (const mutator of MUTATORS) {
      const outputs = new Set<string>();
      for (let seed = 0; seed < 20; seed++) outputs.add(Buffer.from(mutator.mutate(corpus.profiles[0], context(seed))).toString('base64'));
      assert.ok(outputs.size > 10, `${mutator.name}: only ${outputs.size} distinct outputs from 20 seeds`);
    }
  });

  it('re-compression is deterministic for a seed', () => {
    for (let seed = 0; seed < 50; seed++) {
      const a = recompress(corpus.profiles[1], new Prng(seed));
      const b = recompress(corpus.profiles[1], new Prng(seed));
      assert.equal(a.compression, b.compression);
      assert.ok(sameBytes(a.bytes, b.bytes), `seed ${seed}: ${a.compression} output differs`);
    }
  });

  it('an input is fully named by (seed, id)', () => {
    const options = { seed: 7, routeEvery: 3, maxBytes: 1 << 20 };
    for (let id = 0; id < 60; id++) {
      const a = makeInput(corpus, options, id);
      const b = makeInput(corpus, options, id);
      assert.deepEqual(a.steps, b.steps);
      assert.ok(sameBytes(a.bytes, b.bytes), `input ${id}: ${a.steps.join(' → ')}`);
      assert.deepEqual(a.request, b.request);
    }
  });

  it('the wire scan finds the top-level fields of a real profile end to end', () => {
    for (const bytes of corpus.profiles) {
      const fields = scanWireFields(bytes);
      let pos = 0;
      for (let i = 0; i < fields.count; i++) {
        if (fields.depth[i] !== 0) continue;
        assert.equal(fields.start[i], pos);
        pos = fields.end[i];
      }
      assert.equal(pos, bytes.length);
      assert.ok(fields.count > 100);
    }
  });
});

describe('fuzz minimizer', () => {
  it('shrinks a real profile to the one field a finding needs', () => {
    const needle = Buffer.from('runtime.mallocgc');
    const holds = (b: Uint8Array) => {
      const fields = scanWireFields(b);
      for (let i = 0; i < fields.count; i++) {
        if (fields.number[i] === 6 && fields.depth[i] === 0 && Buffer.compare(b.subarray(fields.payload[i], fields.end[i]), needle) === 0)
          return true;
      }
      return false;
    };
    const input = corpus.profiles[corpus.names.indexOf('cpu-small-1.pprof')];
    assert.ok(holds(input));
    const { bytes } = minimize(input, holds);
    // Field 6 (string_table), length 16, the name: nothing else is needed.
    assert.equal(Buffer.from(bytes).toString('hex'), `3210${needle.toString('hex')}`);
  });
});

describe('fuzz campaign', () => {
  it('terminates and replaces a worker whose input hangs or that dies, records both, and runs every other input', {
    timeout: 120_000,
  }, async () => {
    const result = await runCampaign({
      seed: 3,
      seconds: Number.POSITIVE_INFINITY,
      inputs: 40,
      workers: 2,
      hangMs: 2000,
      routeEvery: 0,
      maxBytes: 64 * 1024,
      outDir: null,
      faults: { hang: [5], die: [21] },
    });
    assert.equal(result.inputs, 40);
    assert.equal(result.hangs, 1);
    assert.equal(result.crashes, 1);
    const hang = result.findings.find((f) => f.kind === 'hang');
    const died = result.findings.find((f) => f.kind === 'crash');
    assert.equal(hang?.firstId, 5);
    assert.equal(died?.firstId, 21);
    assert.match(died?.target ?? '', /worker died/);
  });

  it('a fixed-seed run through every target and intake route finds no crash and no hang', { timeout: 600_000 }, async () => {
    // A fixed number of inputs (about 15 s on two cores), so every run checks the same inputs.
    const result = await runCampaign({
      seed: 1,
      seconds: Number.POSITIVE_INFINITY,
      inputs: 5000,
      workers: 2,
      hangMs: 2000,
      routeEvery: 50,
      maxBytes: 1024 * 1024,
      outDir: join(repoRoot, '.cache', 'fuzz', 'ci'),
    });
    assert.equal(result.inputs, 5000);
    assert.ok(result.routeInputs > 50, `only ${result.routeInputs} inputs went through an intake route`);
    const report = formatReport(result, join(repoRoot, '.cache', 'fuzz', 'ci', 'seed-1'));
    assert.equal(result.crashes, 0, report);
    assert.equal(result.hangs, 0, report);
  });
});
