import { createHash } from 'node:crypto';
import type { PgoAnswerJson } from '../api/types.js';
import { agoFromNow, parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { parseCount } from './format.js';
import type { PgoFlags } from './pgo.js';
import { pgoEndpoint } from './pgo-endpoint.js';
import { warnOnPgoRegression } from './pgo-guard.js';
import { LogDuration, PgoLog } from './pgo-log.js';
import { serverFetch, trustFor } from './server-fetch.js';
import { VERSION } from './version.js';

/**
 * `hotpath pgo`: checks the arguments (usage errors fail whatever --fail says), then fetches and
 * writes the profile; any other failure is logged and, without --fail, leaves the exit code 0.
 */
export async function runPgoCommand(args: string[], flags: PgoFlags): Promise<void> {
  // Usage errors are not build failures: they fail whatever --fail says.
  if (args.length < 2) throw new CliError('pgo needs at least one QUERY and a DEST, e.g. hotpath pgo "service:api env:prod" ./default.pgo');
  const queries = args.slice(0, -1);
  const dest = args[args.length - 1];
  // Bad flag values are usage errors too.
  parseCount(flags.profiles, '--profiles');
  parseDuration(flags.from, '--from');
  parseDuration(flags.timeout, '--timeout');
  const log = new PgoLog(flags.json === true, flags.verbose === true);
  log.info('hotpath', { version: VERSION, 'node-version': process.version });
  try {
    await runPgo(queries, dest, flags, log);
  } catch (err) {
    const message = err instanceof CliError ? err.message : `unexpected error: ${(err as Error).message}`;
    log.error(message);
    if (flags.fail) throw new CliError('pgo failed (--fail is set)', 1);
    log.warn('hotpath pgo failed, but --fail is not set: exiting 0 so the build continues without a new profile', { dest });
  }
}

async function runPgo(queries: string[], dest: string, flags: PgoFlags, log: PgoLog): Promise<void> {
  const started = performance.now();
  const profiles = parseCount(flags.profiles, '--profiles');
  const from = agoFromNow(flags.from, '--from');
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const endpoint = pgoEndpoint(flags);
  const key = endpoint.appKey;
  // Commander names `--no-inline <FUNC>` "inline".
  const noInline = (flags as unknown as { inline?: string[] }).inline ?? [];
  let url: URL;
  try {
    url = new URL('/api/v1/pgo', endpoint.server);
  } catch {
    throw new CliError(`${endpoint.serverFrom} must give a URL such as http://hotpath:8126, got ${JSON.stringify(endpoint.server)}`);
  }
  const trust = trustFor(url, flags.caFile);
  const body = {
    queries: queries.map((query) => ({ query, from, to: 'now', limit: profiles })),
    noInline,
  };
  log.debug('requesting', { url: url.href, 'server-from': endpoint.serverFrom, 'extra-ca': trust?.source ?? null, body });
  let res: Response;
  try {
    res = await serverFetch(
      url,
      {
        method: 'POST',
        body: JSON.stringify(body),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(endpoint.apiKey ? { 'dd-api-key': endpoint.apiKey } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      },
      trust,
    );
  } catch (err) {
    const e = err as Error & { cause?: Error & { code?: string } };
    if (e.name === 'TimeoutError')
      throw new CliError(`no answer from ${url.origin} within ${flags.timeout}: raise --timeout or check the server`);
    throw new CliError(
      `cannot reach ${url.origin} (${e.cause?.code ?? e.cause?.message ?? e.message}): check --server / HOTPATH_URL${endpoint.serverFrom === '--server' ? '' : ` (this address came from ${endpoint.serverFrom})`}, --ca-file / SSL_CERT_FILE for https, and that the server runs`,
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
      `the server refused the key (${res.status}: ${answer.error ?? text}): set --app-key / HOTPATH_APP_KEY (or DD_APP_KEY) to an application key with the pgo_read scope`,
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
    // datadog-pgo's line for each profile, with the tags it cannot show.
    log.info('extracted profile', {
      service: p.service,
      env: p.env,
      version: p.version,
      'cpu-cores': p.cpuCores === null ? null : Number(p.cpuCores.toFixed(2)),
      duration: new LogDuration(Date.parse(p.end) - Date.parse(p.start)),
      age: new LogDuration(ageMs),
      'profile-id': p.id,
    });
  }
  writeFileAtomic(dest, bytes);
  log.info('wrote PGO file', {
    path: dest,
    samples: answer.samples,
    bytes: bytes.length,
    sha256,
    'total-duration': new LogDuration(performance.now() - started),
    'not-inlined': answer.notInlined ?? [],
    'debug-query': answer.debugQuery,
  });
  // Did the PGO builds already running grow heap or goroutines? A warning, never a failure.
  await warnOnPgoRegression(url.href, key, queries, from, log, (u, init) => serverFetch(u, init, trust));
  if (flags.explain) {
    // Only --explain decodes the profile: the decoder is not loaded otherwise.
    const [{ hotCallSites }, { parseProfile }] = await Promise.all([import('../pgo/hot-call-sites.js'), import('../pprof/parse.js')]);
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
