import type { Command } from 'commander';
import type { ServicesJson } from '../api/types.js';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { table } from './format.js';
import { addCaFileOption, serverFetch, trustFor } from './server-fetch.js';

export function registerServices(program: Command): void {
  const command = program
    .command('services')
    .summary('list the services sending profiles, with their PGO adoption')
    .description(
      'Every service with profiles in the window: environments, latest version, profile count, mean CPU cores and the share of profiles from PGO builds. Services whose newest profile says pgo:false are flagged.',
    )
    .option('--from <DURATION>', 'how far back to look', '7d')
    .option('--server <URL>', 'server URL (or HOTPATH_URL)', process.env.HOTPATH_URL ?? 'http://localhost:8126')
    .option('--app-key <KEY>', 'application key with profiles_read (or HOTPATH_APP_KEY)')
    .option('--json', 'print JSON')
    .action(async (flags: { from: string; server: string; appKey?: string; json?: boolean; caFile?: string }) => {
      const fromMs = parseDuration(flags.from, '--from');
      const key = flags.appKey ?? process.env.HOTPATH_APP_KEY;
      let url: URL;
      try {
        url = new URL('/api/v1/services', flags.server);
      } catch {
        throw new CliError(`--server must be a URL, got ${JSON.stringify(flags.server)}`);
      }
      const trust = trustFor(url, flags.caFile);
      url.searchParams.set('from', `now-${Math.round(fromMs / 1000)}s`);
      let res: Response;
      try {
        res = await serverFetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} }, trust);
      } catch (err) {
        throw new CliError(`cannot reach ${url.origin}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as Partial<ServicesJson> & { error?: string };
      if (!res.ok || !body.services) throw new CliError(`the server answered ${res.status}: ${body.error ?? 'unexpected answer'}`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(body.services, null, 2)}\n`);
        return;
      }
      const rows = body.services.map((s) => [
        s.withoutPgo ? '!' : '',
        s.service,
        s.envs.join(',') || '-',
        s.latestVersion || '-',
        String(s.profiles),
        s.cpuCores === null ? '-' : s.cpuCores.toFixed(2),
        `${Math.round(s.pgoShare * 100)}%`,
        s.latestPgo === null ? 'unknown' : String(s.latestPgo),
      ]);
      process.stdout.write(
        `${table(['', 'service', 'envs', 'version', 'profiles', 'cpu cores', 'pgo share', 'newest pgo'], rows, [false, false, false, false, true, true, true, false])}\n`,
      );
      const flagged = body.services.filter((s) => s.withoutPgo).length;
      if (flagged > 0)
        process.stdout.write(
          `\n! ${flagged} service(s) run builds without PGO: add \`hotpath pgo QUERY ./default.pgo\` before their go build.\n`,
        );
    });
  addCaFileOption(command);
}
