import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitUntil } from '../testing/wait.js';
import { FileTargetWatcher, parseTargetFile } from './file-sd.js';
import { ConfigFileError } from './yaml-reader.js';

const root = mkdtempSync(join(tmpdir(), 'hotpath-file-sd-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function freshDir(): string {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  return dir;
}

/** Replaces a file the way config management does: write beside it, rename over it. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const addresses = (w: FileTargetWatcher) => w.groups().flatMap((g) => g.targets);

describe('parseTargetFile', () => {
  it("reads Prometheus's JSON and YAML forms", () => {
    const json = parseTargetFile(
      '[{"targets": ["10.0.0.1:6060", "b:6060"], "labels": {"service": "api", "env": "prod"}}, {"targets": []}]',
      '/t.json',
    );
    assert.deepEqual(json, [
      { targets: ['10.0.0.1:6060', 'b:6060'], labels: { service: 'api', env: 'prod' }, source: '/t.json' },
      { targets: [], labels: {}, source: '/t.json' },
    ]);
    const yaml = parseTargetFile('- targets: [a:1]\n  labels:\n    version: 1.10\n', '/t.yaml');
    assert.deepEqual(yaml, [{ targets: ['a:1'], labels: { version: '1.10' }, source: '/t.yaml' }]);
    assert.deepEqual(parseTargetFile('[]', '/t.json'), []);
  });

  it('refuses bad files with the line of each problem', () => {
    const refused = (text: string) => {
      try {
        parseTargetFile(text, '/t.json');
      } catch (err) {
        assert.ok(err instanceof ConfigFileError);
        return err.message;
      }
      assert.fail('accepted');
    };
    assert.match(refused(''), /is empty/);
    assert.match(refused('[{"targets": ["a:1"]'), /\/t\.json:1:\d+: Flow/);
    assert.match(
      refused('[{"targets": ["a:1"], "lables": {}}]'),
      /\/t\.json:1:23: \[0\]: unknown field "lables" \(did you mean "labels"\?\)/,
    );
    assert.match(refused('[\n  {"targets": ["http://a:1"]}\n]'), /\/t\.json:2:16: \[0\]\.targets: "http:\/\/a:1" must be host:port/);
    assert.match(refused('{"targets": ["a:1"]}'), /target groups: must be a list/);
    assert.match(refused('[{"targets": ["a:1"], "labels": {"a b": "c"}}]'), /label name "a b"/);
    assert.match(refused(`[{"targets": ["${'a'.repeat(190)}:1"]}]`), /is 192 characters long; the limit is 191/);
  });
});

describe('FileTargetWatcher', () => {
  it('adds the targets of a changed file without being asked, and keeps them when the file turns bad', async () => {
    const dir = freshDir();
    const file = join(dir, 'targets.json');
    writeFileSync(file, '[{"targets": ["a:1"]}]');
    let changes = 0;
    // A refresh interval of an hour: only the directory watch can see the change in time.
    const watcher = new FileTargetWatcher({ files: [file], refreshIntervalMs: 3_600_000 }, () => changes++);
    try {
      await watcher.start();
      assert.deepEqual(addresses(watcher), ['a:1']);
      replaceFile(file, '[{"targets": ["a:1", "b:2"], "labels": {"service": "new"}}]');
      await waitUntil(() => addresses(watcher).length === 2, 'the watch to pick up the new target');
      assert.ok(changes >= 1);
      assert.deepEqual(watcher.groups()[0].labels, { service: 'new' });

      // A half-written or broken file: the last good targets stay and the error is reported.
      replaceFile(file, '[{"targets": ["a:1", "b:2"');
      await waitUntil(() => watcher.errors().length === 1, 'the broken file to be reported');
      assert.deepEqual(addresses(watcher), ['a:1', 'b:2']);
      assert.equal(watcher.errors()[0].file, file);
      assert.match(watcher.errors()[0].error, /targets\.json:1:\d+: .*last good targets are kept/);

      replaceFile(file, '[{"targets": ["c:3"]}]');
      await waitUntil(() => addresses(watcher).join() === 'c:3', 'the fixed file to be read');
      assert.deepEqual(watcher.errors(), []);

      // A file that is removed takes its targets with it; a file named without a pattern is reported missing.
      unlinkSync(file);
      await waitUntil(() => addresses(watcher).length === 0, 'the removed file to drop its targets');
      assert.match(watcher.errors()[0].error, /does not exist/);
    } finally {
      await watcher.stop();
    }
  });

  it('finds files by pattern, in directories created after it started, by re-reading every refresh interval', async () => {
    const dir = join(freshDir(), 'later');
    const watcher = new FileTargetWatcher({ files: [join(dir, '*.yaml')], refreshIntervalMs: 100 }, () => undefined);
    try {
      await watcher.start();
      assert.deepEqual(addresses(watcher), []);
      // Nothing to watch yet: only the periodic read can find these.
      assert.deepEqual(watcher.errors(), [], 'a pattern that matches nothing yet is not an error');
      mkdirSync(dir);
      writeFileSync(join(dir, 'a.yaml'), '- targets: [a:1]\n');
      writeFileSync(join(dir, 'b.yaml'), '- targets: [b:1]\n');
      writeFileSync(join(dir, 'ignored.json'), '[{"targets": ["c:1"]}]');
      await waitUntil(() => addresses(watcher).length === 2, 'the periodic read to find both files');
      assert.deepEqual(addresses(watcher).sort(), ['a:1', 'b:1']);
    } finally {
      await watcher.stop();
    }
  });

  it('refuses an oversized file and a directory in place of a file, keeping what it had', async () => {
    const dir = freshDir();
    const file = join(dir, 't.json');
    writeFileSync(file, '[{"targets": ["a:1"]}]');
    const watcher = new FileTargetWatcher({ files: [file, join(dir, 'sub.json')], refreshIntervalMs: 3_600_000 }, () => undefined);
    try {
      mkdirSync(join(dir, 'sub.json'));
      await watcher.start();
      assert.match(watcher.errors().find((e) => e.file.endsWith('sub.json'))?.error ?? '', /is not a regular file/);
      writeFileSync(file, Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
      await watcher.reload();
      assert.deepEqual(addresses(watcher), ['a:1']);
      assert.match(watcher.errors().find((e) => e.file === file)?.error ?? '', /the limit for a target file is 4194304/);
    } finally {
      await watcher.stop();
    }
  });
});
