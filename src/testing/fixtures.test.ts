import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cachedFixture } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'hotpath-fixtures-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A spec of "at least `min` bytes" whose generator writes `sizes[attempt - 1]` bytes and records its calls. */
function sizedSpec(path: string, min: number, sizes: number[]) {
  const calls: number[] = [];
  return {
    calls,
    spec: {
      path,
      attempts: sizes.length,
      shortfall: (p: string) => (statSync(p).size >= min ? null : `${statSync(p).size} bytes, spec ${min}`),
      generate: (p: string, attempt: number) => {
        calls.push(attempt);
        writeFileSync(p, Buffer.alloc(sizes[attempt - 1], attempt));
      },
    },
  };
}

describe('cachedFixture', () => {
  it('uses a cached file that meets its spec without generating', () => {
    const path = join(work, 'good.bin');
    writeFileSync(path, Buffer.alloc(100));
    const { spec, calls } = sizedSpec(path, 50, [10]);
    assert.equal(cachedFixture(spec), path);
    assert.deepEqual(calls, []);
  });

  it('regenerates a cached file that falls short of its spec (recorded on a busy machine) and caches the new one', () => {
    const path = join(work, 'short.bin');
    writeFileSync(path, Buffer.alloc(10));
    const { spec, calls } = sizedSpec(path, 50, [80]);
    assert.equal(cachedFixture(spec), path);
    assert.deepEqual(calls, [1]);
    assert.equal(statSync(path).size, 80);
    // The next run uses the cache.
    const again = sizedSpec(path, 50, [80]);
    cachedFixture(again.spec);
    assert.deepEqual(again.calls, []);
  });

  it('tries again when a new file falls short, and keeps the first that meets the spec', () => {
    const path = join(work, 'retry.bin');
    const { spec, calls } = sizedSpec(path, 50, [20, 60, 90]);
    cachedFixture(spec);
    assert.deepEqual(calls, [1, 2]);
    assert.deepEqual([...readFileSync(path).subarray(0, 1)], [2]);
  });

  it('throws naming the shortfall when no attempt meets the spec, and caches nothing', () => {
    const dir = mkdtempSync(join(work, 'never-'));
    const path = join(dir, 'never.bin');
    const { spec, calls } = sizedSpec(path, 50, [10, 20]);
    assert.throws(() => cachedFixture(spec), /never\.bin falls short of its spec after 2 attempts: 20 bytes, spec 50/);
    assert.deepEqual(calls, [1, 2]);
    assert.equal(existsSync(path), false);
    assert.deepEqual(readdirSync(dir), [], 'no partial file left behind');
  });

  it('a generator that writes nothing is a shortfall, not a crash', () => {
    const path = join(work, 'nothing.bin');
    assert.throws(
      () => cachedFixture({ path, attempts: 1, shortfall: () => null, generate: () => undefined }),
      /the generator wrote no file/,
    );
  });
});
