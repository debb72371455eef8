import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { decodeProfile } from '../src/pprof/decode.js';
import { buildApp } from '../src/server/app.js';
import { SqliteKeyStore } from '../src/store/sqlite-keys.js';
import { openSqliteStore, type ProfileStore } from '../src/store/store.js';
import { loadCorpus } from './corpus.js';
import { type InputOptions, makeInput } from './inputs.js';
import { type Crash, runProfileTargets, runRouteTarget } from './targets.js';

/** Messages from the main thread: run ids [from, to), or stop after the current input. */
export type ToWorker = { type: 'run'; from: number; to: number } | { type: 'stop' };

/** Messages to the main thread: ready, input `id` starts, input `id` is done (with its crashes). */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'start'; id: number }
  | { type: 'done'; id: number; throughRoute: boolean; crashes: Crash[] };

export interface WorkerSettings extends InputOptions {
  /** An empty folder for this worker's store; the main thread creates and removes it (a hung worker is terminated, not asked). */
  dataDir: string;
  /** For tests of the campaign itself: inputs that loop forever or kill their worker instead of running. */
  faults?: CampaignFaults;
}

/** Inputs that misbehave on purpose, to prove that hangs and dead workers are caught. */
export interface CampaignFaults {
  hang?: number[];
  die?: number[];
}

/**
 * One fuzz worker: runs inputs it is given through every target, posting each input's id
 * before running it so that the main thread can tell which input hangs, and its crashes after.
 * The intake routes run in-process against a real store in a temporary folder.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('fuzz/worker.js must run as a worker thread');
  const settings = workerData as WorkerSettings;
  const corpus = loadCorpus();
  const partner = decodeProfile(corpus.profiles[corpus.names.indexOf('cpu-small-1.pprof')]);
  const server = settings.routeEvery > 0 ? await startServer(settings.dataDir) : null;

  const queue: Array<[number, number]> = [];
  let stopping = false;
  let wake: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'run') queue.push([m.from, m.to]);
    else stopping = true;
    wake?.();
  });
  const post = (m: FromWorker): void => port.postMessage(m);
  post({ type: 'ready' });

  while (!stopping) {
    const batch = queue.shift();
    if (batch === undefined) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
      continue;
    }
    for (let id = batch[0]; id < batch[1] && !stopping; id++) {
      post({ type: 'start', id });
      if (settings.faults?.hang?.includes(id)) for (;;);
      if (settings.faults?.die?.includes(id)) process.exit(1);
      const input = makeInput(corpus, settings, id);
      const crashes = runProfileTargets(input.bytes, partner, id);
      if (input.request !== null && server !== null) crashes.push(...(await runRouteTarget(server.app, input.request, server.lastError)));
      post({ type: 'done', id, throughRoute: input.request !== null, crashes });
      // Lets a "stop" message in between inputs of a long batch.
      if (input.request === null && (id & 15) === 15) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  if (server !== null) await server.close();
  port.close();
}

/** Starts the app with anonymous intake over a fresh store; errors it logs are kept for crash reports. */
async function startServer(dir: string): Promise<{ app: FastifyInstance; lastError: () => string; close: () => Promise<void> }> {
  let last = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      last = chunk.toString('utf8').slice(0, 4000);
      done();
    },
  });
  const logger = pino({ level: 'error' }, sink);
  const store: ProfileStore = await openSqliteStore(join(dir, 'data'));
  const keys = new SqliteKeyStore(join(dir, 'keys.sqlite'));
  const app = buildApp({ store, keys, logger, anonymousIntake: true });
  await app.ready();
  return {
    app,
    lastError: () => {
      const text = last;
      last = '';
      return text;
    },
    close: async () => {
      await app.close();
      await store.close();
      await keys.close();
    },
  };
}

await main();
