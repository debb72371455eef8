#!/usr/bin/env node
// The `hotpath` launcher (npx hotpath, the installed bin, node bin/hotpath.js).
//
// It runs the bundled CLI, dist/bundle/cli/hotpath.cjs (bin/bundle.mjs, part of `npm run build`),
// compiled with V8's code cache: the bytecode a previous run of the same command compiled, kept
// in the user's cache directory, so the next run skips parsing and compiling what it runs. A
// cache that V8 rejects (another Node, other V8 flags) is written again; one from another build
// has another name and is deleted when the new one is written. Without the bundle, or when tsc
// has compiled since the bundle was made (dist/.tsbuildinfo is newer: `npx tsc` after an edit),
// it runs the modules tsc wrote, dist/src/cli/main.js, which are never stale. A plain `hotpath
// merge` of small inputs is first tried by dist/bundle/cli/merge-fast.cjs, without reading the CLI
// (src/cli/merge-fast.ts); whatever it leaves goes to the CLI as above.
//
// Environment: HOTPATH_COMPILE_CACHE=DIR keeps the code cache in DIR;
// HOTPATH_DISABLE_COMPILE_CACHE=1 neither reads nor writes it; HOTPATH_DEBUG_START=1 says on
// stderr what was run and whether the cache was used.
//
// CommonJS (bin/package.json), so that Node does not start its ES module loader for the launcher.
'use strict';
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, isAbsolute, join } = require('node:path');

const root = join(__dirname, '..');
const bundlePath = join(root, 'dist', 'bundle', 'cli', 'hotpath.cjs');
const debug = process.env.HOTPATH_DEBUG_START === '1' ? (message) => process.stderr.write(`hotpath: start: ${message}\n`) : () => {};

/** True when the bundle at `path` is there and not older than the last tsc build. */
function isFresh(path) {
  let built;
  try {
    built = statSync(path).mtimeMs;
  } catch {
    debug(`no bundle at ${path}`);
    return false;
  }
  try {
    if (statSync(join(root, 'dist', '.tsbuildinfo')).mtimeMs > built) {
      debug('tsc has compiled since the bundle was made (dist/.tsbuildinfo is newer): not using the bundle');
      return false;
    }
  } catch {
    // no tsc build info (an installed package): the bundle is what was shipped
  }
  return true;
}

/** The bundle's source when it is fresh (isFresh), else null. */
function freshBundle() {
  return isFresh(bundlePath) ? readFileSync(bundlePath, 'utf8') : null;
}

/**
 * `hotpath merge` of small inputs by dist/bundle/cli/merge-fast.cjs (src/cli/merge-fast.ts), before
 * the CLI is read: true when it merged and wrote the output. It prints nothing otherwise, and
 * the CLI then runs the command as always.
 */
function fastMerge(args) {
  const path = join(root, 'dist', 'bundle', 'cli', 'merge-fast.cjs');
  if (args[0] !== 'merge' || !isFresh(path)) return false;
  let declined;
  try {
    declined = require(path).tryFastMerge(args.slice(1));
  } catch (err) {
    // It writes its output last and atomically, so the CLI can always run the command again.
    declined = `it failed: ${err.stack}`;
  }
  if (declined !== null) debug(`merge-fast.cjs left the command to the CLI: ${declined}`);
  return declined === null;
}

/** Where the code cache is kept, or null when it is switched off or there is no home directory. */
function cacheDirectory() {
  const env = process.env;
  if (env.HOTPATH_DISABLE_COMPILE_CACHE === '1') return null;
  if (env.HOTPATH_COMPILE_CACHE) return env.HOTPATH_COMPILE_CACHE;
  try {
    const home = require('node:os').homedir();
    if (process.platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'hotpath', 'Cache');
    if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'hotpath');
    return join(env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home, '.cache'), 'hotpath');
  } catch {
    return null;
  }
}

/**
 * The code cache file for this run: per build (the id bundle.mjs writes in the first line), Node
 * and command, since a run caches what it compiled. Null when there is none to use.
 */
function cacheFile(source) {
  const id = /^\/\/ hotpath-build-id: ([0-9a-f]{16})\n/.exec(source)?.[1];
  // The command, or --version / --help; anything else (a typo) is not worth a file.
  const command = process.argv.length === 2 ? 'none' : /^(?:--)?([a-z][a-z-]{0,31})$/.exec(process.argv[2])?.[1];
  const dir = cacheDirectory();
  if (id === undefined || command === undefined || dir === null) return null;
  return { dir, id, path: join(dir, `cli-${id}-${process.version}-${process.arch}-${command}.cache`) };
}

/** Writes the code V8 compiled so far, atomically; deletes the caches of other builds. Never throws. */
function writeCache(script, cache) {
  try {
    mkdirSync(cache.dir, { recursive: true });
    const tmp = `${cache.path}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cache.path);
    for (const name of readdirSync(cache.dir)) {
      if (name.startsWith('cli-') && !name.startsWith(`cli-${cache.id}-`)) rmSync(join(cache.dir, name), { force: true });
    }
    debug(`wrote ${cache.path}`);
  } catch (err) {
    debug(`cannot write the code cache: ${err.message}`);
  }
}

function runBundle(source) {
  const vm = require('node:vm');
  const cache = cacheFile(source);
  let cachedData;
  if (cache !== null) {
    try {
      cachedData = readFileSync(cache.path);
    } catch {
      // not cached yet
    }
  }
  // The function CommonJS wraps a module in: the bundle runs as if require() had loaded it.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundlePath,
    cachedData,
  });
  const used = cachedData === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  debug(`running ${bundlePath} (code cache: ${cache === null ? 'off' : `${used}, ${cache.path}`})`);
  if (cache !== null && used !== 'hit') {
    // At exit the cache holds every function the command compiled; a failed run (a typo) may
    // not have compiled what the command needs.
    process.once('exit', (code) => {
      if (code === 0) writeCache(script, cache);
    });
  }
  const module = { exports: {} };
  script
    .runInThisContext()
    .call(module.exports, module.exports, require('node:module').createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  return module.exports.main();
}

// `hotpath --version` alone needs nothing but package.json: answered here, before the CLI is read
// (what commander would print for it, from the same file).
const args = process.argv.slice(2);
const versionOnly = args.length === 1 && (args[0] === '--version' || args[0] === '-V');
const merged = !versionOnly && fastMerge(args);
const source = versionOnly || merged ? null : freshBundle();
if (versionOnly) {
  process.stdout.write(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
} else if (merged) {
  debug('merged by merge-fast.cjs');
} else if (source !== null) {
  runBundle(source);
} else {
  debug('running dist/src/cli/main.js');
  import('../dist/src/cli/main.js').then(
    (cli) => cli.main(),
    (err) => {
      if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
      process.stderr.write(`hotpath: not built (${err.message}): run \`npm run build\` first\n`);
      process.exitCode = 1;
    },
  );
}
