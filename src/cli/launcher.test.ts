import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { repoRoot } from '../testing/fixtures.js';

// bin/hotpath.js, the real file, in a package of its own whose bundle and dist/src are small
// stand-ins that say which of them ran: which one it runs, and how it keeps the code cache.

const work = mkdtempSync(join(tmpdir(), 'hotpath-launcher-'));
after(() => rmSync(work, { recursive: true, force: true }));

const pkg = join(work, 'pkg');
const bundle = join(pkg, 'dist', 'bundle', 'cli', 'hotpath.cjs');
const srcMain = join(pkg, 'dist', 'src', 'cli', 'main.js');
const buildInfo = join(pkg, 'dist', '.tsbuildinfo');
const cacheDir = join(work, 'cache');

/** A stand-in bundle as bin/bundle.mjs writes one: the build id on line 1, CommonJS, exporting main. */
function writeBundle(id: string, note = ''): void {
  mkdirSync(join(pkg, 'dist', 'bundle', 'cli'), { recursive: true });
  writeFileSync(
    bundle,
    `// hotpath-build-id: ${id}\n` +
      // Enough functions that V8's code cache has something to hold.
      `${Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i}; }`).join('\n')}\n` +
      `exports.main = async function main() {\n` +
      `  let sum = 0; for (const f of [${Array.from({ length: 50 }, (_, i) => `f${i}`).join(', ')}]) sum += f(1);\n` +
      `  process.stdout.write('bundle ${note}' + JSON.stringify(process.argv.slice(2)) + ' ' + sum + '\\n');\n` +
      `  if (process.argv.includes('fail')) process.exitCode = 1;\n` +
      `};\n`,
  );
}

function setMtime(path: string, seconds: number): void {
  utimesSync(path, seconds, seconds);
}

beforeEach(() => {
  rmSync(pkg, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  copyFileSync(join(repoRoot, 'bin', 'hotpath.js'), join(pkg, 'bin', 'hotpath.js'));
  copyFileSync(join(repoRoot, 'bin', 'package.json'), join(pkg, 'bin', 'package.json'));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'hotpath', type: 'module' }));
  mkdirSync(join(pkg, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(
    srcMain,
    "export async function main() { process.stdout.write('src ' + JSON.stringify(process.argv.slice(2)) + '\\n'); }\n",
  );
});

interface Run {
  status: number;
  stdout: string;
  /** The launcher's HOTPATH_DEBUG_START lines, without their prefix. */
  debug: string[];
  stderr: string;
}

function launch(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [join(pkg, 'bin', 'hotpath.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOTPATH_COMPILE_CACHE: cacheDir, HOTPATH_DISABLE_COMPILE_CACHE: '', HOTPATH_DEBUG_START: '1', ...env },
  });
  const debug = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('hotpath: start: '))
    .map((l) => l.slice('hotpath: start: '.length));
  return { status: r.status ?? -1, stdout: r.stdout, debug, stderr: r.stderr };
}

function cacheFiles(): string[] {
  return existsSync(cacheDir) ? readdirSync(cacheDir).sort() : [];
}

const ID_A = 'aaaaaaaaaaaaaaaa';
const ID_B = 'bbbbbbbbbbbbbbbb';

describe('bin/hotpath.js', () => {
  it('runs the bundle when there is one, with the arguments as given', () => {
    writeBundle(ID_A);
    const r = launch(['merge', '-o', 'x']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'bundle ["merge","-o","x"] 2450\n');
  });

  it('answers --version (alone) from package.json without reading the CLI, and passes it on otherwise', () => {
    writeBundle(ID_A);
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'hotpath', type: 'module', version: '9.8.7' }));
    for (const flag of ['--version', '-V']) {
      const r = launch([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '9.8.7\n');
      assert.deepEqual(r.debug, []);
    }
    assert.equal(launch(['--version', 'merge']).stdout, 'bundle ["--version","merge"] 2450\n');
  });

  it('runs dist/src/cli/main.js when there is no bundle', () => {
    const r = launch(['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'src ["--help"]\n');
  });

  it('runs dist/src/cli/main.js when tsc compiled after the bundle was made, and the bundle when it was made after', () => {
    writeBundle(ID_A);
    writeFileSync(buildInfo, '{}');
    setMtime(bundle, 1_700_000_000);
    setMtime(buildInfo, 1_700_000_100);
    const stale = launch(['--help']);
    assert.equal(stale.stdout, 'src ["--help"]\n');
    assert.ok(
      stale.debug.some((l) => l.includes('tsc has compiled since the bundle was made')),
      stale.stderr,
    );
    setMtime(bundle, 1_700_000_200);
    assert.equal(launch(['--help']).stdout, 'bundle ["--help"] 2450\n');
  });

  it('says how to build when neither the bundle nor dist/src is there, and exits 1', () => {
    rmSync(join(pkg, 'dist'), { recursive: true });
    const r = launch(['--help'], { HOTPATH_DEBUG_START: '' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^hotpath: not built \(.*\): run `npm run build` first\n$/);
  });

  it('compiles a command from its code cache once a first run wrote it', () => {
    writeBundle(ID_A);
    const first = launch(['inspect', 'f.pprof']);
    assert.equal(first.stdout, 'bundle ["inspect","f.pprof"] 2450\n');
    assert.ok(
      first.debug.some((l) => l.includes('code cache: miss')),
      first.stderr,
    );
    const file = `cli-${ID_A}-${process.version}-${process.arch}-inspect.cache`;
    assert.deepEqual(cacheFiles(), [file]);
    assert.ok(readFileSync(join(cacheDir, file)).length > 0);
    const second = launch(['inspect', 'f.pprof']);
    assert.equal(second.stdout, first.stdout);
    assert.ok(
      second.debug.some((l) => l.includes('code cache: hit')),
      second.stderr,
    );
    // Another command has a cache of its own.
    assert.ok(launch(['--help']).debug.some((l) => l.includes('code cache: miss')));
    assert.deepEqual(cacheFiles(), [file, `cli-${ID_A}-${process.version}-${process.arch}-help.cache`].sort());
  });

  it('never uses the cache of another build, and deletes it once the new one is written', () => {
    writeBundle(ID_A, 'old ');
    launch(['--help']);
    writeBundle(ID_B, 'new ');
    const r = launch(['--help']);
    assert.equal(r.stdout, 'bundle new ["--help"] 2450\n');
    assert.ok(
      r.debug.some((l) => l.includes('code cache: miss')),
      r.stderr,
    );
    assert.deepEqual(cacheFiles(), [`cli-${ID_B}-${process.version}-${process.arch}-help.cache`]);
  });

  it('runs right with a cache V8 rejects, and writes a good one in its place', () => {
    writeBundle(ID_A);
    mkdirSync(cacheDir, { recursive: true });
    const file = join(cacheDir, `cli-${ID_A}-${process.version}-${process.arch}-help.cache`);
    writeFileSync(file, Buffer.alloc(4096, 0x5a));
    const r = launch(['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'bundle ["--help"] 2450\n');
    assert.ok(
      r.debug.some((l) => l.includes('code cache: rejected')),
      r.stderr,
    );
    assert.ok(launch(['--help']).debug.some((l) => l.includes('code cache: hit')));
  });

  it('writes no cache for a run that failed or a word that is no command, nor when switched off', () => {
    writeBundle(ID_A);
    assert.equal(launch(['merge', 'fail']).status, 1);
    assert.deepEqual(cacheFiles(), []);
    const typo = launch(['Merge!']);
    assert.equal(typo.status, 0);
    assert.ok(
      typo.debug.some((l) => l.includes('code cache: off')),
      typo.stderr,
    );
    const off = launch(['merge'], { HOTPATH_DISABLE_COMPILE_CACHE: '1' });
    assert.ok(
      off.debug.some((l) => l.includes('code cache: off')),
      off.stderr,
    );
    assert.deepEqual(cacheFiles(), []);
  });

  it('runs the command when the cache directory cannot be made', () => {
    writeBundle(ID_A);
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    const r = launch(['--help'], { HOTPATH_COMPILE_CACHE: join(blocker, 'cache') });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'bundle ["--help"] 2450\n');
    assert.ok(
      r.debug.some((l) => l.startsWith('cannot write the code cache')),
      r.stderr,
    );
  });

  it('prints nothing of its own without HOTPATH_DEBUG_START', () => {
    writeBundle(ID_A);
    const r = launch(['--help'], { HOTPATH_DEBUG_START: '' });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'bundle ["--help"] 2450\n');
  });
});
