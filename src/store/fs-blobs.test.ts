import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { blobsContract } from './blobs.contract.js';
import type { Blobs } from './blobs.js';
import { FsBlobs } from './fs-blobs.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'hotpath-fs-blobs-'));
}

blobsContract('FsBlobs', async () => {
  const dir = await tempDir();
  let current: Blobs = await FsBlobs.open(dir);
  return {
    blobs: current,
    async reopen() {
      await current.close();
      current = await FsBlobs.open(dir);
      return current;
    },
    async cleanup() {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
}

describe('FsBlobs on disk', () => {
  it('writes one file per key in a two-level shard directory and leaves no temporary file', async () => {
    const dir = await tempDir();
    try {
      const blobs = await FsBlobs.open(dir);
      await blobs.put('abc/raw-0-cpu.pprof', Uint8Array.from([1, 2]));
      const files = await filesUnder(dir);
      assert.equal(files.length, 1);
      assert.match(files[0], /^[0-9a-f]{2}[/\\][0-9a-f]{2}[/\\]abc%raw-0-cpu\.pprof$/);
      assert.equal(join(dir, files[0]), blobs.pathOf('abc/raw-0-cpu.pprof'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fsyncs every put (the file and its directory) and the shard directories the put made', async () => {
    const dir = await tempDir();
    // Counts the fsyncs of the real file system calls: the prototype every FileHandle shares.
    const probe = await open(join(dir, 'probe'), 'w');
    const handles = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    await rm(join(dir, 'probe'));
    const realSync = handles.sync;
    let syncs = 0;
    handles.sync = function (this: unknown) {
      syncs++;
      return realSync.call(this);
    };
    try {
      const blobs = await FsBlobs.open(dir);
      await blobs.put('k', Uint8Array.from([2]));
      assert.equal(syncs, 4, 'the file, its directory, and the new shard directories in their parents');
      syncs = 0;
      await blobs.put('k', Uint8Array.from([3, 4]));
      assert.equal(syncs, 2, 'the file and its directory');
      assert.deepEqual(Uint8Array.from((await blobs.get('k')) ?? []), Uint8Array.from([3, 4]));
      assert.equal((await filesUnder(dir)).length, 1);
    } finally {
      handles.sync = realSync;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never lists temporary files, and removes those over an hour old while listing', async () => {
    const dir = await tempDir();
    try {
      const blobs = await FsBlobs.open(dir);
      await blobs.put('k', Uint8Array.from([1]));
      // What a crash in the middle of a put leaves: a temporary file beside the blobs.
      const shard = dirname(blobs.pathOf('k'));
      await writeFile(join(shard, '.tmp-fresh'), 'partial');
      await writeFile(join(shard, '.tmp-stale'), 'partial');
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(join(shard, '.tmp-stale'), twoHoursAgo, twoHoursAgo);
      const listed: string[] = [];
      for await (const b of blobs.list()) listed.push(b.key);
      assert.deepEqual(listed, ['k']);
      assert.equal(await blobs.totalBytes(), 1);
      const names = await readdir(shard);
      assert.ok(names.includes('.tmp-fresh'), 'a temporary file of a write that may still run is kept');
      assert.ok(!names.includes('.tmp-stale'), 'a stale temporary file is removed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps its total size up to date after the first count', async () => {
    const dir = await tempDir();
    try {
      const blobs = await FsBlobs.open(dir);
      await blobs.put('a', new Uint8Array(10));
      assert.equal(await blobs.totalBytes(), 10);
      await blobs.put('b', new Uint8Array(5));
      await blobs.put('a', new Uint8Array(3));
      await blobs.delete('b');
      await blobs.delete('b');
      assert.equal(await blobs.totalBytes(), 3);
      assert.equal(await (await FsBlobs.open(dir)).totalBytes(), 3, 'a fresh count agrees');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('makes a shard directory again when it was removed after a put into it', async () => {
    const dir = await tempDir();
    try {
      const blobs = await FsBlobs.open(dir);
      await blobs.put('first', Uint8Array.from([1]));
      // Another key in the same shard: the instance knows the directory, and it is gone.
      let other = 'x0';
      for (let i = 1; dirname(blobs.pathOf(other)) !== dirname(blobs.pathOf('first')); i++) other = `x${i}`;
      await rm(dirname(blobs.pathOf('first')), { recursive: true });
      await blobs.put(other, Uint8Array.from([2]));
      assert.deepEqual(await blobs.get(other), Uint8Array.from([2]));
      assert.equal(await blobs.get('first'), null);
      await blobs.put('first', Uint8Array.from([3]));
      assert.deepEqual(await blobs.get('first'), Uint8Array.from([3]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ignores foreign files and directories in its root', async () => {
    const dir = await tempDir();
    try {
      await writeFile(join(dir, 'README'), 'not a blob');
      const blobs = await FsBlobs.open(dir);
      await blobs.put('k', Uint8Array.from([1]));
      const listed: string[] = [];
      for await (const b of blobs.list()) listed.push(b.key);
      assert.deepEqual(listed, ['k']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
