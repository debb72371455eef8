import { CliError } from './errors.js';
import { readInputFile } from './files.js';
import { serverFetch, trustFor } from './server-fetch.js';
import type { UploadFlags } from './upload.js';

/** `hotpath upload` (flags in upload.ts). */
export async function runUpload(files: string[], flags: UploadFlags): Promise<void> {
  const key = flags.apiKey ?? process.env.HOTPATH_API_KEY;
  let base: URL;
  try {
    base = new URL('/api/v1/profiles', flags.server);
  } catch {
    throw new CliError(`--server must be a URL such as http://localhost:8126, got ${JSON.stringify(flags.server)}`);
  }
  const trust = trustFor(base, flags.caFile);
  if (flags.tags) base.searchParams.set('tags', flags.tags);
  for (const file of files) {
    const body = readInputFile(file);
    let res: Response;
    try {
      res = await serverFetch(
        base,
        {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/octet-stream', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        },
        trust,
      );
    } catch (err) {
      throw new CliError(
        `${file}: cannot reach ${base.origin}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    let answer: { id?: string; error?: string } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      // not JSON: reported below with the status
    }
    if (!res.ok) throw new CliError(`${file}: server refused it (${res.status}): ${answer.error ?? text.slice(0, 200)}`);
    process.stdout.write(`${file}\t${answer.id}\n`);
  }
}
