import { readFileSync } from 'node:fs';
import { parseProfile } from '../pprof/parse.js';
import type { Profile } from '../pprof/profile.js';
import { fixture } from './fixtures.js';

/** The checked-in fixture `name` (under e2e/testdata), parsed as a profile (gzip, zstd or raw). */
export function fixtureProfile(name: string): Profile {
  return parseProfile(readFileSync(fixture(name)));
}

/**
 * A JSON-shaped copy of p in which every typed array is a plain array and every bigint a string ending in "n",
 * so two profiles compare by content only (not by views, offsets or backing buffers).
 */
export function plain(p: Profile): unknown {
  return JSON.parse(
    JSON.stringify(p, (_k, v) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (ArrayBuffer.isView(v))
        return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? `${x}n` : x));
      return v;
    }),
  );
}

/** One sample with every reference resolved to readable text. */
export interface SampleView {
  /** One entry per location, leaf first: "0xADDR[@mapping-file] fn:line(start) fn:line(start)". */
  stack: string[];
  values: number[];
  /** "key=value" for string labels, "key#numberunit" for numeric ones, in table order. */
  labels: string[];
}

/** The text of one location's lines: " fn:line(start)" each, " ?:line" where the line has no function. */
function lineText(p: Profile, loc: number): string {
  const locs = p.locations;
  let text = '';
  for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) {
    const f = locs.lineFunction[l];
    text += f < 0 ? ` ?:${locs.lineLine[l]}` : ` ${p.strings[p.functions.name[f]]}:${locs.lineLine[l]}(${p.functions.startLine[f]})`;
  }
  return text;
}

/** The values of sample i (one per sample type). */
function valuesOf(p: Profile, i: number): number[] {
  const V = p.sampleTypes.length >> 1;
  return Array.from(p.samples.values.subarray(i * V, i * V + V));
}

/** Returns the samples of p in table order, with every reference resolved to readable text. */
export function samplesOf(p: Profile): SampleView[] {
  const s = p.samples;
  const locs = p.locations;
  const out: SampleView[] = [];
  for (let i = 0; i < s.count; i++) {
    const stack: string[] = [];
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) {
      const loc = s.locs[j];
      const m = locs.mapping[loc];
      stack.push(`0x${locs.address[loc].toString(16)}${m >= 0 ? `@${p.strings[p.mappings.filename[m]]}` : ''}${lineText(p, loc)}`);
    }
    const labels: string[] = [];
    for (let l = s.labelStart[i]; l < s.labelStart[i + 1]; l++) {
      labels.push(
        s.labelStr[l] !== 0
          ? `${p.strings[s.labelKey[l]]}=${p.strings[s.labelStr[l]]}`
          : `${p.strings[s.labelKey[l]]}#${s.labelNum[l]}${p.strings[s.labelNumUnit[l]]}`,
      );
    }
    out.push({ stack, values: valuesOf(p, i), labels });
  }
  return out;
}

/** A sample as PGO sees it: no labels, no mappings. */
export interface PgoSampleView {
  /** One entry per location, leaf first: "ADDR fn:line(start) ..." with ADDR in decimal. */
  stack: string[];
  values: number[];
}

/** Returns the samples of p in table order as PGO sees them (addresses and lines only). */
export function pgoSamplesOf(p: Profile): PgoSampleView[] {
  const s = p.samples;
  const out: PgoSampleView[] = [];
  for (let i = 0; i < s.count; i++) {
    const stack: string[] = [];
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) stack.push(`${p.locations.address[s.locs[j]]}${lineText(p, s.locs[j])}`);
    out.push({ stack, values: valuesOf(p, i) });
  }
  return out;
}
