import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseProfile } from '../pprof/parse.js';
import { fixture } from '../testing/fixtures.js';
import { CliError } from './errors.js';
import type { MergeFlags } from './merge.js';
import { runMerge } from './merge-run.js';
import { SMALL_INPUT_BYTES } from './merge-small.js';

const work = mkdtempSync(join(tmpdir(), 'hotpath-merge-run-'));
after(() => rmSync(work, { recursive: true, force: true }));

// Every input of these tests is far below SMALL_INPUT_BYTES; a limit of 0 sends the same files
// down the path for large inputs (thread-pool inflate and gzip, warm-up).
const paths: Array<[string, number]> = [
  ['in-thread', SMALL_INPUT_BYTES],
  ['thread pool', 0],
];

function flags(output: string, dropLabels = false): MergeFlags {
  return { output, inline: [], inlineFile: [], dropLabels, quiet: true };
}

function sampleTotals(path: string): number[] {
  const p = parseProfile(readFileSync(path));
  const n = p.sampleTypes.length >> 1;
  const sums = new Array<number>(n).fill(0);
  for (let i = 0; i < p.samples.values.length; i++) sums[i % n] += p.samples.values[i];
  return sums;
}

describe('runMerge: small inputs on the main thread', () => {
  const raw = join(work, 'cpu-small-2.raw.pprof');
  writeFileSync(raw, gunzipSync(readFileSync(fixture('cpu-small-2.pprof'))));
  const inputs = [fixture('cpu-small-1.pprof'), raw, fixture('cpu-small-3.pprof')];

  for (const dropLabels of [false, true]) {
    it(`writes the same bytes as the thread-pool path${dropLabels ? ' (--drop-labels)' : ''}`, async () => {
      const outs: Buffer[] = [];
      for (const [name, limit] of paths) {
        const out = join(work, `same-${name.replace(' ', '-')}-${dropLabels}.pprof`);
        await runMerge(inputs, flags(out, dropLabels), limit);
        outs.push(readFileSync(out));
      }
      assert.ok(outs[0].length > 0);
      assert.ok(outs[0].equals(outs[1]), 'both paths write identical files');
      const expected = inputs.map(sampleTotals).reduce((a, b) => a.map((v, i) => v + b[i]));
      assert.deepEqual(sampleTotals(join(work, `same-in-thread-${dropLabels}.pprof`)), expected);
    });
  }

  const gz = readFileSync(fixture('cpu-small-1.pprof'));
  const bad: Array<[string, Buffer, RegExp]> = [
    ['empty.pprof', Buffer.alloc(0), /empty file/],
    ['truncated.pprof', gz.subarray(0, gz.length - 100), /truncated gzip/],
    ['corrupt.pprof', gzipSync(Buffer.from('\x0a\xff\xff\xff\x0f garbage')), /protobuf/],
    ['empty-gzip.pprof', gzipSync(Buffer.alloc(0)), /decompressed data is zero bytes/],
  ];
  for (const [name, limit] of paths) {
    for (const [file, bytes, reason] of bad) {
      it(`${name}: names ${file} after a good input, writes nothing`, async () => {
        const path = join(work, `${name.replace(' ', '-')}-${file}`);
        writeFileSync(path, bytes);
        const out = join(work, `bad-${name.replace(' ', '-')}-${file}`);
        await assert.rejects(runMerge([fixture('cpu-small-1.pprof'), path, fixture('cpu-small-3.pprof')], flags(out), limit), (err) => {
          assert.ok(err instanceof CliError, String(err));
          assert.ok(err.message.startsWith(`${path}: `), err.message);
          assert.match(err.message, reason);
          return true;
        });
        assert.equal(existsSync(out), false);
        assert.deepEqual(
          readdirSync(work).filter((f) => f.endsWith('.tmp')),
          [],
        );
      });
    }
  }
});
