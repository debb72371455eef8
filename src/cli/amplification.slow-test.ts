import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { AMPLIFICATION_CASES, type AmplificationCase } from '../pprof/amplification.testing.js';
import { DECODED_BYTES_PER_INPUT_BYTE } from '../pprof/budget.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../pprof/compression.js';
import { hotpathBin } from '../testing/hotpath-bin.js';

// Amplification files (a few KB to a few MB compressed, up to 150 MB decompressed) given to
// the CLI as a user would: every command answers with one line naming the file and exit 1,
// and the process never holds more than RSS_LIMIT_BYTES.
const MB = 1024 * 1024;
const RSS_LIMIT_BYTES = 600 * MB;
const work = mkdtempSync(join(tmpdir(), 'hotpath-amplification-'));
after(() => rmSync(work, { recursive: true, force: true }));

const haveZstd = spawnSync('zstd', ['--version']).status === 0;
type Compression = 'gzip' | 'raw' | 'zstd';
const COMPRESSIONS: Compression[] = haveZstd ? ['gzip', 'raw', 'zstd'] : ['gzip', 'raw'];
const COMMANDS: Array<{ name: string; args: (file: string, out: string) => string[] }> = [
  { name: 'inspect', args: (file) => ['inspect', file] },
  { name: 'explain', args: (file) => ['explain', file] },
  { name: 'merge', args: (file, out) => ['merge', '-q', '-o', out, file] },
  { name: 'merge --pgo', args: (file, out) => ['merge', '--pgo', '-q', '-o', out, file] },
];

/** Writes case `c` of `size` decompressed bytes to a file, compressed as asked, and returns its path. */
function inputFile(c: AmplificationCase, size: number, compression: Compression): string {
  const path = join(work, `${c.name}-${size / MB}MB.${compression === 'raw' ? 'pb' : compression === 'gzip' ? 'pb.gz' : 'pb.zst'}`);
  if (existsSync(path)) return path;
  const raw = c.make(size);
  if (compression === 'raw') writeFileSync(path, raw);
  else if (compression === 'gzip') writeFileSync(path, gzipSync(raw, { level: 1 }));
  else {
    const plain = `${path}.in`;
    writeFileSync(plain, raw);
    const r = spawnSync('zstd', ['-q', '-1', '-f', '-o', path, plain]);
    rmSync(plain);
    assert.equal(r.status, 0, String(r.stderr));
  }
  return path;
}

interface Run {
  status: number | null;
  signal: string | null;
  stderr: string;
  /** Peak resident set size (VmHWM) seen while the process ran. */
  peakRssBytes: number;
}

/** Runs the CLI, polling its peak RSS from /proc/<pid>/status until it exits. */
function hotpath(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [hotpathBin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
    });
    let peakRssBytes = 0;
    const poll = setInterval(() => {
      try {
        const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakRssBytes = Math.max(peakRssBytes, Number(m[1]) * 1024);
      } catch {
        // exited between two polls
      }
    }, 5);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearInterval(poll);
      resolve({ status, signal, stderr, peakRssBytes });
    });
  });
}

/** Asserts that `command` refuses `file`, case `c` of `size` decompressed bytes, as the describe title says. */
async function assertRefused(c: AmplificationCase, size: number, file: string, command: (typeof COMMANDS)[number]): Promise<void> {
  const out = join(work, 'out.pprof');
  const r = await hotpath(command.args(file, out));
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.ok(lines[0].startsWith(`hotpath: ${file}: `), lines[0]);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.ok(r.peakRssBytes > 0, 'peak RSS was read');
  assert.ok(r.peakRssBytes < RSS_LIMIT_BYTES, `peak RSS ${(r.peakRssBytes / MB).toFixed(0)} MB: ${lines[0]}`);
  assert.equal(existsSync(out), false, 'nothing written');
  // Past the decompression limit, what the file holds is never decoded.
  if (size < DEFAULT_MAX_DECOMPRESSED_BYTES) assert.match(lines[0], c.refusal);
}

/**
 * True when a file of `size` decompressed bytes of case `c` can be decoded in full (it is not
 * refused up front) and the budget then allows more than RSS_LIMIT_BYTES: only while the
 * decompression limit is above ~70 MB.
 */
function mayExceedRss(c: AmplificationCase, size: number): boolean {
  const decoded = Math.min(size, DEFAULT_MAX_DECOMPRESSED_BYTES);
  return !c.upFront && decoded * (DECODED_BYTES_PER_INPUT_BYTE + 2) + 100 * MB > RSS_LIMIT_BYTES;
}

describe('hotpath on amplification files: one line, exit 1, RSS under 600 MB', () => {
  const strings = AMPLIFICATION_CASES.find((c) => c.name === 'empty-strings') as AmplificationCase;
  for (const size of [1, 16, 100, 150]) {
    for (const compression of COMPRESSIONS) {
      for (const command of [COMMANDS[0], COMMANDS[2]]) {
        it(`${strings.name}, ${size} MB, ${compression}: ${command.name}`, async () => {
          await assertRefused(strings, size * MB, inputFile(strings, size * MB, compression), command);
        });
      }
    }
  }

  for (const c of AMPLIFICATION_CASES) {
    for (const command of COMMANDS) {
      it(`${c.name}, 16 MB, gzip: ${command.name}`, async () => {
        await assertRefused(c, 16 * MB, inputFile(c, 16 * MB, 'gzip'), command);
      });
    }
    // 60 MB: the most the 64 MiB decompression limit lets through to the decoder.
    for (const size of [60, 100, 150]) {
      if (mayExceedRss(c, size * MB)) continue;
      it(`${c.name}, ${size} MB, gzip: inspect and merge`, async () => {
        const file = inputFile(c, size * MB, 'gzip');
        await assertRefused(c, size * MB, file, COMMANDS[0]);
        await assertRefused(c, size * MB, file, COMMANDS[2]);
      });
    }
  }
});
