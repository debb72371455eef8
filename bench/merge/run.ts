// Benchmark of `hotpath merge` against `go tool pprof -proto` (whole process), and of our
// profile.proto decoder against pprof-format's, on real Go CPU profiles of 1–3 MB.
//
//   npm run bench:merge -- [--count N] [--seconds S] [--rounds N] [--decode-rounds N]
//
// Each flag can also be given as an environment variable: HOTPATH_BENCH_COUNT (default 5),
// HOTPATH_BENCH_SECONDS (30), HOTPATH_BENCH_ROUNDS (10), HOTPATH_BENCH_DECODE_ROUNDS (20).
// Results are printed and written as JSON to bench/results/merge-<timestamp>.json.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Profile as PprofFormatProfile } from 'pprof-format';
import { pprofBinary } from '../../e2e/support/go.js';
import { hotpathBin, repoRoot } from '../../e2e/support/paths.js';
import { cacheDir, largeProfile } from '../../e2e/support/workloads.js';
import { decodeProfile } from '../../src/pprof/decode.js';
import { parseProfile } from '../../src/pprof/parse.js';
import { sampleTypeNames, valueCount } from '../../src/pprof/profile.js';

const MB = 1024 * 1024;
const MIN_INPUT_BYTES = 1 * MB;
const MAX_INPUT_BYTES = 3 * MB;

interface Options {
  count: number;
  seconds: number;
  rounds: number;
  decodeRounds: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      'decode-rounds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run bench:merge -- [--count N] [--seconds S] [--rounds N] [--decode-rounds N]');
    process.exit(0);
  }
  const int = (flag: 'count' | 'seconds' | 'rounds' | 'decode-rounds', fallback: number): number => {
    const env = `HOTPATH_BENCH_${flag.replace('-', '_').toUpperCase()}`;
    const text = values[flag] ?? process.env[env];
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} / ${env}: expected a positive integer, got ${text}`);
    return n;
  };
  return { count: int('count', 5), seconds: int('seconds', 30), rounds: int('rounds', 10), decodeRounds: int('decode-rounds', 20) };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

interface Stats {
  median: number;
  min: number;
  mean: number;
  max: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1] };
}

/** A path as printed: relative when inside the repository, otherwise as is. */
const shown = (path: string): string => (path.startsWith(`${repoRoot}${sep}`) ? relative(repoRoot, path) : path);
const mb = (bytes: number): string => `${(bytes / MB).toFixed(2)} MB`;
const ms = (x: number): string => `${x.toFixed(0)} ms`;

/** "hotpath is 2.31× faster" (ratio = their time / our time, or our rate / their rate). */
function verdict(ratio: number): string {
  return ratio >= 1 ? `hotpath is ${ratio.toFixed(2)}× faster` : `hotpath is ${(1 / ratio).toFixed(2)}× slower`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Machine

interface Machine {
  cpu: string;
  nproc: number;
  node: string;
  go: string;
}

function machine(): Machine {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: leave it unknown
  }
  const go = execFileSync('go', ['version'], { encoding: 'utf8' })
    .trim()
    .replace(/^go version /, '');
  return { cpu, nproc: availableParallelism(), node: process.version, go };
}

// ---------------------------------------------------------------------------------------------
// Inputs

interface Input {
  path: string;
  bytes: number;
}

function ensureInputs(opts: Options): Input[] {
  console.log(`Inputs: ${opts.count} cpuburn profiles of ${opts.seconds} s (cached under ${shown(cacheDir)}/profiles)`);
  const inputs: Input[] = [];
  for (let seed = 1; seed <= opts.count; seed++) {
    const cached = existsSync(join(cacheDir, 'profiles', `cpuburn-v64-r1000-${opts.seconds}s-labels-seed${seed}.pprof`));
    if (!cached) process.stdout.write(`  seed ${seed}: recording for ${opts.seconds} s (first run only)… `);
    const start = Date.now();
    const path = largeProfile({ seed, seconds: opts.seconds });
    if (!cached) process.stdout.write(`done in ${((Date.now() - start) / 1000).toFixed(0)} s\n`);
    const bytes = statSync(path).size;
    const ok = bytes >= MIN_INPUT_BYTES && bytes <= MAX_INPUT_BYTES;
    console.log(`  ${basename(path)}  ${mb(bytes)}${ok ? '' : '  WARNING: outside the intended 1–3 MB'}`);
    inputs.push({ path, bytes });
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------------
// Whole-process merge

const timeBinary = '/usr/bin/time';
const haveTime = spawnSync(timeBinary, ['-f', '%M', 'true']).status === 0;
const RSS_MARK = 'HOTPATH_BENCH_MAXRSS_KB=';

interface ProcessRun {
  ms: number;
  rssKb?: number;
}

/** Runs a command to completion, timing its wall clock; peak RSS via /usr/bin/time when available. */
function timeProcess(cmd: string, args: string[]): ProcessRun {
  const [file, argv] = haveTime ? [timeBinary, ['-f', `${RSS_MARK}%M`, cmd, ...args]] : [cmd, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(file, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const at = r.stderr.lastIndexOf(RSS_MARK);
  const rssKb = haveTime && at >= 0 ? Number.parseInt(r.stderr.slice(at + RSS_MARK.length), 10) : undefined;
  return { ms: elapsed, rssKb };
}

interface Tool {
  name: string;
  short: string;
  out: string;
  cmd: string;
  args: string[];
}

interface ToolResult {
  name: string;
  command: string;
  ms: number[];
  rssKb: number[];
  time: Stats;
  rssMb?: Stats;
}

/** Per-sample-type totals (type/unit → sum of values) of a profile file. */
function totals(path: string): Map<string, number> {
  const p = parseProfile(readFileSync(path));
  const names = sampleTypeNames(p);
  const v = valueCount(p);
  const sums = new Array<number>(v).fill(0);
  for (let i = 0; i < p.samples.values.length; i++) sums[i % v] += p.samples.values[i];
  return new Map(names.map((n, i) => [`${n.type}/${n.unit}`, sums[i]]));
}

function formatTotals(t: Map<string, number>): string {
  return [...t].map(([k, v]) => `${k}=${v}`).join(', ');
}

function mergeBenchmark(inputs: Input[], rounds: number, work: string) {
  const paths = inputs.map((i) => i.path);
  const tools: Tool[] = [
    {
      name: 'hotpath merge',
      short: 'hotpath',
      out: join(work, 'hotpath.pprof'),
      cmd: process.execPath,
      args: [hotpathBin, 'merge', '-q', '-o'],
    },
    {
      name: 'go tool pprof -proto',
      short: 'pprof',
      out: join(work, 'pprof.pprof'),
      cmd: pprofBinary,
      args: ['-proto', '-symbolize=none', '-output'],
    },
  ];
  const argv = (t: Tool) => [...t.args, t.out, ...paths];
  const results: ToolResult[] = tools.map((t) => ({
    name: t.name,
    command: [t.cmd, ...argv(t)].map(shown).join(' '),
    ms: [],
    rssKb: [],
    time: stats([0]),
  }));

  console.log(`\n== Whole-process merge of ${inputs.length} profiles (${mb(inputs.reduce((a, i) => a + i.bytes, 0))} gzip)`);
  console.log(`   1 warm-up + ${rounds} timed rounds, interleaved (hotpath, pprof, hotpath, pprof, …)`);
  console.log(`   peak RSS: ${haveTime ? `${timeBinary} -f %M` : 'not measured (no /usr/bin/time)'}`);
  for (const t of tools) timeProcess(t.cmd, argv(t));

  // Check once that both tools wrote the same thing, so the timing compares like with like.
  const ours = totals(tools[0].out);
  const theirs = totals(tools[1].out);
  const inputsSum = new Map<string, number>();
  for (const p of paths) for (const [k, v] of totals(p)) inputsSum.set(k, (inputsSum.get(k) ?? 0) + v);
  const same = (a: Map<string, number>, b: Map<string, number>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  if (!same(ours, theirs) || !same(ours, inputsSum)) {
    throw new Error(
      `outputs differ, refusing to compare:\n  hotpath: ${formatTotals(ours)}\n  pprof:   ${formatTotals(theirs)}\n  inputs:  ${formatTotals(inputsSum)}`,
    );
  }
  console.log(`   verified: both outputs have the inputs' totals (${formatTotals(ours)})`);

  for (let round = 1; round <= rounds; round++) {
    const line: string[] = [];
    tools.forEach((t, i) => {
      const r = timeProcess(t.cmd, argv(t));
      results[i].ms.push(r.ms);
      if (r.rssKb !== undefined) results[i].rssKb.push(r.rssKb);
      line.push(`${t.short} ${ms(r.ms)}`);
    });
    console.log(`   round ${String(round).padStart(2)}: ${line.join(', ')}`);
  }
  for (const r of results) {
    r.time = stats(r.ms);
    if (r.rssKb.length === r.ms.length) r.rssMb = stats(r.rssKb.map((kb) => kb / 1024));
  }
  const ratio = results[1].time.median / results[0].time.median;
  const outputBytes = { hotpath: statSync(tools[0].out).size, pprof: statSync(tools[1].out).size };

  console.log();
  console.log(
    table(
      ['tool', 'median', 'min', 'mean', 'max', 'peak RSS (median)', 'output'],
      results.map((r, i) => [
        r.name,
        ms(r.time.median),
        ms(r.time.min),
        ms(r.time.mean),
        ms(r.time.max),
        r.rssMb ? `${r.rssMb.median.toFixed(0)} MB` : 'n/a',
        mb(i === 0 ? outputBytes.hotpath : outputBytes.pprof),
      ]),
    ),
  );
  console.log(`\n   pprof/hotpath (median wall time) = ${ratio.toFixed(2)}: ${verdict(ratio)}`);
  return { rounds, warmupRounds: 1, totals: Object.fromEntries(ours), outputBytes, tools: results, ratio };
}

// ---------------------------------------------------------------------------------------------
// Decoder

function decodeBenchmark(inputs: Input[], rounds: number) {
  const warmup = 3;
  const raws = inputs.map((i) => gunzipSync(readFileSync(i.path)));
  const rawBytes = raws.reduce((a, r) => a + r.length, 0);

  // Same bytes, same result: both decoders must see the same number of samples per input.
  for (let i = 0; i < raws.length; i++) {
    const a = decodeProfile(raws[i]).samples.count;
    const b = PprofFormatProfile.decode(raws[i]).sample.length;
    if (a !== b) throw new Error(`${inputs[i].path}: decodeProfile has ${a} samples, pprof-format ${b}`);
  }

  let sink = 0;
  const decoders: Array<{ name: string; decode: (raw: Uint8Array) => number }> = [
    { name: 'hotpath decodeProfile', decode: (raw) => decodeProfile(raw).samples.count },
    { name: 'pprof-format Profile.decode', decode: (raw) => PprofFormatProfile.decode(raw).sample.length },
  ];
  const timeAll = (decode: (raw: Uint8Array) => number): number => {
    const start = process.hrtime.bigint();
    for (const raw of raws) sink += decode(raw);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };

  console.log(`\n== Decoder: the same ${inputs.length} inputs gunzipped once (${mb(rawBytes)} of protobuf), decoded in process`);
  console.log(`   ${warmup} warm-up + ${rounds} timed rounds, interleaved; each round decodes every input once per decoder`);
  for (let i = 0; i < warmup; i++) for (const d of decoders) timeAll(d.decode);
  const times = decoders.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    decoders.forEach((d, i) => {
      times[i].push(timeAll(d.decode));
    });
  }
  if (sink === 0) throw new Error('decoders returned no samples');

  const results = decoders.map((d, i) => {
    const time = stats(times[i]);
    return {
      name: d.name,
      ms: times[i],
      time,
      mbPerSecMedian: rawBytes / MB / (time.median / 1000),
      mbPerSecBest: rawBytes / MB / (time.min / 1000),
    };
  });
  const ratio = results[1].time.median / results[0].time.median;
  console.log();
  console.log(
    table(
      ['decoder', 'median', 'min', 'mean', 'MB/s (median)', 'MB/s (best)'],
      results.map((r) => [
        r.name,
        ms(r.time.median),
        ms(r.time.min),
        ms(r.time.mean),
        r.mbPerSecMedian.toFixed(0),
        r.mbPerSecBest.toFixed(0),
      ]),
    ),
  );
  console.log(`\n   pprof-format/hotpath (median time) = ${ratio.toFixed(2)}: ${verdict(ratio)}`);
  return { rounds, warmupRounds: warmup, uncompressedBytes: rawBytes, decoders: results, ratio };
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const opts = readOptions();
  const command = `npm run bench:merge -- --count ${opts.count} --seconds ${opts.seconds} --rounds ${opts.rounds} --decode-rounds ${opts.decodeRounds}`;
  const m = machine();
  const inputs = ensureInputs(opts);
  for (const i of inputs) {
    if (i.bytes < MIN_INPUT_BYTES || i.bytes > MAX_INPUT_BYTES) {
      console.log(`WARNING: ${basename(i.path)} is ${mb(i.bytes)}, outside 1–3 MB; the results are not comparable to the README's`);
    }
  }

  const work = mkdtempSync(join(tmpdir(), 'hotpath-bench-merge-'));
  let merge: ReturnType<typeof mergeBenchmark>;
  try {
    merge = mergeBenchmark(inputs, opts.rounds, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const decode = decodeBenchmark(inputs, opts.decodeRounds);

  const load = loadavg().map((x) => x.toFixed(2));
  console.log(`\nMachine: ${m.cpu}, nproc ${m.nproc}, node ${m.node}, ${m.go}`);
  console.log(`Load average now (1/5/15 min): ${load.join(' ')}; anything else using the CPUs skews the results`);
  console.log(`Reproduce: ${command}`);

  const date = new Date();
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `merge-${date.toISOString().replace(/[:.]/g, '-')}.json`);
  const json = {
    date: date.toISOString(),
    command,
    options: opts,
    machine: m,
    loadAverageAtEnd: load.map(Number),
    inputs: inputs.map((i) => ({ file: shown(i.path), bytes: i.bytes })),
    merge,
    decode,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`Results: ${shown(file)}`);
}

main();
