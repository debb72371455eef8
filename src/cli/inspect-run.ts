import { type FunctionTotal, profileStats } from '../pprof/stats.js';
import { readProfileFile } from './files.js';
import { formatDuration, formatValue, parseCount, table } from './format.js';
import type { InspectFlags } from './inspect.js';

/** `hotpath inspect` (flags in inspect.ts). */
export async function runInspect(file: string, flags: InspectFlags): Promise<void> {
  const stats = profileStats(readProfileFile(file), parseCount(flags.top, '--top'));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ file, ...stats }, null, 2)}\n`);
    return;
  }
  const unit = stats.topValueType.split('/')[1] ?? '';
  const lines = [
    `File:          ${file}`,
    `Sample types:  ${stats.sampleTypes.join(', ')}`,
    `Start:         ${stats.start ?? 'unknown'}`,
    `Duration:      ${formatDuration(stats.durationNanos)}`,
    `CPU cores:     ${stats.cpuCores === null ? 'n/a (not a CPU profile or no duration)' : stats.cpuCores.toFixed(3)}`,
    `Samples:       ${stats.sampleCount} in ${stats.sampleRecords} records`,
    `Totals:        ${stats.sampleTypes.map((t, i) => `${t}=${formatValue(stats.totals[i], t.split('/')[1])}`).join(', ')}`,
    `Tables:        ${stats.locations} locations, ${stats.functions} functions, ${stats.mappings} mappings`,
    '',
    `Top functions by flat ${stats.topValueType}:`,
    topTable(stats.topFlat, unit),
    '',
    `Top functions by cumulative ${stats.topValueType}:`,
    topTable(stats.topCum, unit),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function topTable(rows: FunctionTotal[], unit: string): string {
  return table(
    ['flat', 'cum', 'function'],
    rows.map((r) => [formatValue(r.flat, unit), formatValue(r.cum, unit), r.name]),
    [true, true, false],
  );
}
