import { open } from 'node:fs/promises';
import { DEFAULT_INTAKE_LIMITS, enforceIntakeLimits } from '../ingest/limits.js';
import type { IngestedProfile } from '../ingest/record.js';
import type { ExtraProfile, ScrapeJob, Secret, TargetAuth } from './config.js';
import { FetchError, fetchBody } from './fetcher.js';
import { type Target, targetTags } from './target.js';

/** Largest secret file read (a token or a password). */
const MAX_SECRET_BYTES = 64 * 1024;

/** Attachment names of the profiles besides CPU: dd-trace-go's names where it has them, so every view treats them alike. */
const ATTACHMENT_NAMES: Record<ExtraProfile, string> = {
  heap: 'heap.pprof',
  goroutine: 'goroutines.pprof',
  allocs: 'allocs.pprof',
  block: 'block.pprof',
  mutex: 'mutex.pprof',
};

/** Reads a secret, from its file at every call so a rotated credential is used at the next scrape. */
async function readSecret(secret: Secret): Promise<string> {
  if ('value' in secret) return secret.value;
  let text: string;
  try {
    const handle = await open(secret.file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_SECRET_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_SECRET_BYTES) throw new Error(`is larger than ${MAX_SECRET_BYTES} bytes`);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new FetchError('credentials', `cannot read the credentials file ${secret.file}: ${(err as Error).message}`);
  }
  // Files written by `echo` end in a newline that is not part of the secret.
  return text.replace(/\r?\n$/, '');
}

/** Returns the Authorization header of a job, or none. */
async function authHeaders(auth: TargetAuth | null): Promise<Record<string, string>> {
  if (auth === null) return {};
  if (auth.kind === 'basic') {
    const user = await readSecret(auth.username);
    const password = await readSecret(auth.password);
    return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  }
  return { authorization: `${auth.type} ${await readSecret(auth.credentials)}` };
}

/** Returns the URL of one of a target's pprof endpoints. */
export function pprofUrl(job: ScrapeJob, target: Target, endpoint: string, query = ''): URL {
  return new URL(`${job.scheme}://${target.address}${job.pathPrefix}/debug/pprof/${endpoint}${query}`);
}

/** What one scrape brought back, and what went wrong with its optional profiles. */
export interface CollectedProfile {
  profile: IngestedProfile;
  /** Problems with the profiles besides CPU (those were left out; the CPU profile is still stored). */
  warnings: string[];
}

/**
 * Scrapes one target once: a CPU profile of `profileSeconds` from /debug/pprof/profile, then each
 * extra profile the job asks for, and returns them as one upload of the `scrape` protocol with
 * the target's tags, ready for the ingest pipeline. The CPU request may take profileSeconds plus
 * the job's timeout; every other request the timeout. Rejects with FetchError when the CPU
 * profile cannot be had; an extra profile that fails is left out with a warning.
 */
export async function collectProfile(job: ScrapeJob, target: Target, signal: AbortSignal): Promise<CollectedProfile> {
  const headers = await authHeaders(job.auth);
  const common = { maxBytes: job.bodySizeLimit, headers, tls: job.tls, signal };
  const cpu = await fetchBody(pprofUrl(job, target, 'profile', `?seconds=${job.profileSeconds}`), {
    ...common,
    timeoutMs: job.profileSeconds * 1000 + job.timeoutMs,
  });
  const end = Date.now();
  const attachments = [{ name: 'cpu.pprof', bytes: new Uint8Array(cpu.buffer, cpu.byteOffset, cpu.length) }];
  const warnings: string[] = [];
  for (const kind of job.extraProfiles) {
    try {
      const bytes = await fetchBody(pprofUrl(job, target, kind), { ...common, timeoutMs: job.timeoutMs });
      attachments.push({ name: ATTACHMENT_NAMES[kind], bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) });
    } catch (err) {
      if (err instanceof FetchError && err.reason === 'aborted') throw err;
      warnings.push(`${kind} profile left out: ${(err as Error).message}`);
    }
  }
  const profile: IngestedProfile = {
    protocol: 'scrape',
    // The profile says how long it ran; the pipeline takes its start from that.
    start: null,
    end,
    tags: targetTags(target),
    attachments,
    cpuAttachment: 'cpu.pprof',
    endpointCounts: null,
  };
  enforceIntakeLimits(profile, DEFAULT_INTAKE_LIMITS);
  return { profile, warnings };
}
