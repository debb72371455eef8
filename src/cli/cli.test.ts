import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseProfile } from '../pprof/parse.js';
import { fixture } from '../testing/fixtures.js';
import { hotpathBin } from '../testing/hotpath-bin.js';

// The CLI as a user runs it: a separate process through bin/hotpath.js.
const work = mkdtempSync(join(tmpdir(), 'hotpath-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function hotpath(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [hotpathBin, ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts a failed run: exit 1, one line on stderr naming `file` and matching `reason`, no stack trace. */
function assertUserError(r: ReturnType<typeof hotpath>, file: string, reason: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.ok(lines[0].startsWith(`hotpath: ${file}: `), lines[0]);
  assert.match(lines[0], reason);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe('hotpath CLI', () => {
  it('has help text for every command', () => {
    const top = hotpath('--help');
    assert.equal(top.status, 0);
    for (const cmd of ['merge', 'inspect', 'explain']) {
      assert.match(top.stdout, new RegExp(`\\n  ${cmd} `));
      const help = hotpath(cmd, '--help');
      assert.equal(help.status, 0);
      assert.match(help.stdout, new RegExp(`Usage: hotpath ${cmd} `));
    }
    assert.match(hotpath('merge', '--help').stdout, /--no-inline <FUNC>/);
  });

  it('merge writes a profile pprof can read, and --pgo a much smaller one', () => {
    const inputs = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof'].map(fixture);
    const full = join(work, 'full.pprof');
    const pgo = join(work, 'default.pgo');
    assert.equal(hotpath('merge', '-o', full, ...inputs).status, 0);
    const r = hotpath('merge', '--pgo', '-o', pgo, ...inputs);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote .*default\.pgo: \d+ bytes from 3 profile\(s\)/);
    const merged = parseProfile(readFileSync(full));
    const trimmed = parseProfile(readFileSync(pgo));
    assert.equal(trimmed.samples.labelKey.length, 0);
    assert.equal(trimmed.mappings.count, 0);
    assert.ok(trimmed.samples.locStart.every((v, i, a) => i === 0 || v - a[i - 1] <= 2));
    assert.ok(readFileSync(pgo).length < readFileSync(full).length);
    assert.equal(merged.durationNanos, trimmed.durationNanos);
  });

  it('writes the same bytes for the same inputs', () => {
    const inputs = ['cpu-small-1.pprof', 'cpu-json.pprof'].map(fixture);
    const a = join(work, 'a.pgo');
    const b = join(work, 'b.pgo');
    hotpath('merge', '--pgo', '-q', '-o', a, ...inputs);
    hotpath('merge', '--pgo', '-q', '-o', b, ...inputs);
    assert.deepEqual(readFileSync(a), readFileSync(b));
  });

  describe('bad input: one line naming the file, exit 1, nothing written', () => {
    const good = fixture('cpu-small-1.pprof');
    const out = join(work, 'out.pgo');
    const existing = join(work, 'existing.pgo');
    const gz = readFileSync(good);
    const cases: Array<[string, Buffer | null, RegExp]> = [
      ['empty.pprof', Buffer.alloc(0), /empty file/],
      ['truncated.pprof', gz.subarray(0, gz.length - 100), /truncated gzip/],
      ['corrupt.pprof', gzipSync(Buffer.from('\x0a\xff\xff\xff\x0f garbage')), /protobuf/],
      ['text.pprof', Buffer.from('hello, this is not a profile\n'), /protobuf|wire type/],
      ['missing.pprof', null, /cannot read: no such file/],
    ];
    for (const [name, bytes, reason] of cases) {
      it(`rejects ${name}`, () => {
        const path = join(work, name);
        if (bytes) writeFileSync(path, bytes);
        writeFileSync(existing, 'previous default.pgo');
        assertUserError(hotpath('merge', '--pgo', '-o', out, good, path), path, reason);
        assert.equal(existsSync(out), false);
        assertUserError(hotpath('merge', '--pgo', '-o', existing, good, path), path, reason);
        assert.equal(readFileSync(existing, 'utf8'), 'previous default.pgo', 'an existing output is left untouched');
        assertUserError(hotpath('inspect', path), path, reason);
        assertUserError(hotpath('explain', path), path, reason);
        assert.deepEqual(
          readdirSync(work).filter((f) => f.endsWith('.tmp')),
          [],
          'no temporary files are left behind',
        );
      });
    }

    it('rejects a heap profile where a CPU profile is needed', () => {
      const heap = fixture('heap.pprof');
      assertUserError(
        hotpath('merge', '--pgo', '-o', out, heap),
        heap,
        /not a CPU profile: .*samples\/count or cpu\/nanoseconds.*alloc_objects\/count/,
      );
      assertUserError(hotpath('explain', heap), heap, /no samples\/count or cpu\/nanoseconds sample type/);
      assert.equal(existsSync(out), false);
      // inspect works on any profile.
      assert.equal(hotpath('inspect', heap).status, 0);
    });

    it('rejects merging profiles of different kinds', () => {
      const r = hotpath('merge', '-o', out, good, fixture('heap.pprof'));
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^hotpath: \S+heap\.pprof: cannot be merged with \S+cpu-small-1\.pprof: incompatible (period|sample) types/);
      assert.equal(existsSync(out), false);
    });

    it('rejects bad flag values', () => {
      const r = hotpath('explain', '--top', 'lots', good);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /--top must be a positive integer, got "lots"/);
    });
  });

  it('inspect reports CPU cores, samples and top functions', () => {
    const r = hotpath('inspect', '--json', fixture('cpu-small-1.pprof'));
    assert.equal(r.status, 0, r.stderr);
    const stats = JSON.parse(r.stdout);
    assert.deepEqual(stats.sampleTypes, ['samples/count', 'cpu/nanoseconds']);
    assert.ok(stats.cpuCores > 0.1 && stats.cpuCores <= 2.5, `cpu cores ${stats.cpuCores}`);
    assert.equal(stats.cpuCores, stats.totals[1] / stats.durationNanos);
    assert.ok(stats.sampleCount > 50);
    assert.ok(stats.topFlat.length === 10 && stats.topFlat[0].flat >= stats.topFlat[9].flat);
    const text = hotpath('inspect', fixture('cpu-small-1.pprof'));
    assert.match(text.stdout, /CPU cores: +\d+\.\d{3}/);
    assert.match(text.stdout, /Top functions by flat cpu\/nanoseconds:/);
  });
});
