import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlobInfo, type Blobs, checkBlobKey, checkBlobRange } from './blobs.js';
import { BlobRangeError } from './errors.js';

/** Temporary files start with this; `list` never reports them. Keys cannot start with ".". */
const TEMP_PREFIX = '.tmp-';

/** Age after which a temporary file is taken for the leftover of a crashed write and removed. */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Blobs as files under one directory. A key becomes one file name (its "/" written as "%", which
 * keys cannot contain, so the mapping is reversible and a key never collides with a directory),
 * placed in `xx/yy/` from the SHA-256 of the key: 65,536 directories keep each one small at tens
 * of millions of blobs, whatever the keys look like.
 *
 * A put writes a temporary file in the destination directory, fsyncs it, renames it over the
 * final name and fsyncs the directory, so a blob is either absent, old or complete, and durable
 * when put resolves. Deletes are not fsynced: a delete undone by a crash leaves a blob
 * that no index row names, which retention removes as an orphan. Temporary files left by a crash are
 * removed by `list` (which retention runs) once they are an hour old.
 */
export class FsBlobs implements Blobs {
  /** Sum of sizes once one walk has counted them, kept up to date by this instance's puts and deletes. */
  private total: number | null = null;
  /** Puts and deletes so far: a walk that overlapped one of them does not set `total`. */
  private writes = 0;
  /**
   * Shard directories this instance made or found, durable in their parents: a put into one of
   * them skips its mkdir. At most 65,536 entries (one per shard).
   */
  private readonly knownDirs = new Set<string>();
  /**
   * Shard directories made but not yet synced as entries of their parents: the put that made one
   * syncs them. Marked when made, so a put racing the one that made its directory syncs it too
   * rather than resolve before the directory is durable. At most 65,536 entries.
   */
  private readonly unsyncedDirs = new Set<string>();

  private constructor(readonly root: string) {}

  /** Returns the blob store under `root`, creating the directory when missing. */
  static async open(root: string): Promise<FsBlobs> {
    await mkdir(root, { recursive: true });
    return new FsBlobs(root);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkBlobKey(key);
    this.writes++;
    const dir = this.dirOf(key);
    const target = join(dir, fileNameOf(key));
    // Every blob write is a dozen file system calls on the thread pool; a known directory saves one.
    if (!this.knownDirs.has(dir) && (await mkdir(dir, { recursive: true })) !== undefined) this.unsyncedDirs.add(dir);
    const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let replaced = 0;
    try {
      let file: FileHandle;
      try {
        file = await open(temp, 'wx');
      } catch (err) {
        // A known directory removed behind this instance's back: make it again, once.
        if (!isNotFound(err) || !this.knownDirs.delete(dir)) throw err;
        if ((await mkdir(dir, { recursive: true })) !== undefined) this.unsyncedDirs.add(dir);
        file = await open(temp, 'wx');
      }
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      // The size replaced matters only to a total already counted.
      replaced = this.total === null ? 0 : ((await statOrNull(target))?.size ?? 0);
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    if (this.total !== null) this.total += bytes.byteLength - replaced;
    this.knownDirs.add(dir);
    await syncDir(dir);
    // New shard directories must be durable entries of their parents too.
    if (this.unsyncedDirs.has(dir)) {
      await syncDir(join(dir, '..'));
      await syncDir(this.root);
      this.unsyncedDirs.delete(dir);
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    checkBlobKey(key);
    try {
      const buf = await readFile(this.pathOf(key));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Opens the file, checks its size covers the range, and reads the range at its position. */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    checkBlobKey(key);
    checkBlobRange(offset, length);
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (offset + length > size) {
        throw new BlobRangeError(`blob ${JSON.stringify(key)} holds ${size} bytes, too few for ${length} bytes at offset ${offset}`);
      }
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new BlobRangeError(
            `blob ${JSON.stringify(key)} ended after ${offset + done} bytes while reading ${length} bytes at offset ${offset}`,
          );
        }
        done += bytesRead;
      }
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } finally {
      await handle.close();
    }
  }

  async delete(key: string): Promise<void> {
    checkBlobKey(key);
    this.writes++;
    const path = this.pathOf(key);
    const info = await statOrNull(path);
    if (info === null) return;
    try {
      await unlink(path);
      if (this.total !== null) this.total -= info.size;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Walks every shard directory even for a prefix: files are sharded by key hash, and a local walk is cheap. */
  async *list(prefix = ''): AsyncIterable<BlobInfo> {
    const staleBefore = Date.now() - STALE_TEMP_MS;
    for (const level1 of await readdirOrEmpty(this.root)) {
      if (!isShardName(level1)) continue;
      for (const level2 of await readdirOrEmpty(join(this.root, level1))) {
        if (!isShardName(level2)) continue;
        const dir = join(this.root, level1, level2);
        for (const name of await readdirOrEmpty(dir)) {
          const path = join(dir, name);
          if (name.startsWith('.')) {
            if (name.startsWith(TEMP_PREFIX)) await removeIfOlder(path, staleBefore);
            continue;
          }
          const key = name.replaceAll('%', '/');
          if (!key.startsWith(prefix)) continue;
          const info = await statOrNull(path);
          if (info === null || !info.isFile()) continue;
          yield { key, size: info.size, modifiedMs: info.mtimeMs };
        }
      }
    }
  }

  /**
   * The first call walks every shard directory (O(number of blobs)); later calls return a total
   * kept up to date by this instance's puts and deletes, so metrics can ask often. Concurrent
   * puts of one key may make it drift by that blob's size until the next restart.
   */
  async totalBytes(): Promise<number> {
    if (this.total !== null) return this.total;
    const writesBefore = this.writes;
    let sum = 0;
    for await (const blob of this.list()) sum += blob.size;
    if (this.writes === writesBefore) this.total = sum;
    return sum;
  }

  async close(): Promise<void> {}

  /** The file that holds `key` (whether or not it exists). */
  pathOf(key: string): string {
    checkBlobKey(key);
    return join(this.dirOf(key), fileNameOf(key));
  }

  private dirOf(key: string): string {
    const hash = createHash('sha256').update(key).digest('hex');
    return join(this.root, hash.slice(0, 2), hash.slice(2, 4));
  }
}

function fileNameOf(key: string): string {
  return key.replaceAll('/', '%');
}

function isShardName(name: string): boolean {
  return /^[0-9a-f]{2}$/.test(name);
}

async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its rename is durable through NTFS's journal.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeIfOlder(path: string, beforeMs: number): Promise<void> {
  const info = await statOrNull(path);
  if (info === null || info.mtimeMs >= beforeMs) return;
  try {
    await unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
