import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { encodeProfileGzip } from '../pprof/encode.js';
import { fixture } from '../testing/fixtures.js';
import { tryFastMerge } from './merge-fast.js';
import { runMerge } from './merge-run.js';
import { SMALL_INPUT_BYTES } from './merge-small.js';

const work = mkdtempSync(join(tmpdir(), 'hotpath-merge-fast-'));
after(() => rmSync(work, { recursive: true, force: true }));

const inputs = [fixture('cpu-small-1.pprof'), fixture('cpu-small-2.pprof'), fixture('cpu-small-3.pprof')];

/** What the CLI writes for the same merge through the TypeScript path (no kernel: limit 0). */
async function typescriptOutput(dropLabels: boolean): Promise<Buffer> {
  const out = join(work, `ts-${dropLabels}.pprof`);
  await runMerge(inputs, { output: out, inline: [], inlineFile: [], dropLabels, quiet: true }, 0);
  return readFileSync(out);
}

describe('tryFastMerge (the launcher runs it before the CLI)', () => {
  const lines: Array<[string, string[], boolean]> = [
    ['-o OUT -q', ['-q', '-o'], false],
    ['--output OUT --quiet', ['--quiet', '--output'], false],
    ['--output=OUT --drop-labels -q', ['--drop-labels', '-q', '--output='], true],
  ];
  for (const [name, flags, dropLabels] of lines) {
    it(`${name}: writes the bytes the CLI writes`, async () => {
      const out = join(work, `fast-${name.replace(/[^a-z]+/g, '-')}.pprof`);
      const last = flags[flags.length - 1];
      const args = last.endsWith('=') ? [...flags.slice(0, -1), `${last}${out}`, ...inputs] : [...flags, out, ...inputs];
      assert.equal(tryFastMerge(args), null);
      assert.ok(readFileSync(out).equals(await typescriptOutput(dropLabels)));
    });
  }

  const nonAscii = join(work, 'non-ascii.pprof');
  const b = ProfileBuilder.goCpu();
  b.addSample([b.addLocation([{ fn: b.addFunction('main.größe'), line: 1 }])], [1, 10_000_000]);
  writeFileSync(nonAscii, encodeProfileGzip(b.finish()));
  const large = join(work, 'large.pprof');
  writeFileSync(large, Buffer.alloc(SMALL_INPUT_BYTES + 1));

  const declined: Array<[string, string[], RegExp]> = [
    ['--pgo', ['--pgo', '-o', 'OUT', ...inputs], /--pgo/],
    ['--help', ['--help'], /--help/],
    ['a Go-style flag', ['-output', 'OUT', ...inputs], /-output/],
    ['no inputs', ['-o', 'OUT'], /no inputs/],
    ['no output', inputs, /no output/],
    ['an output that looks like a flag', ['-o', '-q', ...inputs], /output/],
    ['a missing file', ['-o', 'OUT', join(work, 'missing.pprof')], /ENOENT/],
    ['an input the kernel declines', ['-o', 'OUT', nonAscii, ...inputs], /declined: .*non-ASCII/],
    ['large inputs', ['-o', 'OUT', large], /more than/],
  ];
  for (const [name, args, reason] of declined) {
    it(`leaves ${name} to the CLI, writing nothing`, () => {
      const out = join(work, `declined-${name.replace(/[^a-z]+/g, '-')}.pprof`);
      assert.match(tryFastMerge(args.map((a) => (a === 'OUT' ? out : a))) ?? 'merged', reason);
      assert.equal(existsSync(out), false);
    });
  }
});
