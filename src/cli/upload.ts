import type { Command } from 'commander';
import { CliError } from './errors.js';
import { readInputFile } from './files.js';
import { addCaFileOption, serverFetch, trustFor } from './server-fetch.js';

interface UploadFlags {
  server: string;
  tags: string;
  apiKey?: string;
  caFile?: string;
}

export function registerUpload(program: Command): void {
  const command = program
    .command('upload')
    .summary('send local profile files to a Hotpath server')
    .description('Upload pprof files (gzip, zstd or raw) to a server, with tags. The key comes from --api-key or HOTPATH_API_KEY.')
    .option('--server <URL>', 'server URL (or HOTPATH_URL)', process.env.HOTPATH_URL ?? 'http://localhost:8126')
    .option('--tags <LIST>', 'tags as k:v,k:v (e.g. service:api,env:prod)', '')
    .option('--api-key <KEY>', 'API key (or HOTPATH_API_KEY)')
    .argument('<FILE...>', 'profiles to upload')
    .action(async (files: string[], flags: UploadFlags) => {
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
    });
  addCaFileOption(command);
}
