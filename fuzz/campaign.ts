import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { loadCorpus } from './corpus.js';
import { type FuzzInput, makeInput } from './inputs.js';
import type { Crash } from './targets.js';
import type { CampaignFaults, FromWorker, ToWorker, WorkerSettings } from './worker.js';

export interface CampaignOptions {
  seed: number;
  /** Stop issuing inputs after this long (Infinity: no time limit). */
  seconds: number;
  /** Run inputs 0 .. inputs-1 (Infinity: until `seconds`). */
  inputs: number;
  workers: number;
  /** An input still running after this long is a hang: its worker is terminated and replaced. */
  hangMs: number;
  /** One input in this many also goes through an intake route. */
  routeEvery: number;
  /** Ceiling on a mutated profile's uncompressed size. */
  maxBytes: number;
  /** Where findings are written (one folder per campaign), or null to keep them in memory only. */
  outDir: string | null;
  /** Called about every `progressMs` with the counts so far. */
  onProgress?: (p: CampaignProgress) => void;
  progressMs?: number;
  /** Stops issuing inputs when aborted (Ctrl-C); the inputs already running finish and are reported. */
  signal?: AbortSignal;
  /** For tests of the campaign itself (see CampaignFaults). */
  faults?: CampaignFaults;
}

export interface CampaignProgress {
  inputs: number;
  seconds: number;
  crashes: number;
  hangs: number;
  peakRssBytes: number;
}

/** One distinct problem: all inputs that failed the same way, with the smallest of them. */
export interface Finding {
  kind: 'crash' | 'hang';
  /** Order of discovery, from 1; names its files. */
  number: number;
  signature: string;
  target: string;
  error: string;
  stack: string;
  /** How many inputs hit it. */
  count: number;
  firstId: number;
  /** The input with the fewest uncompressed bytes that hit it. */
  smallestId: number;
  smallestBytes: number;
  /** How the smallest input was made. */
  steps: string[];
  /** Files written for the smallest input (when outDir is set). */
  files: string[];
}

export interface CampaignResult extends CampaignProgress {
  seed: number;
  routeInputs: number;
  findings: Finding[];
}

/** Inputs handed to a worker at a time: few enough that a replaced worker loses little, enough to amortise messages. */
const BATCH = 16;

/** Peak resident set size of this process, main thread and workers together (they share it): VmHWM. */
export function peakRssBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Groups failures by step, exception and the first project frame of the stack, ignoring numbers in messages. */
function signatureOf(crash: Crash): string {
  const frame = /\((?:file:\/\/)?[^)]*?((?:src|fuzz)\/[^):]+:\d+)/.exec(crash.stack)?.[1] ?? '';
  return `${crash.target} | ${crash.error.replace(/\d+/g, 'N').slice(0, 160)} | ${frame}`;
}

interface Slot {
  worker: Worker;
  /** Folder of this slot's store; kept across restarts. */
  dataDir: string;
  ready: boolean;
  /** Ids [next, to) of the current batch still to be reported done. */
  next: number;
  to: number;
  running: { id: number; since: number } | null;
  /** Set when the main thread terminates the worker itself, so its exit is not a crash. */
  retiring: boolean;
  exited: Promise<void>;
}

/**
 * Runs a fuzz campaign: inputs 0, 1, 2, … of `seed` spread over worker threads, each input
 * through every profile target and some through the intake routes. A worker whose input runs
 * longer than `hangMs` is terminated and replaced (a hang); a worker that dies (out of memory,
 * an uncaught error) is replaced and its input counted as a crash. Resolves when every issued
 * input has finished.
 */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const corpus = loadCorpus();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const findings = new Map<string, Finding>();
  let nextId = 0;
  let done = 0;
  let crashes = 0;
  let hangs = 0;
  let routeInputs = 0;
  const slots: Slot[] = [];
  const inputCache = new Map<number, FuzzInput>();
  const inputOf = (id: number): FuzzInput => {
    let input = inputCache.get(id);
    if (!input) {
      input = makeInput(corpus, { seed: options.seed, routeEvery: options.routeEvery, maxBytes: options.maxBytes }, id);
      inputCache.clear();
      inputCache.set(id, input);
    }
    return input;
  };

  let finish: () => void = () => undefined;
  let abort: (err: Error) => void = () => undefined;
  const allDone = new Promise<void>((resolve, reject) => {
    finish = resolve;
    abort = reject;
  });

  // Findings are written as they are found, so a campaign that is stopped keeps what it found.
  const dir = options.outDir === null ? null : join(options.outDir, `seed-${options.seed}`);
  if (dir !== null) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  const save = (f: Finding, input: FuzzInput): void => {
    if (dir === null) return;
    for (const old of f.files) rmSync(old, { force: true });
    f.files = writeInput(join(dir, `${f.kind}-${f.number}-input-${input.id}`), input);
  };

  const record = (kind: Finding['kind'], id: number, crash: Crash): void => {
    const signature = kind === 'hang' ? `hang | ${crash.target}` : signatureOf(crash);
    const input = inputOf(id);
    const size = input.request !== null && crash.target.startsWith('route') ? input.request.body.length : input.raw.length;
    const f = findings.get(signature);
    if (f === undefined) {
      findings.set(signature, {
        kind,
        number: findings.size + 1,
        signature,
        target: crash.target,
        error: crash.error,
        stack: crash.stack,
        count: 1,
        firstId: id,
        smallestId: id,
        smallestBytes: size,
        steps: input.steps,
        files: [],
      });
      save(findings.get(signature)!, input);
    } else {
      f.count++;
      if (size < f.smallestBytes) {
        f.smallestId = id;
        f.smallestBytes = size;
        f.steps = input.steps;
        f.error = crash.error;
        f.stack = crash.stack;
        save(f, input);
      }
    }
  };

  const issue = (slot: Slot): void => {
    if (slot.next < slot.to || !slot.ready) return;
    if (nextId >= options.inputs || performance.now() >= deadline || options.signal?.aborted === true) {
      if (slots.every((s) => s.next >= s.to)) finish();
      return;
    }
    slot.next = nextId;
    slot.to = Math.min(nextId + BATCH, options.inputs);
    nextId = slot.to;
    slot.worker.postMessage({ type: 'run', from: slot.next, to: slot.to } satisfies ToWorker);
  };

  const spawn = (slot: Slot): void => {
    const settings: WorkerSettings = {
      seed: options.seed,
      routeEvery: options.routeEvery,
      maxBytes: options.maxBytes,
      dataDir: slot.dataDir,
      faults: options.faults,
    };
    // A worker that runs out of heap dies alone (ERR_WORKER_OUT_OF_MEMORY) instead of taking the campaign with it.
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: settings,
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
    slot.worker = worker;
    slot.ready = false;
    slot.retiring = false;
    slot.running = null;
    let failure: Crash | null = null;
    worker.on('message', (m: FromWorker) => {
      // A worker being replaced may still deliver messages; its inputs are already accounted for.
      if (slot.retiring || slot.worker !== worker) return;
      if (m.type === 'ready') {
        slot.ready = true;
        // A replaced worker resumes the rest of its predecessor's batch.
        if (slot.next < slot.to) worker.postMessage({ type: 'run', from: slot.next, to: slot.to } satisfies ToWorker);
        else issue(slot);
      } else if (m.type === 'start') {
        slot.running = { id: m.id, since: performance.now() };
      } else {
        slot.running = null;
        done++;
        // The main thread rebuilds an input only for findings: it has the CPU of one worker at most.
        if (m.throughRoute) routeInputs++;
        if (m.crashes.length > 0) crashes++;
        for (const c of m.crashes) record('crash', m.id, c);
        slot.next = m.id + 1;
        issue(slot);
      }
    });
    worker.on('error', (err) => {
      failure = {
        target: 'worker died',
        error: `${err.name}: ${err.message}`,
        stack: (err.stack ?? '').split('\n').slice(0, 12).join('\n'),
      };
    });
    slot.exited = new Promise<void>((resolve) => {
      worker.on('exit', () => {
        resolve();
        if (slot.retiring) return;
        const running = slot.running;
        if (running === null && slot.next >= slot.to && failure === null) return;
        // Died unasked: the running input (or, at start-up, none) is a crash; carry on without it.
        const crash = failure ?? { target: 'worker died', error: 'worker exited unexpectedly', stack: '' };
        if (running !== null) {
          done++;
          crashes++;
          record('crash', running.id, crash);
          slot.next = running.id + 1;
        } else if (slot.ready && slot.next > 0) {
          // Died between inputs (an error left behind by an earlier input's async work): blame the last one.
          crashes++;
          record('crash', slot.next - 1, { ...crash, target: `${crash.target} (after the input)` });
        } else {
          abort(new Error(`a fuzz worker failed before running any input: ${crash.error}\n${crash.stack}`));
          return;
        }
        spawn(slot);
      });
    });
  };

  const base = mkdtempSync(join(tmpdir(), 'hotpath-fuzz-'));
  for (let i = 0; i < options.workers; i++) {
    const slot = { dataDir: join(base, `worker-${i}`), ready: false, next: 0, to: 0, running: null, retiring: false } as unknown as Slot;
    mkdirSync(slot.dataDir);
    slots.push(slot);
    spawn(slot);
  }

  const progressEvery = options.progressMs ?? 10_000;
  let lastProgress = performance.now();
  const snapshot = (): CampaignProgress => ({
    inputs: done,
    seconds: (performance.now() - started) / 1000,
    crashes,
    hangs,
    peakRssBytes: peakRssBytes(),
  });
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const slot of slots) {
      const running = slot.running;
      if (running === null || now - running.since <= options.hangMs) continue;
      done++;
      hangs++;
      record('hang', running.id, {
        target: inputOf(running.id).request === null ? 'profile targets' : `route ${inputOf(running.id).request?.route}`,
        error: `input ran longer than ${options.hangMs} ms`,
        stack: '',
      });
      slot.next = running.id + 1;
      slot.running = null;
      slot.retiring = true;
      const old = slot.worker;
      void old.terminate().then(() => spawn(slot));
    }
    // Idle slots pick up work when the deadline check in issue() has not ended the campaign yet.
    for (const slot of slots) issue(slot);
    if (now - lastProgress >= progressEvery) {
      lastProgress = now;
      const progress = snapshot();
      options.onProgress?.(progress);
      if (dir !== null)
        writeSummary(dir, options, { seed: options.seed, ...progress, routeInputs, findings: [...findings.values()] }, true);
    }
  }, 50);

  try {
    await allDone;
  } finally {
    clearInterval(watchdog);
  }
  for (const slot of slots) {
    slot.retiring = true;
    slot.worker.postMessage({ type: 'stop' } satisfies ToWorker);
  }
  await Promise.all(slots.map((s) => s.exited));
  rmSync(base, { recursive: true, force: true });

  const result: CampaignResult = { seed: options.seed, ...snapshot(), routeInputs, findings: [...findings.values()] };
  if (dir !== null) writeSummary(dir, options, result, false);
  return result;
}

/**
 * Writes one input under `stem`: the bytes the profile functions got (`.bin`), the
 * uncompressed mutated profile (`.raw.bin`) and, for route inputs, the request
 * (`.request.json`, `.body.bin`). Returns the paths written.
 */
function writeInput(stem: string, input: FuzzInput): string[] {
  writeFileSync(`${stem}.bin`, input.bytes);
  writeFileSync(`${stem}.raw.bin`, input.raw);
  const files = [`${stem}.bin`, `${stem}.raw.bin`];
  if (input.request !== null) {
    const { body, ...rest } = input.request;
    writeFileSync(`${stem}.request.json`, `${JSON.stringify(rest, null, 2)}\n`);
    writeFileSync(`${stem}.body.bin`, body);
    files.push(`${stem}.request.json`, `${stem}.body.bin`);
  }
  return files;
}

/** Writes summary.json: the counts, every finding and the options; `partial` while the campaign runs. */
function writeSummary(dir: string, options: CampaignOptions, result: CampaignResult, partial: boolean): void {
  const text = JSON.stringify({ partial, ...result, options: { ...options, onProgress: undefined } }, null, 2);
  writeFileSync(join(dir, 'summary.json'), `${text}\n`);
}
