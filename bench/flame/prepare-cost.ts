// Cost of building the prepared form at ingest (encodePreparedForm, run in the ingest worker on
// every CPU profile), against what ingest already does with the same profile (inflate + decode).
// Not a test.
//
//   node dist/bench/flame/prepare-cost.js [--rounds 20]

import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { largeProfile } from '../../e2e/support/workloads.js';
import { encodePreparedForm } from '../../src/flame/prepared-form.js';
import { decompress } from '../../src/pprof/compression.js';
import { decodeProfile } from '../../src/pprof/decode.js';
import { thirtySecondProfile } from './fixtures.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
const rounds = Number(values.rounds ?? 20);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const inputs = [
  { name: 'label-free 30-s profile', path: thirtySecondProfile(1, false) },
  { name: 'labelled 30-s profile', path: thirtySecondProfile(1, true) },
  { name: 'large labelled profile (bench/ui)', path: largeProfile({ seed: 2, seconds: 30 }) },
];
console.log('| profile | file | samples | decode (inflate + decode) | prepare (encodePreparedForm) | prepared form |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const input of inputs) {
  const file = readFileSync(input.path);
  const decodeTimes: number[] = [];
  const prepareTimes: number[] = [];
  let size = 0;
  let samples = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const p = decodeProfile(decompress(file, 512 * 2 ** 20));
    const t1 = performance.now();
    size = encodePreparedForm(p).length;
    const t2 = performance.now();
    samples = p.samples.count;
    decodeTimes.push(t1 - t0);
    prepareTimes.push(t2 - t1);
  }
  console.log(
    `| ${input.name} | ${(statSync(input.path).size / 1024).toFixed(0)} KB | ${samples} | ${median(decodeTimes).toFixed(1)} ms | ${median(prepareTimes).toFixed(1)} ms | ${(size / 1024).toFixed(0)} KB |`,
  );
}
