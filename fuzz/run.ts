import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../e2e/support/paths.js';
import { runCampaign } from './campaign.js';
import { formatReport, mb } from './report.js';

/**
 * `npm run fuzz -- --seconds N [--inputs N] [--seed S] [--workers W] [--route-every K]`:
 * runs a fuzz campaign, prints inputs run, inputs/s, crashes, hangs and peak RSS, writes each
 * finding's smallest input under .cache/fuzz/seed-S/, and exits 1 when there was any crash or hang.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      inputs: { type: 'string' },
      seed: { type: 'string', default: '1' },
      workers: { type: 'string', default: '2' },
      'route-every': { type: 'string', default: '50' },
      'hang-ms': { type: 'string', default: '2000' },
      // 1 MiB: an amplified profile that size takes ~0.4 s through every target on an idle core,
      // so the 2 s hang limit still holds on a busy machine; 4 MiB ones took 1.4 s alone.
      'max-bytes': { type: 'string', default: String(1024 * 1024) },
      out: { type: 'string', default: join(repoRoot, '.cache', 'fuzz') },
    },
  });
  const count = (name: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || n < min) {
      throw new UsageError(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
  if (values.seconds === undefined && values.inputs === undefined) throw new UsageError('give --seconds N, --inputs N or both');
  const seconds = values.seconds === undefined ? Number.POSITIVE_INFINITY : count('seconds', values.seconds, 1);
  const inputs = values.inputs === undefined ? Number.POSITIVE_INFINITY : count('inputs', values.inputs, 1);
  const seed = count('seed', values.seed, 0);
  const workers = count('workers', values.workers, 1);
  const routeEvery = count('route-every', values['route-every'], 0);
  const hangMs = count('hang-ms', values['hang-ms'], 1);
  const maxBytes = count('max-bytes', values['max-bytes'], 1024);

  process.stdout.write(
    `fuzz: seed ${seed}, ${workers} worker(s), ${Number.isFinite(inputs) ? `${inputs} inputs` : 'no input limit'}, ` +
      `${Number.isFinite(seconds) ? `${seconds} s` : 'no time limit'}, 1 in ${routeEvery} inputs through an intake route\n`,
  );
  const stop = new AbortController();
  process.once('SIGINT', () => {
    process.stdout.write('fuzz: stopping after the inputs that are running (Ctrl-C again to quit at once)\n');
    stop.abort();
  });
  const result = await runCampaign({
    signal: stop.signal,
    seed,
    seconds,
    inputs,
    workers,
    hangMs,
    routeEvery,
    maxBytes,
    outDir: values.out,
    onProgress: (p) =>
      process.stdout.write(
        `  ${p.inputs} inputs in ${p.seconds.toFixed(0)} s (${(p.inputs / p.seconds).toFixed(0)}/s), ${p.crashes} crashes, ${p.hangs} hangs, peak RSS ${mb(p.peakRssBytes)}\n`,
      ),
  });
  process.stdout.write(formatReport(result, join(values.out, `seed-${seed}`)));
  process.exitCode = result.crashes > 0 || result.hangs > 0 ? 1 : 0;
}

/** A mistake in the command line: printed as one line, exit 2. */
class UsageError extends Error {}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`fuzz: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  throw err;
});
