import type { Command } from 'commander';
import { addCaFileOption } from './ca-file-option.js';

/** The flags of `hotpath upload`, as commander hands them to the action. */
export interface UploadFlags {
  server: string;
  tags: string;
  apiKey?: string;
  caFile?: string;
}

/** Registers `hotpath upload`; what it runs (upload-run.ts) is loaded only when it runs. */
export function registerUpload(program: Command): void {
  const command = program
    .command('upload')
    .summary('send local profile files to a Hotpath server')
    .description('Upload pprof files (gzip, zstd or raw) to a server, with tags. The key comes from --api-key or HOTPATH_API_KEY.')
    .option('--server <URL>', 'server URL (or HOTPATH_URL)', process.env.HOTPATH_URL ?? 'http://localhost:8126')
    .option('--tags <LIST>', 'tags as k:v,k:v (e.g. service:api,env:prod)', '')
    .option('--api-key <KEY>', 'API key (or HOTPATH_API_KEY)')
    .argument('<FILE...>', 'profiles to upload')
    .action(async (files: string[], flags: UploadFlags) => (await import('./upload-run.js')).runUpload(files, flags));
  addCaFileOption(command);
}
