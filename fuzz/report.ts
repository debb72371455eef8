import type { CampaignResult } from './campaign.js';

/** Bytes as whole megabytes. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

/** The report: totals first, then one paragraph per distinct finding with its smallest input. */
export function formatReport(r: CampaignResult, dir: string): string {
  const lines = [
    `inputs run:  ${r.inputs} (${r.routeInputs} also through an intake route)`,
    `time:        ${r.seconds.toFixed(1)} s, ${(r.inputs / r.seconds).toFixed(0)} inputs/s`,
    `crashes:     ${r.crashes} inputs, ${r.findings.filter((f) => f.kind === 'crash').length} distinct`,
    `hangs:       ${r.hangs} inputs over the hang limit`,
    `peak RSS:    ${mb(r.peakRssBytes)} (main thread and workers: VmHWM)`,
  ];
  for (const f of r.findings) {
    lines.push(
      '',
      `${f.kind} in ${f.target} (${f.count} inputs, first #${f.firstId}, smallest #${f.smallestId}: ${f.smallestBytes} bytes)`,
      `  ${f.error}`,
      `  made by: ${f.steps.join(' → ')}`,
      ...f.stack
        .split('\n')
        .slice(1, 6)
        .map((l) => `  ${l.trim()}`),
      ...f.files.map((file) => `  saved: ${file}`),
    );
  }
  if (r.findings.length > 0) lines.push('', `findings and summary.json are in ${dir}`);
  return `${lines.join('\n')}\n`;
}
