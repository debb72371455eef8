import type { DiscoveryError } from './discovery.js';
import type { TargetState } from './health.js';

/** One sample line's labels in the Prometheus text format, escaped as it requires. */
function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

/**
 * Returns the scrape metrics in the Prometheus text format: per target whether its last scrape
 * succeeded, how long it took, its failures in a row, its failures by reason and the profiles
 * it gave; per job the targets and the target files in error. A target that was never scraped
 * has no `up` or duration sample yet (as in Prometheus).
 */
export function renderScrapeMetrics(states: readonly TargetState[], discoveryErrors: readonly DiscoveryError[]): string {
  const families: Array<{ name: string; type: 'gauge' | 'counter'; help: string; lines: string[] }> = [
    {
      name: 'hotpath_scrape_target_up',
      type: 'gauge',
      help: 'Whether the last scrape of the target stored a profile (1) or failed (0).',
      lines: [],
    },
    {
      name: 'hotpath_scrape_last_duration_seconds',
      type: 'gauge',
      help: 'How long the last scrape of the target took, CPU profile included.',
      lines: [],
    },
    {
      name: 'hotpath_scrape_consecutive_failures',
      type: 'gauge',
      help: 'Failed scrapes of the target in a row (the backoff doubles with each).',
      lines: [],
    },
    {
      name: 'hotpath_scrape_failures_total',
      type: 'counter',
      help: 'Failed scrapes of the target, by reason (profiler_busy, connection, timeout, ...).',
      lines: [],
    },
    { name: 'hotpath_scrape_profiles_stored_total', type: 'counter', help: 'Profiles stored from the target.', lines: [] },
    { name: 'hotpath_scrape_targets', type: 'gauge', help: 'Targets of the job.', lines: [] },
    {
      name: 'hotpath_scrape_discovery_errors',
      type: 'gauge',
      help: 'Target files of the job that could not be used (their last good targets are kept).',
      lines: [],
    },
  ];
  const [up, duration, consecutive, failures, stored, targets, errors] = families;
  const perJob = new Map<string, number>();
  for (const s of states) {
    const labels = { job: s.job.name, instance: s.target.address };
    const l = labelText(labels);
    perJob.set(s.job.name, (perJob.get(s.job.name) ?? 0) + 1);
    if (s.health !== 'unknown') up.lines.push(`${up.name}${l} ${s.health === 'up' ? 1 : 0}`);
    if (s.lastDurationMs !== null) duration.lines.push(`${duration.name}${l} ${s.lastDurationMs / 1000}`);
    consecutive.lines.push(`${consecutive.name}${l} ${s.consecutiveFailures}`);
    for (const [reason, count] of s.failuresByReason) failures.lines.push(`${failures.name}${labelText({ ...labels, reason })} ${count}`);
    stored.lines.push(`${stored.name}${l} ${s.profilesStored}`);
  }
  for (const [job, count] of perJob) targets.lines.push(`${targets.name}${labelText({ job })} ${count}`);
  const errorsPerJob = new Map<string, number>();
  for (const e of discoveryErrors) errorsPerJob.set(e.job, (errorsPerJob.get(e.job) ?? 0) + 1);
  for (const [job, count] of errorsPerJob) errors.lines.push(`${errors.name}${labelText({ job })} ${count}`);
  let out = '';
  for (const f of families) out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n${f.lines.map((line) => `${line}\n`).join('')}`;
  return out;
}
