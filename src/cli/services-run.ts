import type { ServicesJson } from '../api/types.js';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { table } from './format.js';
import { serverFetch, trustFor } from './server-fetch.js';
import type { ServicesFlags } from './services.js';

/** `hotpath services` (flags in services.ts). */
export async function runServices(flags: ServicesFlags): Promise<void> {
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
}
