import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import type { ProfileJson } from '../src/api/types.js';
import { buildProgram } from '../src/cli/main.js';
import { parseProfile } from '../src/pprof/parse.js';
import { type Profile, valueCount } from '../src/pprof/profile.js';
import { fixture, hotpathBin, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';

// The bundled CLI (bin/bundle.mjs, run by bin/hotpath.js after `npm run build`) against the
// modules tsc wrote: the same help, the same output, and the files it finds from where it runs
// (package.json, the web UI, the worker threads' modules).

const bundlePath = join(repoRoot, 'dist', 'bundle', 'cli', 'hotpath.cjs');
const srcMain = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'hotpath-bundle-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/hotpath.js as a user does, with the launcher saying what it ran (HOTPATH_DEBUG_START). */
function hotpath(...args: string[]): Run {
  const r = spawnSync(process.execPath, [hotpathBin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOTPATH_DEBUG_START: '1', HOTPATH_COMPILE_CACHE: join(work, 'cache') },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI from dist/src, without the launcher and the bundle. */
function unbundled(...args: string[]): Run {
  const r = spawnSync(process.execPath, [srcMain, ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function assertRanBundle(r: Run): void {
  assert.match(r.stderr, new RegExp(`hotpath: start: running ${bundlePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `), r.stderr);
}

/** The launcher's debug lines removed: what a user sees on stderr. */
const userStderr = (r: Run): string => r.stderr.replace(/^hotpath: start: .*\n/gm, '');

/** The sum of a profile's first sample value (samples/count in a Go CPU profile). */
function sampleCount(p: Profile): number {
  const n = valueCount(p);
  let sum = 0;
  for (let i = 0; i < p.samples.values.length; i += n) sum += p.samples.values[i];
  return sum;
}

/** Every command below `program`, as the words that run it. */
function commandPaths(program: Command, path: string[] = []): string[][] {
  return program.commands.flatMap((cmd) => {
    const here = [...path, cmd.name()];
    return [here, ...commandPaths(cmd, here)];
  });
}

/**
 * A zstd frame of `data` in raw (stored) blocks, as RFC 8878 defines them: what a zstd
 * compressor writes for data it cannot shrink. Any zstd decoder reads it.
 */
function zstdStored(data: Uint8Array): Buffer {
  const header = Buffer.alloc(9);
  header.writeUInt32LE(0xfd2fb528, 0); // magic number
  header[4] = 0xa0; // single segment, 4-byte content size
  header.writeUInt32LE(data.length, 5);
  const blocks: Buffer[] = [header];
  const MAX_BLOCK = 128 * 1024;
  for (let at = 0; at < data.length || at === 0; at += MAX_BLOCK) {
    const size = Math.min(MAX_BLOCK, data.length - at);
    const last = at + MAX_BLOCK >= data.length ? 1 : 0;
    const blockHeader = Buffer.alloc(3);
    blockHeader.writeUIntLE((size << 3) | last, 0, 3); // block type 0: raw
    blocks.push(blockHeader, Buffer.from(data.subarray(at, at + size)));
    if (data.length === 0) break;
  }
  return Buffer.concat(blocks);
}

describe('the bundled CLI', () => {
  before(() => {
    assert.ok(existsSync(bundlePath), `${bundlePath} is missing: run \`npm run build\` (it bundles the CLI) before these tests`);
  });

  it('is what bin/hotpath.js runs after `npm run build`, and prints the package version as the unbundled CLI does', () => {
    const r = hotpath('-h');
    assert.equal(r.status, 0, r.stderr);
    assertRanBundle(r);
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    // `--version` alone is answered by the launcher; with another flag it reaches the bundle's commander.
    assert.equal(hotpath('--version').stdout, `${version}\n`);
    const viaBundle = hotpath('--version', '--no-such-flag');
    assertRanBundle(viaBundle);
    assert.equal(viaBundle.stdout, `${version}\n`);
  });

  it('gives every command the help the unbundled CLI gives, and exits 0', () => {
    const paths = [[], ...commandPaths(buildProgram())].filter((p) => p.at(-1) !== 'help');
    assert.ok(paths.length > 12, `commands found: ${paths.map((p) => p.join(' ')).join(', ')}`);
    for (const path of paths) {
      const where = `hotpath ${path.join(' ')} --help`;
      const bundled = hotpath(...path, '--help');
      assert.equal(bundled.status, 0, `${where}: ${bundled.stderr}`);
      assertRanBundle(bundled);
      assert.match(bundled.stdout, new RegExp(`^Usage: hotpath ${path.join(' ')}`), where);
      assert.equal(bundled.stdout, unbundled(...path, '--help').stdout, `${where}: the bundle's help differs from dist/src's`);
    }
  });

  it('fails a usage error as the unbundled CLI does: one line, exit 1, no stack', () => {
    const bundled = hotpath('merge', '-o', join(work, 'never.pprof'), join(work, 'missing.pprof'));
    const plain = unbundled('merge', '-o', join(work, 'never.pprof'), join(work, 'missing.pprof'));
    assert.equal(bundled.status, 1);
    assert.equal(userStderr(bundled), plain.stderr);
    assert.match(plain.stderr, /^hotpath: .*missing\.pprof.*\n$/);
    assert.equal(existsSync(join(work, 'never.pprof')), false);
  });

  it('merges gzip and zstd inputs, by merge-fast.cjs and by the bundle, into the bytes the unbundled CLI writes', () => {
    const zstdInput = join(work, 'cpu-small-2.zst.pprof');
    writeFileSync(zstdInput, zstdStored(gunzipSync(readFileSync(fixture('cpu-small-2.pprof')))));
    const inputs = [fixture('cpu-small-1.pprof'), zstdInput, fixture('cpu-small-3.pprof')];
    const fast = join(work, 'fast.pprof');
    const ours = join(work, 'bundled.pprof');
    const theirs = join(work, 'unbundled.pprof');
    const f = hotpath('merge', '-q', '-o', fast, ...inputs);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stderr, /hotpath: start: merged by merge-fast\.cjs/);
    // `--` before the inputs is left to the CLI, which runs from the bundle.
    const r = hotpath('merge', '-q', '-o', ours, '--', ...inputs);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /merge-fast\.cjs left the command to the CLI: the flag --/);
    assertRanBundle(r);
    assert.equal(userStderr(r), '');
    assert.equal(unbundled('merge', '-q', '-o', theirs, ...inputs).status, 0);
    assert.ok(readFileSync(ours).equals(readFileSync(theirs)), 'the bundle and dist/src wrote different profiles');
    assert.ok(readFileSync(fast).equals(readFileSync(theirs)), 'merge-fast.cjs and dist/src wrote different profiles');
    // Every input's samples are in it, the zstd one's too.
    const inputTotal = inputs.reduce((n, path) => n + sampleCount(parseProfile(readFileSync(path))), 0);
    assert.ok(inputTotal > 0);
    assert.equal(sampleCount(parseProfile(readFileSync(ours))), inputTotal);
  });

  describe('serve', () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer([], undefined, { env: { HOTPATH_DEBUG_START: '1', HOTPATH_COMPILE_CACHE: join(work, 'cache') } });
    });
    after(async () => {
      await server.stop();
    });

    it('runs from the bundle', () => {
      assert.match(server.output(), /hotpath: start: running .*dist[/\\]bundle[/\\]cli[/\\]hotpath\.cjs/);
    });

    it('serves the web UI that `npm run build` wrote to dist/web', async () => {
      const res = await fetch(`${server.url}/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), readFileSync(join(repoRoot, 'dist', 'web', 'index.html'), 'utf8'));
    });

    it('stores an upload with the CPU analysis its worker thread makes', async () => {
      const res = await fetch(`${server.url}/api/v1/profiles?tags=service:bundle`, {
        method: 'POST',
        body: readFileSync(fixture('cpu-small-1.pprof')),
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      assert.equal(res.status, 201, await res.clone().text());
      const { id } = (await res.json()) as { id: string };
      const stored = await fetch(`${server.url}/api/v1/profiles/${id}`, { headers: { 'DD-APPLICATION-KEY': server.appKey } });
      assert.equal(stored.status, 200);
      const profile = (await stored.json()) as ProfileJson;
      assert.equal(profile.service, 'bundle');
      assert.equal(typeof profile.cpuCores, 'number');
      assert.ok((profile.cpuCores as number) > 0);
    });
  });
});
