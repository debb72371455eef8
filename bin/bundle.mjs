// Bundles the CLI with esbuild into dist/bundle/cli/, which bin/hotpath.js runs when it is there:
//
//   hotpath.cjs          the CLI with commander and all of src/ in one CommonJS file. Each
//                        module runs only when first imported (a command's `await import()` of
//                        its implementation), and npm packages are required from node_modules
//                        only then, so `hotpath --version` runs little more than commander.
//                        CommonJS, not ESM, because Node 20 can cache V8's compiled code only for
//                        a script it compiles itself (bin/hotpath.js, vm.Script cachedData).
//   merge-fast.cjs       `hotpath merge` of small inputs (src/cli/merge-fast.ts), which the launcher
//                        tries before it reads hotpath.cjs; it leaves anything else to the CLI.
//   <name>-worker.js     each worker thread's module, bundled on its own (ESM).
//   meta.json            esbuild's metafile: which module went where, and their sizes.
//
// Part of `npm run build`, after tsc: tsc type-checks, esbuild only strips the types. Without the
// bundle Node resolves, reads and links dozens of modules before `hotpath --version` prints.
//
// Paths the code resolves from import.meta.url stay right because every output file sits at the
// depth of the modules it replaces (dist/src/cli/x.js → dist/bundle/cli/x), all in one folder:
// `../../web` is dist/web, `../../../package.json` the package's, and a worker's
// `new URL('./name.js', import.meta.url)` is the worker bundle written beside it.
//
//   node bin/bundle.mjs        (npm run build does it)
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle', 'cli');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * npm packages stay in node_modules, loaded only by the commands that use them: native addons
 * (better-sqlite3), optional ones (pg-native) and packages that start workers from their own
 * files (pino) break when bundled. commander is bundled: every command runs it, and in the
 * bundle its compiled code is cached with ours.
 */
const external = Object.keys(pkg.dependencies).filter((name) => name !== 'commander');

/** Stands in for the build id until the bundle is hashed; as long as the id, so no line moves. */
const ID_PLACEHOLDER = '0'.repeat(16);
/** bin/hotpath.js reads the build id from this first line to name its code cache. */
const BANNER = `// hotpath-build-id: ${ID_PLACEHOLDER}\nconst __hotpathImportMetaUrl = require('node:url').pathToFileURL(__filename).href;`;

/** Every TypeScript source under `dir` that ships (not tests, not test helpers). */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/\.(test|slow-test|contract|testing|d)\.ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !relative(dir, path).startsWith(`testing${'/'}`));
}

/**
 * The worker modules the code starts with `new Worker(new URL('./name.js', import.meta.url))`:
 * esbuild does not follow such URLs, so each is bundled on its own and written beside the
 * bundle that names it. A URL of another shape cannot be placed that way and stops the build.
 */
function workerEntries() {
  const entries = {};
  const pattern = /new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;
  for (const file of sources(join(root, 'src'))) {
    for (const [, , target] of readFileSync(file, 'utf8').matchAll(pattern)) {
      if (!target.endsWith('.js')) continue; // a data file such as package.json, not a module
      const where = relative(root, file);
      const name = /^\.\/([\w-]+)\.js$/.exec(target)?.[1];
      if (name === undefined)
        throw new Error(`${where}: new URL('${target}', import.meta.url): bundle.mjs places only sibling workers ('./name.js')`);
      const source = join(dirname(file), `${name}.ts`);
      if (entries[name] !== undefined && entries[name] !== source)
        throw new Error(`two workers named ${name}.js: ${entries[name]} and ${source}`);
      entries[name] = source;
    }
  }
  return entries;
}

/**
 * commander requires node:child_process when it is loaded, for the executable subcommands
 * (`program.command('x', 'description')`) that hotpath does not define. Loading it (with net,
 * dgram and their dependencies) cost every command ~10 ms of start-up, so in the bundle it is
 * required on the first spawn instead. A commander whose source no longer has that line stops
 * the build, rather than bundling it unchanged without anyone noticing.
 */
const lazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(eager)) throw new Error(`${args.path}: no \`${eager}\` to make lazy; check bin/bundle.mjs against this commander`);
      const lazy =
        "let childProcessModule; const childProcess = { spawn: (...a) => (childProcessModule ??= require('node:child_process')).spawn(...a) };";
      return { contents: text.replace(eager, lazy), loader: 'js' };
    });
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, metafile: true, logLevel: 'warning' };

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const cli = await build({
  ...common,
  entryPoints: { hotpath: join(root, 'src', 'cli', 'main.ts'), 'merge-fast': join(root, 'src', 'cli', 'merge-fast.ts') },
  outdir,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  external,
  banner: { js: BANNER },
  define: { 'import.meta.url': '__hotpathImportMetaUrl' },
  write: false,
  plugins: [lazyChildProcess],
});
const workers = await build({ ...common, entryPoints: workerEntries(), outdir, format: 'esm', external });

// Our modules' `import()` became calls of their init functions; one that is left loads an npm
// package, and would need a loader V8's code cache cannot be used with (an experimental one).
const bundled = cli.outputFiles.find((f) => f.path.endsWith('hotpath.cjs'));
const dynamicImport = /\bimport\(\s*["'`]([^"'`]+)/.exec(bundled.text);
if (dynamicImport !== null) {
  throw new Error(
    `hotpath.cjs: import('${dynamicImport[1]}') of an npm package: import it statically in a module that is itself loaded with await import(), which the bundle runs lazily`,
  );
}
for (const file of cli.outputFiles) {
  let text = file.text;
  if (file === bundled) {
    const id = createHash('sha256').update(text).digest('hex').slice(0, ID_PLACEHOLDER.length);
    text = text.replace(ID_PLACEHOLDER, id);
  }
  writeFileSync(file.path, text);
}
const inputs = { ...cli.metafile.inputs, ...workers.metafile.inputs };
const outputs = { ...cli.metafile.outputs, ...workers.metafile.outputs };
writeFileSync(join(outdir, 'meta.json'), JSON.stringify({ inputs, outputs }));
const cliOut = cli.metafile.outputs[relative(root, bundled.path)];
console.log(
  `bundled the CLI: ${relative(root, bundled.path)} ${(cliOut.bytes / 1024).toFixed(0)} KB (${Object.keys(cliOut.inputs).length} modules), ` +
    `workers ${Object.keys(workerEntries()).join(', ')}`,
);
