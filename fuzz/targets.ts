import type { FastifyInstance } from 'fastify';
import { buildFlameTree, pruneFlameTree } from '../src/flame/flame-tree.js';
import { formatPreprofile } from '../src/pgo/call-edges.js';
import { hotCallSites } from '../src/pgo/hot-call-sites.js';
import { trimForPgo } from '../src/pgo/trim.js';
import { decompress } from '../src/pprof/compression.js';
import { decodeProfile, decodeProfileTables } from '../src/pprof/decode.js';
import { encodeProfile, GZIP_MEMBER_BYTES } from '../src/pprof/encode.js';
import { ProfileError } from '../src/pprof/errors.js';
import { mergeProfiles } from '../src/pprof/merge.js';
import { EncodedProfileMerger } from '../src/pprof/merge-encoded.js';
import { mergeWithKernel } from '../src/pprof/merge-kernel.js';
import { parseProfile } from '../src/pprof/parse.js';
import type { Profile } from '../src/pprof/profile.js';
import { profileStats } from '../src/pprof/stats.js';
import type { FuzzRequest } from './inputs.js';

/**
 * A finding: `target` names the step that failed. A crash is an exception other than
 * ProfileError (or any exception where none is allowed: re-decoding our own encoding), or a
 * broken documented guarantee (an "invariant" target), or a 5xx from an intake route.
 */
export interface Crash {
  target: string;
  error: string;
  stack: string;
}

/** Decompressed-size ceiling for the fuzz targets, as for the server's default. */
const MAX_DECOMPRESSED = 64 * 1024 * 1024;

/** Thrown by `step` to stop the remaining steps of one input after a crash. */
class Stop extends Error {}

/**
 * Runs one step: returns its result, or undefined when it threw ProfileError and that is an
 * allowed answer. Any other exception is recorded in `crashes` and stops the input.
 */
function step<T>(crashes: Crash[], target: string, allowProfileError: boolean, run: () => T): T | undefined {
  try {
    return run();
  } catch (err) {
    if (allowProfileError && err instanceof ProfileError) return undefined;
    crashes.push(describe(target, err));
    throw new Stop();
  }
}

function describe(target: string, err: unknown): Crash {
  const e = err instanceof Error ? err : new Error(String(err));
  return { target, error: `${e.name}: ${e.message.slice(0, 500)}`, stack: (e.stack ?? '').split('\n').slice(0, 12).join('\n') };
}

function invariant(crashes: Crash[], target: string, ok: boolean, message: string): void {
  if (ok) return;
  crashes.push({ target: `invariant: ${target}`, error: message, stack: '' });
  throw new Stop();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Runs one input through every profile function the server and CLI use, the way they use
 * them: parse (decompress + decode + validate), stats, PGO trim, encode and re-decode, merge
 * (whole profiles, the encoded merger and the merge kernel), flame tree, call edges and hot call sites.
 * `partner` is a real decoded profile to merge with; `variant` (the input's number) picks the
 * value column and whether to merge with the partner. Returns the crashes (at most one: the
 * first stops the input); ProfileError from bytes that are not a good profile is the expected
 * answer, not a crash.
 */
export function runProfileTargets(bytes: Uint8Array, partner: Profile, variant: number): Crash[] {
  const crashes: Crash[] = [];
  try {
    const p = step(crashes, 'parseProfile', true, () => parseProfile(bytes, { maxDecompressedBytes: MAX_DECOMPRESSED }));
    const raw = step(crashes, 'decompress', true, () => decompress(bytes, MAX_DECOMPRESSED));
    const merged = raw === undefined || raw.length === 0 ? undefined : encodedMerge(crashes, raw);
    if (raw !== undefined && raw.length > 0) {
      const kernel = step(crashes, 'mergeWithKernel', false, () => mergeWithKernel([raw, raw], false, GZIP_MEMBER_BYTES));
      // The kernel merges only what the TypeScript merge merges, into the same bytes; else it declines.
      if (kernel?.ok === true) {
        invariant(
          crashes,
          'the merge kernel equals EncodedProfileMerger',
          merged !== undefined && sameBytes(kernel.bytes, merged),
          merged === undefined
            ? 'the kernel merged a profile the encoded merger rejects'
            : `${kernel.bytes.length} vs ${merged.length} bytes`,
        );
      }
    }
    if (p === undefined) {
      // The encoded merger promises to reject what decodeProfile rejects.
      invariant(crashes, 'EncodedProfileMerger accepts what decodeProfile rejects', merged === undefined, 'merge succeeded');
      return crashes;
    }
    profileTargets(crashes, p, partner, merged, variant);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  return crashes;
}

/** Merges the raw profile with itself through EncodedProfileMerger; returns the encoded result, or undefined on ProfileError. */
function encodedMerge(crashes: Crash[], raw: Uint8Array): Uint8Array | undefined {
  const t = step(crashes, 'decodeProfileTables', true, () => decodeProfileTables(raw));
  if (t === undefined) return undefined;
  const merged = step(crashes, 'EncodedProfileMerger', true, () => {
    const merger = new EncodedProfileMerger({}, 2);
    merger.add(t);
    merger.add(t);
    return merger.finish();
  });
  return merged === undefined ? undefined : step(crashes, 'encodeProfile(encoded merge)', false, () => encodeProfile(merged));
}

function profileTargets(crashes: Crash[], p: Profile, partner: Profile, encodedMerged: Uint8Array | undefined, variant: number): void {
  const V = p.sampleTypes.length >> 1;
  step(crashes, 'profileStats', true, () => profileStats(p));
  if (V > 0) {
    // One value column per input (they take turns), to spend the time on more inputs instead.
    const vi = variant % V;
    const type = `${p.strings[p.sampleTypes[2 * vi]]}/${p.strings[p.sampleTypes[2 * vi + 1]]}`;
    step(crashes, 'profileStats(valueType)', true, () => profileStats(p, 5, type));
    const tree = step(crashes, 'buildFlameTree', true, () => buildFlameTree(p, vi));
    if (tree !== undefined) step(crashes, 'pruneFlameTree', true, () => pruneFlameTree(tree, 64));
  }

  const encoded = step(crashes, 'encodeProfile', false, () => encodeProfile(p));
  const again = step(crashes, 'decodeProfile(encodeProfile(p))', false, () => decodeProfile(encoded!));
  const reencoded = step(crashes, 'encodeProfile(decodeProfile(encodeProfile(p)))', false, () => encodeProfile(again!));
  invariant(
    crashes,
    'encode is stable across a decode round trip',
    sameBytes(encoded!, reencoded!),
    `${encoded!.length} vs ${reencoded!.length} bytes`,
  );

  const trimmed = step(crashes, 'trimForPgo', true, () => trimForPgo(p));
  if (trimmed !== undefined) {
    const trimmedBytes = step(crashes, 'encodeProfile(trimForPgo(p))', false, () => encodeProfile(trimmed));
    step(crashes, 'decodeProfile(encodeProfile(trimForPgo(p)))', false, () => decodeProfile(trimmedBytes!));
  }

  const self = step(crashes, 'mergeProfiles([p, p])', true, () => mergeProfiles([p, p]));
  if (self !== undefined) {
    const selfBytes = step(crashes, 'encodeProfile(merge)', false, () => encodeProfile(self));
    step(crashes, 'decodeProfile(encodeProfile(merge))', false, () => decodeProfile(selfBytes!));
    // EncodedProfileMerger promises exactly mergeProfiles' result.
    invariant(
      crashes,
      'EncodedProfileMerger equals mergeProfiles',
      encodedMerged !== undefined && sameBytes(encodedMerged, selfBytes!),
      encodedMerged === undefined ? 'the encoded merger rejected the profile' : `${encodedMerged.length} vs ${selfBytes!.length} bytes`,
    );
  }
  if (variant % 4 === 0)
    step(crashes, 'mergeProfiles([partner, p], dropLabels)', true, () => mergeProfiles([partner, p], { dropLabels: true }));

  // hotCallSites computes the call edges first (computeCallEdges), as `hotpath explain` does.
  const hot = step(crashes, 'hotCallSites', true, () => hotCallSites(p));
  if (hot !== undefined) step(crashes, 'formatPreprofile', false, () => formatPreprofile(hot.edges.slice(0, 1000)));
}

/**
 * Sends one request to an intake route in-process; a 5xx answer is a crash (bad input must
 * get a 4xx). `lastServerError` returns the JSON line the server logged for it, if any, whose
 * error becomes the crash's message and stack.
 */
export async function runRouteTarget(app: FastifyInstance, request: FuzzRequest, lastServerError: () => string): Promise<Crash[]> {
  const target = `route ${request.route} (${request.url.split('?')[0]})`;
  let res: Awaited<ReturnType<FastifyInstance['inject']>>;
  try {
    res = await app.inject({ method: 'POST', url: request.url, headers: request.headers, payload: request.body });
  } catch (err) {
    return [describe(`${target}: inject`, err)];
  }
  const logged = lastServerError();
  if (res.statusCode < 500) return [];
  let error = `${res.statusCode} ${res.body.slice(0, 300)}`;
  let stack = logged;
  try {
    const err = (JSON.parse(logged) as { err?: { type?: string; message?: string; stack?: string } }).err;
    if (err !== undefined) {
      error += ` (logged ${err.type}: ${(err.message ?? '').slice(0, 300)})`;
      stack = (err.stack ?? '').split('\n').slice(0, 12).join('\n');
    }
  } catch {
    // Not a JSON log line: keep it as it is.
  }
  return [{ target, error, stack }];
}
