import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { fixture } from '../testing/fixtures.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, DecompressedSizeError, decompress, decompressAsync } from './compression.js';
import { ProfileError } from './errors.js';
import { DecompressionBusyError, ZstdWorkerPool } from './zstd-pool.js';

const MiB = 1024 * 1024;
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** A zstd frame from its header bytes (after the magic) and raw block contents (the last block ends the frame). */
function frame(header: number[], blocks: Array<Uint8Array | { rle: number; size: number }>): Buffer {
  const parts: Buffer[] = [Buffer.from([...MAGIC, ...header])];
  blocks.forEach((block, i) => {
    const last = i === blocks.length - 1 ? 1 : 0;
    if (block instanceof Uint8Array) {
      const h = last | (0 << 1) | (block.length << 3);
      parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, h >> 16]), Buffer.from(block));
    } else {
      const h = last | (1 << 1) | (block.size << 3);
      parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, h >> 16, block.rle]));
    }
  });
  return Buffer.concat(parts);
}

/** Asserts that both decompress and decompressAsync refuse `bytes` with an error of `type` whose message matches. */
async function refusedBoth(
  bytes: Uint8Array,
  type: abstract new (...args: never[]) => ProfileError,
  pattern: RegExp,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
) {
  const check = (err: unknown): boolean => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.ok(err instanceof ProfileError);
    assert.match(err.message, pattern);
    return true;
  };
  assert.throws(() => decompress(bytes, maxBytes), check);
  await assert.rejects(decompressAsync(bytes, maxBytes), check);
}

describe('zstd and gzip bombs', () => {
  let dir: string;
  let zerosFile: string;
  /** `zstd` run on 128 MiB of zeros read from a file: the frame declares its content size. */
  let declaredBomb: Buffer;
  /** The same read from a pipe at -19 --ultra: no content size, an 8 MiB window, thousands of blocks. */
  let ultraStreamBomb: Buffer;
  /** The same at -1 from a pipe: no content size and a small window, so it is inflated until it passes the limit. */
  let streamBomb: Buffer;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-zstd-'));
    zerosFile = join(dir, 'zeros');
    closeSync(openSync(zerosFile, 'w'));
    truncateSync(zerosFile, 128 * MiB);
    const zstd = (args: string[], fromPipe: boolean): Buffer => {
      if (!fromPipe) return execFileSync('zstd', [...args, '-q', '-c', zerosFile], { maxBuffer: 64 * MiB });
      const fd = openSync(zerosFile, 'r');
      try {
        return execFileSync('zstd', [...args, '-q', '-c'], { stdio: [fd, 'pipe', 'inherit'], maxBuffer: 64 * MiB });
      } finally {
        closeSync(fd);
      }
    };
    declaredBomb = zstd(['-19', '--ultra'], false);
    ultraStreamBomb = zstd(['-19', '--ultra'], true);
    streamBomb = zstd(['-1'], true);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a zstd -19 --ultra bomb whose header declares its size, before inflating it', async () => {
    assert.ok(declaredBomb.length < 64 * 1024, `bomb is ${declaredBomb.length} bytes`);
    await refusedBoth(
      declaredBomb,
      DecompressedSizeError,
      /content size declared by the frame at byte 0 \(134217728 bytes\) exceeds the limit of 67108864 bytes/,
    );
  });

  it('refuses a zstd -19 --ultra bomb from a pipe by the work its blocks would take', async () => {
    await refusedBoth(
      ultraStreamBomb,
      DecompressedSizeError,
      /decoding work of the zstd frame at byte 0 .* exceeds the limit of 67108864 bytes/,
    );
  });

  it('stops inflating a zstd bomb without declared sizes as soon as it passes the limit', async () => {
    await refusedBoth(streamBomb, DecompressedSizeError, /^decompressed size exceeds the limit of 67108864 bytes/);
    await refusedBoth(streamBomb, DecompressedSizeError, /exceeds the limit of 1048576 bytes/, MiB);
  });

  it('refuses a gzip bomb with the same error', async () => {
    const bomb = gzipSync(Buffer.alloc(80 * MiB), { level: 9 });
    await refusedBoth(bomb, DecompressedSizeError, /^decompressed size exceeds the limit of 67108864 bytes/);
  });

  it('keeps the event loop turning while a zstd bomb inflates', async () => {
    let ticks = 0;
    let settled = false;
    const tick = (): void => {
      if (settled) return;
      ticks++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const result = decompressAsync(streamBomb).then(
      () => 'inflated',
      (err: unknown) => err,
    );
    const outcome = await result;
    const ticksBeforeSettled = ticks;
    settled = true;
    assert.ok(outcome instanceof DecompressedSizeError, `expected DecompressedSizeError, got ${String(outcome)}`);
    assert.ok(ticksBeforeSettled > 0, 'the event loop did not turn while the bomb inflated');
  });
});

describe('zstd headers that would make the decoder allocate beyond the limit', () => {
  it('refuses a window larger than the limit (2 TiB, and 128 MiB)', async () => {
    // Frame_Header_Descriptor 0 (window descriptor, no content size), exponent 31: 2^41 bytes.
    await refusedBoth(
      frame([0x00, 0xf8], [Buffer.from('x')]),
      DecompressedSizeError,
      /zstd window of the frame at byte 0 \(2199023255552 bytes\)/,
    );
    await refusedBoth(frame([0x00, 17 << 3], [Buffer.from('x')]), DecompressedSizeError, /\(134217728 bytes\) exceeds the limit/);
  });

  it('refuses a declared content size larger than the limit (8-byte and single-segment 4-byte sizes)', async () => {
    const eight = [0, 0, 0, 0, 0, 1, 0, 0]; // 2^40, little-endian
    await refusedBoth(frame([0xc0, 0x00, ...eight], [Buffer.from('x')]), DecompressedSizeError, /content size .* \(1099511627776 bytes\)/);
    // Single segment: the window is the content size, 4 GiB - 1.
    await refusedBoth(
      frame([0xa0, 0xff, 0xff, 0xff, 0xff], [Buffer.from('x')]),
      DecompressedSizeError,
      /\(4294967295 bytes\) exceeds the limit/,
    );
  });

  it('refuses many empty blocks under a large window before decoding any (work bound)', async () => {
    const empty = new Uint8Array(0);
    // An 8 MiB window (descriptor 0x68) and 600 empty raw blocks: 1.8 KB of input, 5 GB of window moves.
    const bomb = frame([0x00, 0x68], new Array(600).fill(empty));
    assert.ok(bomb.length < 2000);
    await refusedBoth(bomb, DecompressedSizeError, /decoding work .* \(600 blocks × a 8388608-byte window/);
  });

  it('refuses dictionaries, reserved bits and block types, oversized blocks, trailing garbage, truncation', async () => {
    const hello = Buffer.from('hello');
    await refusedBoth(frame([0x21, 7, 5], [hello]), ProfileError, /needs dictionary 7/);
    await refusedBoth(frame([0x28, 5], [hello]), ProfileError, /reserved header bit/);
    await refusedBoth(Buffer.from([...MAGIC, 0x20, 5, 0x07, 0, 0]), ProfileError, /reserved block type/);
    // Single-segment, 3 bytes declared: a 5-byte block cannot belong to it.
    await refusedBoth(frame([0x20, 3], [hello]), ProfileError, /block at byte 6 is 5 bytes, more than its frame's maximum of 3/);
    await refusedBoth(Buffer.concat([frame([0x20, 5], [hello]), Buffer.from('garbage!')]), ProfileError, /no zstd frame starts at byte 14/);
    const real = execFileSync('zstd', ['-q', '-c'], { input: readFileSync(fixture('cpu-small-1.pprof')) });
    await refusedBoth(real.subarray(0, real.length - 10), ProfileError, /truncated zstd/);
  });

  it('refuses a frame whose content differs from the size it declares', async () => {
    // Content size 256 (2-byte field 0 + 256), 1 KiB window.
    await refusedBoth(frame([0x40, 0x00, 0, 0], [Buffer.alloc(300, 1)]), ProfileError, /holds more than the 256 bytes it declares/);
    await refusedBoth(frame([0x40, 0x00, 0, 0], [Buffer.alloc(5, 1)]), ProfileError, /holds 5 bytes but declares 256/);
  });

  it('inflates concatenated frames, RLE blocks and skippable frames', async () => {
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    const bytes = Buffer.concat([frame([0x20, 5], [Buffer.from('hello')]), skippable, frame([0x00, 0x00], [{ rle: 0x21, size: 3 }])]);
    assert.equal(Buffer.from(decompress(bytes)).toString(), 'hello!!!');
    assert.equal(Buffer.from(await decompressAsync(bytes)).toString(), 'hello!!!');
  });

  it('inflates a real profile identically on and off the main thread', async () => {
    const raw = decompress(readFileSync(fixture('cpu-small-1.pprof')));
    const zstd = execFileSync('zstd', ['-q', '-19', '-c'], { input: raw });
    assert.deepEqual(Buffer.from(decompress(zstd)), Buffer.from(raw));
    assert.deepEqual(Buffer.from(await decompressAsync(zstd)), Buffer.from(raw));
    assert.deepEqual([...zstd.subarray(0, 4)], MAGIC, 'the caller keeps its bytes (not detached by the transfer)');
  });
});

describe('zstd worker pool', () => {
  const hello = frame([0x20, 5], [Buffer.from('hello')]);

  it('replaces a worker that overruns its timeout; only that task fails', async () => {
    const pool = new ZstdWorkerPool({ size: 1, taskTimeoutMs: 60_000, maxQueuedTasks: 8 });
    try {
      // 1 ms cannot cover starting a worker thread, let alone inflating.
      const slow = pool.inflate(hello, MiB, 1);
      const next = pool.inflate(hello, MiB);
      await assert.rejects(slow, (err: unknown) => err instanceof ProfileError && /did not finish within 1 ms/.test(err.message));
      assert.equal(Buffer.from(await next).toString(), 'hello');
      assert.equal(pool.workerCount, 1);
    } finally {
      await pool.close();
    }
  });

  it('refuses work beyond its queue with DecompressionBusyError', async () => {
    const pool = new ZstdWorkerPool({ size: 1, taskTimeoutMs: 60_000, maxQueuedTasks: 1 });
    try {
      const running = pool.inflate(hello, MiB);
      const queued = pool.inflate(hello, MiB);
      await assert.rejects(pool.inflate(hello, MiB), DecompressionBusyError);
      assert.equal(Buffer.from(await running).toString(), 'hello');
      assert.equal(Buffer.from(await queued).toString(), 'hello');
    } finally {
      await pool.close();
    }
  });

  it('does not keep a process alive once its work is done (the CLI exits)', () => {
    const compression = new URL('./compression.js', import.meta.url).href;
    const script = `import { decompressAsync } from ${JSON.stringify(compression)};
const out = await decompressAsync(Buffer.from(${JSON.stringify([...hello])}));
console.log(Buffer.from(out).toString());`;
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000, encoding: 'utf8' });
    assert.equal(stdout.trim(), 'hello');
  });
});
