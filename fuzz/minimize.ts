import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeProfile } from '../src/pprof/decode.js';
import { loadCorpus } from './corpus.js';
import { replaceFramed } from './mutate.js';
import { type Crash, runProfileTargets } from './targets.js';
import { scanWireFields } from './wire-fields.js';

/** The exception class of a crash ("TypeError", "RangeError", "invariant"), which a smaller input must keep. */
function kindOf(c: Crash): string {
  return `${c.target} | ${c.error.split(':')[0]}`;
}

/**
 * Returns the smallest input found for which `keeps` still holds (it must hold for `bytes`):
 * first whole protobuf fields at any depth are removed (last first, enclosing lengths fixed), then byte ranges of halving
 * sizes (delta debugging), until nothing more can go or `budgetMs` has passed. Every result
 * returned by the search satisfies `keeps`; `tries` counts its calls.
 */
export function minimize(
  bytes: Uint8Array,
  keeps: (candidate: Uint8Array) => boolean,
  budgetMs = 60_000,
): { bytes: Uint8Array; tries: number } {
  const deadline = performance.now() + budgetMs;
  let best = bytes;
  let tries = 0;
  const attempt = (candidate: Uint8Array): boolean => {
    tries++;
    if (!keeps(candidate)) return false;
    best = candidate;
    return true;
  };
  const without = (b: Uint8Array, from: number, to: number): Uint8Array => {
    const out = new Uint8Array(b.length - (to - from));
    out.set(b.subarray(0, from), 0);
    out.set(b.subarray(to), from);
    return out;
  };

  // Whole fields at any depth, last first, keeping the framing of the fields around them valid
  // (a repro that still decodes up to the failing step is far smaller than one cut blindly).
  let fields = scanWireFields(best);
  for (let i = fields.count - 1; i >= 0 && performance.now() < deadline; i--) {
    if (attempt(replaceFramed(best, fields, fields.parent[i], fields.start[i], fields.end[i], []))) {
      fields = scanWireFields(best);
      i = Math.min(i, fields.count);
    }
  }
  // Byte ranges of halving sizes.
  for (let chunk = best.length >> 1; chunk >= 1 && performance.now() < deadline; chunk >>= 1) {
    for (let at = 0; at + chunk <= best.length && performance.now() < deadline; ) {
      if (!attempt(without(best, at, at + chunk))) at += chunk;
    }
  }
  return { bytes: best, tries };
}

/**
 * Returns the smallest input found that still crashes the profile targets in the same step
 * with the same exception class as `bytes` does (see minimize). `variant` must be the input's
 * number (it picks a value column).
 */
export function minimizeCrash(bytes: Uint8Array, variant: number, budgetMs = 60_000): { bytes: Uint8Array; crash: Crash; tries: number } {
  const corpus = loadCorpus();
  const partner = decodeProfile(corpus.profiles[corpus.names.indexOf('cpu-small-1.pprof')]);
  const first = runProfileTargets(bytes, partner, variant)[0];
  if (first === undefined) throw new Error('the input does not crash the profile targets (a route or hang finding?)');
  const want = kindOf(first);
  let crash = first;
  const result = minimize(
    bytes,
    (candidate) => {
      const c = runProfileTargets(candidate, partner, variant)[0];
      if (c === undefined || kindOf(c) !== want) return false;
      crash = c;
      return true;
    },
    budgetMs,
  );
  return { ...result, crash };
}

/** `node dist/fuzz/minimize.js <crash-N-input-ID.raw.bin> [budget seconds]`: prints the minimized input as hex and writes it beside. */
function main(): void {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node dist/fuzz/minimize.js <crash-N-input-ID.raw.bin> [budget seconds]\n');
    process.exitCode = 2;
    return;
  }
  const id = /input-(\d+)/.exec(basename(file));
  const variant = id ? Number(id[1]) : 0;
  const budget = Number(process.argv[3] ?? 60) * 1000;
  const input = readFileSync(file);
  const { bytes, crash, tries } = minimizeCrash(input, variant, budget);
  const out = file.replace(/(\.raw)?\.bin$/, '.min.bin');
  writeFileSync(out, bytes);
  process.stdout.write(
    `${input.length} → ${bytes.length} bytes in ${tries} tries (variant ${variant})\n` +
      `target: ${crash.target}\nerror:  ${crash.error}\n${crash.stack.split('\n').slice(1, 5).join('\n')}\n` +
      `hex:    ${Buffer.from(bytes).toString('hex')}\nwritten: ${out}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(basename(process.argv[1]))) main();
