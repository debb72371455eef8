// Start-up benchmark of the CLI: whole processes, from spawn to exit, of `hotpath --version`,
// `hotpath merge` of small profiles and `hotpath pgo` against a warm `hotpath serve` that this
// script starts, next to `node -e 0` (Node alone) and the pprof binary on the same merge.
//
//   npm run bench:cli -- [--rounds N]
//
// The variants take turns, round by round, after one warm-up run each (which also writes the
// code cache the launcher keeps, here in a temporary directory). Results are printed and written
// as JSON to bench/results/cli-<timestamp>.json.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pprofBinary } from '../../e2e/support/go.js';
import { fixture, hotpathBin, repoRoot } from '../../e2e/support/paths.js';
import { startServer } from '../../e2e/support/server.js';
import { inputSet, setProfile } from '../merge/inputs.js';
import { loadAverage, machine, measuresRusage, ms, type Stats, shown, stats, table, timeProcess } from '../merge/process-timing.js';

function readRounds(): number {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('usage: npm run bench:cli -- [--rounds N]');
    process.exit(0);
  }
  const text = values.rounds ?? process.env.HOTPATH_BENCH_ROUNDS ?? '20';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds: expected a whole number of at least 1, got ${text}`);
  return n;
}

interface Variant {
  name: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

interface VariantResult {
  name: string;
  command: string;
  ms: number[];
  cpuMs: number[];
  wall: Stats;
  cpu?: Stats;
}

async function main(): Promise<void> {
  const rounds = readRounds();
  const work = mkdtempSync(join(tmpdir(), 'hotpath-bench-cli-'));
  const cacheEnv = { ...process.env, HOTPATH_COMPILE_CACHE: join(work, 'code-cache'), HOTPATH_DISABLE_COMPILE_CACHE: '' };
  const small = inputSet('50k');
  const inputs = [1, 2, 3, 4, 5].map((seed) => setProfile(small, seed));
  const server = await startServer();
  try {
    // The server's profiles for `pgo`, and a few answers so that it is warm.
    for (const name of ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof']) {
      const res = await fetch(`${server.url}/api/v1/profiles?tags=service:bench,env:bench`, {
        method: 'POST',
        body: readFileSync(fixture(name)),
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      if (res.status !== 201) throw new Error(`upload of ${name}: ${res.status} ${await res.text()}`);
    }
    const pgoArgs = ['pgo', '--fail', '--server', server.url, '--app-key', server.appKey, '--from', '30d', 'service:bench'];
    const variants: Variant[] = [
      { name: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
      { name: 'hotpath --version', cmd: process.execPath, args: [hotpathBin, '--version'], env: cacheEnv },
      {
        name: 'hotpath --version, no code cache',
        cmd: process.execPath,
        args: [hotpathBin, '--version'],
        env: { ...cacheEnv, HOTPATH_DISABLE_COMPILE_CACHE: '1' },
      },
      {
        name: 'dist/src --version (unbundled)',
        cmd: process.execPath,
        args: [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), '--version'],
      },
      {
        name: 'hotpath merge 5 × 50 KB',
        cmd: process.execPath,
        args: [hotpathBin, 'merge', '-q', '-o', join(work, 'merged.pprof'), ...inputs],
        env: cacheEnv,
      },
      {
        name: 'pprof -proto 5 × 50 KB',
        cmd: pprofBinary,
        args: ['-proto', '-symbolize=none', '-output', join(work, 'pprof.pprof'), ...inputs],
      },
      {
        name: 'hotpath pgo (warm server)',
        cmd: process.execPath,
        args: [hotpathBin, ...pgoArgs, join(work, 'default.pgo')],
        env: cacheEnv,
      },
    ];
    console.log(`CLI start-up: ${variants.length} commands, 1 warm-up + ${rounds} rounds, interleaved; whole processes`);
    console.log(`Server for pgo: ${server.url} (5 profiles of service:bench); merge inputs: set 50k of bench/merge`);
    if (!measuresRusage) console.log('CPU time: not measured (no /usr/bin/time)');
    for (const v of variants) timeProcess(v.cmd, v.args, v.env);
    const results: VariantResult[] = variants.map((v) => ({
      name: v.name,
      command: [v.cmd, ...v.args].map(shown).join(' '),
      ms: [],
      cpuMs: [],
      wall: stats([0]),
    }));
    for (let round = 0; round < rounds; round++) {
      variants.forEach((v, i) => {
        const r = timeProcess(v.cmd, v.args, v.env);
        results[i].ms.push(r.ms);
        if (r.cpuMs !== undefined) results[i].cpuMs.push(r.cpuMs);
      });
    }
    for (const r of results) {
      r.wall = stats(r.ms);
      if (r.cpuMs.length === r.ms.length) r.cpu = stats(r.cpuMs);
    }
    console.log();
    console.log(
      table(
        ['command', 'median', 'min', 'max', 'CPU (median)'],
        results.map((r) => [r.name, ms(r.wall.median), ms(r.wall.min), ms(r.wall.max), r.cpu ? ms(r.cpu.median) : 'n/a']),
      ),
    );
    const m = machine();
    const load = loadAverage();
    const command = `npm run bench:cli -- --rounds ${rounds}`;
    console.log(`\nMachine: ${m.cpu}, nproc ${m.nproc}, node ${m.node}, ${m.go}`);
    console.log(`Load average now (1/5/15 min): ${load.join(' ')}; anything else using the CPUs skews the results`);
    console.log(`Reproduce: ${command}`);
    const date = new Date();
    const dir = join(repoRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `cli-${date.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ date: date.toISOString(), command, machine: m, loadAverageAtEnd: load, rounds, results }, null, 2)}\n`,
    );
    console.log(`Results: ${shown(file)}`);
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
