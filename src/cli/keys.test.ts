import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hotpathBin } from '../testing/hotpath-bin.js';

// `hotpath keys` as a user runs it, on data directories that are missing, wrong or fine.
const work = mkdtempSync(join(tmpdir(), 'hotpath-keys-'));
after(() => rmSync(work, { recursive: true, force: true }));

function hotpath(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [hotpathBin, ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts exit 1 (as every CLI usage error) with one stderr line, no stack trace, matching `reason`. */
function assertOneLineError(r: ReturnType<typeof hotpath>, reason: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], /^hotpath: /);
  assert.match(lines[0], reason);
  assert.doesNotMatch(r.stderr, /internal error|\bat .*\.js:\d+/);
}

describe('hotpath keys on a data directory', () => {
  const missing = join(work, 'no-such-dir');

  for (const command of [['create'], ['create', '--kind', 'api'], ['list'], ['list', '--json'], ['revoke', 'abc123']]) {
    it(`keys ${command.join(' ')} on a directory that does not exist: one line naming it and what to do, exit 1`, () => {
      const r = hotpath('keys', ...command, '--data', missing);
      assertOneLineError(r, /data directory \S+no-such-dir does not exist/);
      assert.ok(r.stderr.includes(`hotpath serve --data ${missing}`), r.stderr);
      assert.equal(r.stdout, '', 'no secret printed');
      assert.equal(existsSync(missing), false, 'nothing created');
    });
  }

  it('a file given as --data is refused as not a directory', () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    assertOneLineError(hotpath('keys', 'list', '--data', file), /a-file is not a directory/);
  });

  it('list and revoke on a directory without a key store say so and leave no keys.sqlite behind', () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    assertOneLineError(hotpath('keys', 'list', '--data', empty), /empty has no key store \(keys\.sqlite\)/);
    assertOneLineError(hotpath('keys', 'revoke', 'abc', '--data', empty), /has no key store/);
    assert.equal(existsSync(join(empty, 'keys.sqlite')), false);
  });

  it('create on an existing directory makes the key store, then list shows the key', () => {
    const dir = join(work, 'fresh');
    mkdirSync(dir);
    const created = hotpath('keys', 'create', '--kind', 'api', '--name', 'ci', '--data', dir);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /^hpapi_[A-Za-z0-9]{32}\n$/);
    const listed = hotpath('keys', 'list', '--json', '--data', dir);
    assert.equal(listed.status, 0, listed.stderr);
    const keys = JSON.parse(listed.stdout) as Array<{ kind: string; name: string }>;
    assert.deepEqual(
      keys.map((k) => [k.kind, k.name]),
      [['api', 'ci']],
    );
  });
});
