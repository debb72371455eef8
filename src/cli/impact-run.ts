import type { ImpactIntervalJson, ImpactJson } from '../api/types.js';
import { formatImpactValue, formatPercent, guardLabel } from '../impact/report.js';
import { durationMs } from '../time/parse-time.js';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { table } from './format.js';
import type { ImpactFlags } from './impact.js';

/** A window bound as the API takes it: a bare duration ("72h") means that long ago. */
function windowBound(value: string): string {
  return durationMs(value) === null ? value : `now-${value}`;
}

function interval(i: ImpactIntervalJson | null, unit: ImpactJson['unit']): string {
  if (i === null) return '-';
  if (i.low === null || i.high === null) return formatImpactValue(i.value, unit);
  return `${formatImpactValue(i.value, unit)} ± ${formatImpactValue((i.high - i.low) / 2, unit)}`;
}

function relative(i: ImpactIntervalJson | null): string {
  if (i === null || i.low === null || i.high === null) return '-';
  return `${formatPercent(i.value)} [${formatPercent(i.low)}, ${formatPercent(i.high)}]`;
}

/** The report as text: the verdict first, then both sides, then the endpoints. */
export function formatImpact(r: ImpactJson): string {
  const lines: string[] = [r.summary, ''];
  const perRequest = r.metric === 'cpu_per_request';
  const sideRows = (['before', 'after'] as const).map((name) => {
    const s = r[name];
    return [
      name,
      s.query,
      String(s.profiles),
      perRequest ? String(s.requests) : '-',
      interval(perRequest ? s.cpuPerRequestNanos : s.cpuCores, r.unit),
      interval(s.cpuCores, 'cores'),
    ];
  });
  lines.push(
    table(['', 'query', 'profiles', 'requests', perRequest ? 'cpu/request (95% CI)' : 'cpu cores (95% CI)', 'cpu cores'], sideRows, [
      false,
      false,
      true,
      true,
      true,
      true,
    ]),
  );
  lines.push('', `change: ${relative(r.difference.relative)}  verdict: ${r.difference.verdict}`);
  if (r.endpoints.length > 0) {
    lines.push(
      '',
      table(
        ['endpoint', 'requests before', 'requests after', 'cpu/request before', 'cpu/request after', 'change [95% CI]', 'verdict'],
        r.endpoints.map((e) => [
          e.endpoint,
          String(e.beforeRequests),
          String(e.afterRequests),
          interval(e.beforeCpuPerRequestNanos, 'nanoseconds'),
          interval(e.afterCpuPerRequestNanos, 'nanoseconds'),
          relative(e.difference.relative),
          e.difference.verdict,
        ]),
        [false, true, true, true, true, true, false],
      ),
      '(endpoint rows count only CPU on goroutines labelled with the endpoint, not GC or background work)',
    );
  }
  const guard = (r.guard ?? []).filter((g) => g.beforeProfiles > 0 || g.afterProfiles > 0);
  if (guard.length > 0) {
    const one = (g: (typeof guard)[number], v: number) =>
      g.unit === 'bytes'
        ? `${(v / 1048576).toFixed(1)} MiB`
        : g.unit === 'bytes_per_second'
          ? `${(v / 1048576).toFixed(1)} MiB/s`
          : v.toFixed(0);
    // The mean per profile, ± the half-width of its 95% interval when there is one.
    const fmt = (g: (typeof guard)[number], i: ImpactIntervalJson | null) =>
      i === null ? '-' : i.low === null || i.high === null ? one(g, i.value) : `${one(g, i.value)} ± ${one(g, (i.high - i.low) / 2)}`;
    lines.push(
      '',
      table(
        ['regression guard', 'before', 'after', 'change [95% CI]', 'verdict'],
        guard.map((g) => [
          guardLabel(g.metric),
          fmt(g, g.before),
          fmt(g, g.after),
          relative(g.relativeRise),
          g.flagged ? 'FLAGGED: rose' : g.verdict,
        ]),
        [false, true, true, true, false],
      ),
    );
  }
  for (const n of r.notes) lines.push('', `note: ${n}`);
  return `${lines.join('\n')}\n`;
}

/** `hotpath impact` (flags in impact.ts). */
export async function runImpact(before: string, after: string, flags: ImpactFlags): Promise<void> {
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const key = flags.appKey ?? process.env.HOTPATH_APP_KEY;
  let url: URL;
  try {
    url = new URL('/api/v1/impact', flags.server);
  } catch {
    throw new CliError(`--server must be a URL, got ${JSON.stringify(flags.server)}`);
  }
  url.searchParams.set('before', before);
  url.searchParams.set('after', after);
  url.searchParams.set('from', windowBound(flags.from));
  url.searchParams.set('to', windowBound(flags.to));
  let res: Response;
  try {
    res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      throw new CliError(`no answer from ${url.origin} within ${flags.timeout}: raise --timeout or check the server`);
    throw new CliError(`cannot reach ${url.origin}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as Partial<ImpactJson> & { error?: string };
  if (!res.ok || body.difference === undefined) {
    throw new CliError(`the server answered ${res.status}: ${body.error ?? 'not an impact report (is --server a Hotpath server?)'}`);
  }
  const report = body as ImpactJson;
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatImpact(report));
}
