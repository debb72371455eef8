import { hotCallSites } from '../pgo/hot-call-sites.js';
import { CliError } from './errors.js';
import type { ExplainFlags } from './explain.js';
import { readProfileFile } from './files.js';
import { parseCount, table } from './format.js';

/** `hotpath explain` (flags in explain.ts). */
export async function runExplain(file: string, flags: ExplainFlags): Promise<void> {
  const top = parseCount(flags.top, '--top');
  const threshold = Number(flags.cdfThreshold);
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) {
    throw new CliError(`--cdf-threshold must be a number between 0 and 100, got ${JSON.stringify(flags.cdfThreshold)}`);
  }
  let report: ReturnType<typeof hotCallSites>;
  try {
    report = hotCallSites(readProfileFile(file), threshold);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file}: ${(err as Error).message}`);
  }
  if (flags.json) {
    const { edges, ...summary } = report;
    process.stdout.write(`${JSON.stringify({ file, ...summary, edgeCount: edges.length, edges: edges.slice(0, top) }, null, 2)}\n`);
    return;
  }
  const rows = report.edges
    .slice(0, top)
    .map((e) => [
      e.hot ? 'hot' : '',
      String(e.weight),
      `${e.sharePercent.toFixed(2)}%`,
      `${e.cumulativePercent.toFixed(2)}%`,
      `${e.caller} +${e.offset} → ${e.callee}`,
    ]);
  const lines = [
    `File:             ${file}`,
    `Weights:          ${report.valueType || 'n/a'} (total edge weight ${report.totalWeight})`,
    `Call edges:       ${report.edges.length}`,
    `Hot call sites:   ${report.hotCount} (the first edges covering more than ${threshold}% of the weight)`,
    `Threshold:        ${report.thresholdPercent}% (go build -gcflags=-d=pgodebug=1 prints hot-callsite-thres-from-CDF=${report.thresholdPercent})`,
    '',
    table(['', 'weight', 'share', 'cum', 'call site (caller +line offset → callee)'], rows, [false, true, true, true, false]),
  ];
  if (report.edges.length > top) lines.push(`... ${report.edges.length - top} more (use --top)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
