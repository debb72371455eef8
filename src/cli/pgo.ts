import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import type { PgoAnswerJson } from '../api/types.js';
import { hotCallSites } from '../pgo/hot-call-sites.js';
import { parseProfile } from '../pprof/parse.js';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { parseCount } from './format.js';
import { warnOnPgoRegression } from './pgo-guard.js';

interface PgoFlags {
  fail?: boolean;
  from: string;
  json?: boolean;
  profiles: string;
  timeout: string;
  verbose?: boolean;
  server: string;
  appKey?: string;
  explain?: boolean;
  noInline: string[];
}

/** Log lines, as text or (--json) one JSON object per line, on stdout like datadog-pgo. */
class PgoLog {
  constructor(
    private readonly json: boolean,
    private readonly verbose: boolean,
  ) {}
  info(msg: string, attrs: Record<string, unknown> = {}): void {
    this.write('INFO', msg, attrs);
  }
  warn(msg: string, attrs: Record<string, unknown> = {}): void {
    this.write('WARN', msg, attrs);
  }
  error(msg: string, attrs: Record<string, unknown> = {}): void {
    this.write('ERROR', msg, attrs);
  }
  debug(msg: string, attrs: Record<string, unknown> = {}): void {
    if (this.verbose) this.write('DEBUG', msg, attrs);
  }
  private write(level: string, msg: string, attrs: Record<string, unknown>): void {
    if (this.json) {
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...attrs })}\n`);
      return;
    }
    const text = Object.entries(attrs)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
      .join(' ');
    process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${level} ${msg}${text ? ` ${text}` : ''}\n`);
  }
}

export function registerPgo(program: Command): void {
  program
    .command('pgo')
    .summary('write a default.pgo from the server’s recent profiles (for CI, before go build)')
    .description(
      'Ask a Hotpath server for a default.pgo built from the top profiles (by CPU cores) matching each QUERY\n' +
        'in the window, and write it to DEST atomically. `runtime:go` is added to a query that names no runtime.\n' +
        'It never breaks a build: on any failure it says what to fix, leaves DEST as it was and exits 0,\n' +
        'unless --fail is given.',
    )
    .option('--fail', 'exit non-zero on failure (default: exit 0 and build without a new profile)')
    .option('--from <DURATION>', 'how far back to look for profiles', '72h')
    .option('--json', 'log JSON lines')
    .option('--profiles <N>', 'profiles to use per query', '5')
    .option('--timeout <DURATION>', 'give up after this long', '60s')
    .option('-v, --verbose', 'log more')
    .option('--server <URL>', 'server URL (or HOTPATH_URL)', process.env.HOTPATH_URL ?? 'http://localhost:8126')
    .option('--app-key <KEY>', 'application key with the pgo_read scope (or HOTPATH_APP_KEY)')
    .option(
      '--no-inline <FUNC>',
      'never inline FUNC (repeatable; adds to the built-in list)',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option('--explain', 'print the hot call sites of the file written')
    .usage('[options] QUERY... DEST')
    .argument('<QUERY...>', 'one or more search queries (e.g. "service:api env:prod"), then DEST: where to write the profile')
    .addHelpText(
      'after',
      '\nExample (CI, before go build):\n  HOTPATH_URL=https://hotpath.internal HOTPATH_APP_KEY=... hotpath pgo "service:api env:prod" ./cmd/api/default.pgo',
    )
    .action(async (args: string[], flags: PgoFlags) => {
      // Usage errors are not build failures: they fail whatever --fail says.
      if (args.length < 2)
        throw new CliError('pgo needs at least one QUERY and a DEST, e.g. hotpath pgo "service:api env:prod" ./default.pgo');
      const queries = args.slice(0, -1);
      const dest = args[args.length - 1];
      // Bad flag values are usage errors too.
      parseCount(flags.profiles, '--profiles');
      parseDuration(flags.from, '--from');
      parseDuration(flags.timeout, '--timeout');
      const log = new PgoLog(flags.json === true, flags.verbose === true);
      try {
        await runPgo(queries, dest, flags, log);
      } catch (err) {
        const message = err instanceof CliError ? err.message : `unexpected error: ${(err as Error).message}`;
        log.error(message);
        if (flags.fail) throw new CliError('pgo failed (--fail is set)', 1);
        log.warn('hotpath pgo failed, but --fail is not set: exiting 0 so the build continues without a new profile', { dest });
      }
    });
}

async function runPgo(queries: string[], dest: string, flags: PgoFlags, log: PgoLog): Promise<void> {
  const started = performance.now();
  const profiles = parseCount(flags.profiles, '--profiles');
  const fromMs = parseDuration(flags.from, '--from');
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const key = flags.appKey ?? process.env.HOTPATH_APP_KEY;
  // Commander names `--no-inline <FUNC>` "inline".
  const noInline = (flags as unknown as { inline?: string[] }).inline ?? [];
  let url: URL;
  try {
    url = new URL('/api/v1/pgo', flags.server);
  } catch {
    throw new CliError(`--server must be a URL such as http://hotpath:8126, got ${JSON.stringify(flags.server)}`);
  }
  const body = {
    queries: queries.map((query) => ({ query, from: `now-${Math.round(fromMs / 1000)}s`, to: 'now', limit: profiles })),
    noInline,
  };
  log.debug('requesting', { url: url.href, body });
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: Error & { code?: string } };
    if (e.name === 'TimeoutError')
      throw new CliError(`no answer from ${url.origin} within ${flags.timeout}: raise --timeout or check the server`);
    throw new CliError(
      `cannot reach ${url.origin} (${e.cause?.code ?? e.cause?.message ?? e.message}): check --server / HOTPATH_URL and that the server runs`,
    );
  }
  const text = await res.text().catch(() => '');
  let answer: Partial<PgoAnswerJson> & { error?: string } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // reported below with the status
  }
  if (res.status === 401 || res.status === 403) {
    throw new CliError(
      `the server refused the key (${res.status}: ${answer.error ?? text}): set --app-key / HOTPATH_APP_KEY to an application key with the pgo_read scope`,
    );
  }
  if (res.status === 404)
    throw new CliError(`${answer.error ?? 'no matching profiles'}: check the query and that the service sends CPU profiles`);
  if (!res.ok || typeof answer.pgo !== 'string')
    throw new CliError(`the server answered ${res.status}: ${answer.error ?? text.slice(0, 300)}`);

  const bytes = Buffer.from(answer.pgo, 'base64');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== answer.sha256)
    throw new CliError(`the profile's SHA-256 ${sha256} does not match the server's ${answer.sha256}: the download was corrupted`);
  for (const p of answer.profiles ?? []) {
    const ageMs = Date.now() - Date.parse(p.end);
    log.info('selected profile', {
      service: p.service,
      env: p.env,
      version: p.version,
      'cpu-cores': p.cpuCores === null ? null : Number(p.cpuCores.toFixed(2)),
      age: `${Math.round(ageMs / 60000)}m`,
      'profile-id': p.id,
    });
  }
  writeFileAtomic(dest, bytes);
  log.info('wrote PGO file', {
    path: dest,
    samples: answer.samples,
    bytes: bytes.length,
    sha256,
    duration: `${Math.round(performance.now() - started)}ms`,
    'not-inlined': answer.notInlined ?? [],
    'debug-query': answer.debugQuery,
  });
  // Did the PGO builds already running grow heap or goroutines? A warning, never a failure.
  await warnOnPgoRegression(url.href, key, queries, `now-${Math.round(fromMs / 1000)}s`, log);
  if (flags.explain) {
    const report = hotCallSites(parseProfile(bytes));
    log.info('hot call sites', { 'threshold-percent': report.thresholdPercent, hot: report.hotCount, edges: report.edges.length });
    for (const e of report.edges.slice(0, 20)) {
      log.info('call site', {
        hot: e.hot,
        weight: e.weight,
        share: `${e.sharePercent.toFixed(2)}%`,
        site: `${e.caller} +${e.offset} -> ${e.callee}`,
      });
    }
  }
}
