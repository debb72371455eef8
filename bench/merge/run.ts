// Benchmark of `hotpath merge` against Go's pprof binary (`-proto`, whole process) on three
// input sets of real Go CPU profiles (5 × ~50 KB, 5 × ~200 KB, 5 × ~1.5 MB), and of our
// profile.proto decoder against pprof-format's, on the largest set run.
//
//   npm run bench:merge -- [--sets 50k,200k,1500k] [--count N] [--rounds N] [--decode-rounds N]
//
// Each flag can also be given as an environment variable: HOTPATH_BENCH_SETS, HOTPATH_BENCH_COUNT
// (default 5), HOTPATH_BENCH_ROUNDS (10), HOTPATH_BENCH_DECODE_ROUNDS (20; 0 skips the decoder).
// Results are printed and written as JSON to bench/results/merge-<timestamp>.json.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Profile as PprofFormatProfile } from 'pprof-format';
import { pprofBinary } from '../../e2e/support/go.js';
import { hotpathBin, repoRoot } from '../../e2e/support/paths.js';
import { cacheDir } from '../../e2e/support/workloads.js';
import { decodeProfile } from '../../src/pprof/decode.js';
import { parseProfile } from '../../src/pprof/parse.js';
import { sampleTypeNames, valueCount } from '../../src/pprof/profile.js';
import { INPUT_SETS, type InputSet, inputSet, setProfile } from './inputs.js';
import {
  kb,
  loadAverage,
  machine,
  mb,
  measuresRusage,
  ms,
  type Stats,
  shown,
  stats,
  table,
  timeProcess,
  verdict,
} from './process-timing.js';

interface Options {
  sets: InputSet[];
  count: number;
  rounds: number;
  decodeRounds: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      sets: { type: 'string' },
      count: { type: 'string' },
      rounds: { type: 'string' },
      'decode-rounds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      `usage: npm run bench:merge -- [--sets ${INPUT_SETS.map((s) => s.name).join(',')}] [--count N] [--rounds N] [--decode-rounds N]`,
    );
    process.exit(0);
  }
  const env = (flag: string) => process.env[`HOTPATH_BENCH_${flag.replace('-', '_').toUpperCase()}`];
  const int = (flag: 'count' | 'rounds' | 'decode-rounds', fallback: number, min: number): number => {
    const text = values[flag] ?? env(flag);
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected a whole number of at least ${min}, got ${text}`);
    return n;
  };
  const setNames = (values.sets ?? env('sets') ?? INPUT_SETS.map((s) => s.name).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (setNames.length === 0) throw new Error('--sets: name at least one set');
  return {
    sets: [...new Set(setNames)].map(inputSet),
    count: int('count', 5, 1),
    rounds: int('rounds', 10, 1),
    decodeRounds: int('decode-rounds', 20, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Inputs

interface Input {
  path: string;
  bytes: number;
}

function ensureInputs(set: InputSet, count: number): Input[] {
  console.log(
    `\nSet ${set.name}: ${count} cpuburn profiles (${set.flags.join(' ')}, ${set.cpuSeconds} s of CPU each; cached under ${shown(cacheDir)}/profiles)`,
  );
  const inputs: Input[] = [];
  for (let seed = 1; seed <= count; seed++) {
    const start = Date.now();
    const path = setProfile(set, seed);
    const took = Date.now() - start;
    const bytes = statSync(path).size;
    const note = bytes > set.maxBytes ? `  (larger than the ${kb(set.maxBytes)} set ${set.name} is meant for)` : '';
    console.log(`  ${shown(path)}  ${kb(bytes)}${took > 2000 ? `  (recorded in ${(took / 1000).toFixed(0)} s)` : ''}${note}`);
    inputs.push({ path, bytes });
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------------
// Whole-process merge

interface Tool {
  name: string;
  short: string;
  out: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
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

function mergeBenchmark(set: InputSet, inputs: Input[], rounds: number, work: string) {
  const paths = inputs.map((i) => i.path);
  const tools: Tool[] = [
    {
      name: 'hotpath merge',
      short: 'hotpath',
      out: join(work, `hotpath-${set.name}.pprof`),
      cmd: process.execPath,
      args: [hotpathBin, 'merge', '-q', '-o'],
      // A code cache of its own, written by the warm-up run: other builds of hotpath on the
      // same machine (other checkouts) would otherwise replace the shared one between runs.
      env: { ...process.env, HOTPATH_COMPILE_CACHE: join(work, 'code-cache') },
    },
    {
      name: 'pprof -proto',
      short: 'pprof',
      out: join(work, `pprof-${set.name}.pprof`),
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

  const total = inputs.reduce((a, i) => a + i.bytes, 0);
  console.log(`\n== Set ${set.name}: whole-process merge of ${inputs.length} profiles (${mb(total)} gzip)`);
  console.log(`   1 warm-up + ${rounds} timed rounds, interleaved (hotpath, pprof, hotpath, pprof, …)`);
  for (const t of tools) timeProcess(t.cmd, argv(t), t.env);

  // Check once that both tools wrote the same thing, so the timing compares like with like.
  const ours = totals(tools[0].out);
  const theirs = totals(tools[1].out);
  const inputsSum = new Map<string, number>();
  for (const p of paths) for (const [k, v] of totals(p)) inputsSum.set(k, (inputsSum.get(k) ?? 0) + v);
  const same = (a: Map<string, number>, b: Map<string, number>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  if (!same(ours, theirs) || !same(ours, inputsSum)) {
    throw new Error(
      `set ${set.name}: outputs differ, refusing to compare:\n  hotpath: ${formatTotals(ours)}\n  pprof:   ${formatTotals(theirs)}\n  inputs:  ${formatTotals(inputsSum)}`,
    );
  }
  console.log(`   verified: both outputs have the inputs' totals (${formatTotals(ours)})`);

  for (let round = 1; round <= rounds; round++) {
    const line: string[] = [];
    tools.forEach((t, i) => {
      const r = timeProcess(t.cmd, argv(t), t.env);
      results[i].ms.push(r.ms);
      if (r.rssKb !== undefined) results[i].rssKb.push(r.rssKb);
      line.push(`${t.short} ${ms(r.ms)}`);
    });
    console.log(`   round ${String(round).padStart(2)}: ${line.join(', ')}`);
  }
  for (const r of results) {
    r.time = stats(r.ms);
    if (r.rssKb.length === r.ms.length) r.rssMb = stats(r.rssKb.map((k) => k / 1024));
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
  console.log(`\n   set ${set.name}: pprof/hotpath (median wall time) = ${ratio.toFixed(2)}: ${verdict(ratio)}`);
  return {
    set: set.name,
    inputBytes: total,
    rounds,
    warmupRounds: 1,
    totals: Object.fromEntries(ours),
    outputBytes,
    tools: results,
    ratio,
  };
}

// ---------------------------------------------------------------------------------------------
// Decoder

function decodeBenchmark(set: InputSet, inputs: Input[], rounds: number) {
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

  console.log(`\n== Decoder: set ${set.name}'s ${inputs.length} inputs gunzipped once (${mb(rawBytes)} of protobuf), decoded in process`);
  console.log(`   ${warmup} warm-up + ${rounds} timed rounds, interleaved; each round decodes every input once per decoder`);
  for (let i = 0; i < warmup; i++) for (const d of decoders) timeAll(d.decode);
  const times = decoders.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    decoders.forEach((d, i) => {
      times[i].push(timeAll(d.decode));
    });
  }
  if (sink === 0) throw new Error('decoders returned no samples');

  const MB = 1024 * 1024;
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
  return { set: set.name, rounds, warmupRounds: warmup, uncompressedBytes: rawBytes, decoders: results, ratio };
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const opts = readOptions();
  const command = `npm run bench:merge -- --sets ${opts.sets.map((s) => s.name).join(',')} --count ${opts.count} --rounds ${opts.rounds} --decode-rounds ${opts.decodeRounds}`;
  const m = machine();
  console.log(`Merging with ${shown(hotpathBin)} and ${shown(pprofBinary)} (the binary \`go tool -n pprof\` prints)`);
  if (!measuresRusage) console.log('Peak RSS: not measured (no /usr/bin/time)');
  if (process.env.NODE_EXTRA_CA_CERTS) {
    // Node reads and parses every certificate in that file when the process starts, before
    // any JavaScript runs; with a system bundle of ~150 that is more than all the rest of
    // Node's start-up. pprof (Go) reads certificates only when it makes a TLS connection.
    console.log(
      `NODE_EXTRA_CA_CERTS is set (${process.env.NODE_EXTRA_CA_CERTS}): every Node process parses those certificates at start; run with \`env -u NODE_EXTRA_CA_CERTS\` to time hotpath without that`,
    );
  }
  const inputs = new Map(opts.sets.map((set) => [set, ensureInputs(set, opts.count)]));

  const work = mkdtempSync(join(tmpdir(), 'hotpath-bench-merge-'));
  const merges: Array<ReturnType<typeof mergeBenchmark>> = [];
  try {
    for (const [set, files] of inputs) merges.push(mergeBenchmark(set, files, opts.rounds, work));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const largest = opts.sets.reduce((a, b) => (b.targetBytes > a.targetBytes ? b : a));
  const decode = opts.decodeRounds > 0 ? decodeBenchmark(largest, inputs.get(largest) ?? [], opts.decodeRounds) : null;

  console.log('\n== Summary: pprof/hotpath, median whole-process wall time (above 1: hotpath is faster)');
  console.log(
    table(
      ['set', 'inputs (gzip)', 'hotpath', 'pprof', 'pprof/hotpath'],
      merges.map((r) => [r.set, mb(r.inputBytes), ms(r.tools[0].time.median), ms(r.tools[1].time.median), r.ratio.toFixed(2)]),
    ),
  );
  const load = loadAverage();
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
    options: { ...opts, sets: opts.sets.map((s) => s.name) },
    machine: m,
    loadAverageAtEnd: load,
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ?? null,
    inputs: Object.fromEntries([...inputs].map(([set, files]) => [set.name, files.map((i) => ({ file: shown(i.path), bytes: i.bytes }))])),
    merge: merges,
    decode,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`Results: ${shown(file)}`);
}

main();
