import { type FSWatcher, watch } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileSdConfig } from './config.js';
import { addressProblem, labelProblem, type TargetGroup } from './target.js';
import { ConfigFileError, YamlReader } from './yaml-reader.js';

/** Largest target file read; a larger one is reported and its last good targets kept. */
export const MAX_TARGET_FILE_BYTES = 4 * 1024 * 1024;
/** Most files one file_sd_configs entry's patterns may match. */
const MAX_MATCHED_FILES = 1000;
const MAX_GROUPS = 1000;
const MAX_TARGETS_PER_FILE = 10_000;
const MAX_LABELS = 64;
/** Changes seen by the watcher within this time are read once. */
const SETTLE_MS = 50;

/**
 * Returns the target groups of a file_sd file, JSON or YAML (Prometheus's format: a list of
 * `{targets: [host:port, ...], labels: {name: value}}`). Throws ConfigFileError listing every
 * problem with its line; an empty file is a problem (it is usually one being written), an empty
 * list is not.
 */
export function parseTargetFile(text: string, file: string): TargetGroup[] {
  const { reader: r, root } = YamlReader.parse(text, file);
  r.finish();
  if (r.isNull(root)) throw new ConfigFileError(file, [`${file}: is empty: write a list of {targets: [...], labels: {...}} ([] for none)`]);
  const items = r.list(root, 'target groups', MAX_GROUPS);
  const groups: TargetGroup[] = [];
  let count = 0;
  items?.forEach((item, i) => {
    const f = r.fields(item, `[${i}]`, ['targets', 'labels'] as const);
    if (f === null) return;
    const targets = r.stringList(f.targets, `[${i}].targets`, MAX_TARGETS_PER_FILE) ?? [];
    count += targets.length;
    if (count > MAX_TARGETS_PER_FILE) {
      r.fail(f.targets, `[${i}].targets`, `the file lists more than ${MAX_TARGETS_PER_FILE} targets`);
      return;
    }
    for (const t of targets) {
      const problem = addressProblem(t.value);
      if (problem !== null) r.fail(t.node, `[${i}].targets`, problem);
    }
    const labels: Record<string, string> = {};
    for (const { key, value, node } of r.stringMap(f.labels, `[${i}].labels`, MAX_LABELS) ?? []) {
      const problem = labelProblem(key, value);
      if (problem !== null) r.fail(node, `[${i}].labels`, problem);
      else labels[key] = value;
    }
    groups.push({ targets: targets.map((t) => t.value), labels, source: file });
  });
  r.finish();
  return groups;
}

/** Returns a RegExp for a file name pattern with `*`, `?` and `[...]` (as Go's filepath.Match reads them). */
function patternRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        out += `[${body.startsWith('^') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** A problem with one target file: reported in the API and /metrics until the file is good again. */
export interface TargetFileError {
  file: string;
  error: string;
  /** When it was first seen, ms since the epoch. */
  since: number;
}

interface FileState {
  text: string;
  groups: TargetGroup[];
}

/**
 * The targets of one file_sd_configs entry, kept current: the files are re-read when a watch of
 * their directories reports a change, and every refresh interval in any case (watches miss
 * changes on some file systems and do not exist for directories created later). A file that
 * fails to read or parse keeps its last good targets and its error is reported until it is
 * good again; a file that is gone takes its targets with it. `onChange` is called after a
 * reload that changed the targets.
 */
export class FileTargetWatcher {
  private readonly files = new Map<string, FileState>();
  private readonly problems = new Map<string, TargetFileError>();
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  /** `onProblem` hears of each new or changed problem once (to log it), not at every re-read. */
  constructor(
    private readonly config: FileSdConfig,
    private readonly onChange: () => void,
    private readonly onProblem: (problem: TargetFileError) => void = () => undefined,
  ) {}

  /** Reads the files once, then starts watching; resolves after the first read. */
  async start(): Promise<void> {
    await this.reload();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.reload(), this.config.refreshIntervalMs);
    this.timer.unref();
  }

  /** The targets of every file, as last read successfully. */
  groups(): TargetGroup[] {
    return [...this.files.values()].flatMap((f) => f.groups);
  }

  /** The files that could not be used at the last read. */
  errors(): TargetFileError[] {
    return [...this.problems.values()];
  }

  /** Stops watching and re-reading; resolves once a read in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.settle) clearTimeout(this.settle);
    this.timer = null;
    this.settle = null;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.running;
  }

  /** Re-reads every file now (one read at a time; a request during a read runs once more after it). */
  reload(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          let changed = false;
          try {
            changed = await this.readAll();
          } catch (err) {
            // A file system error no single file explains (say, the directory turned unreadable): keep the targets, say why.
            this.problems.set(this.config.files[0] ?? '', {
              file: this.config.files.join(', '),
              error: `cannot be read: ${(err as Error).message}`,
              since: Date.now(),
            });
          }
          if (changed) this.onChange();
        } while (this.again && !this.stopped);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private watchDirectory(dir: string): void {
    if (this.watchers.has(dir) || this.stopped) return;
    try {
      const w = watch(dir, { persistent: false }, () => {
        if (this.stopped || this.settle) return;
        this.settle = setTimeout(() => {
          this.settle = null;
          void this.reload();
        }, SETTLE_MS);
      });
      // A directory removed while watched: the periodic read carries on and watches it again once it is back.
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch {
      // No such directory yet: the periodic read finds the files when they appear.
    }
  }

  /** Returns the files the patterns match now, and a problem per pattern that could not be listed. */
  private async matchFiles(): Promise<{ files: string[]; problems: Map<string, string> }> {
    const files = new Set<string>();
    const problems = new Map<string, string>();
    for (const pattern of this.config.files) {
      const dir = dirname(pattern);
      this.watchDirectory(dir);
      const name = basename(pattern);
      if (!/[*?[]/.test(name)) {
        files.add(pattern);
        continue;
      }
      let entries: string[];
      try {
        entries = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.set(pattern, `cannot list ${dir}: ${(err as Error).message}`);
        continue;
      }
      const re = patternRegExp(name);
      for (const entry of entries.sort()) {
        if (!re.test(entry)) continue;
        if (files.size >= MAX_MATCHED_FILES) {
          problems.set(pattern, `matches more than ${MAX_MATCHED_FILES} files; only the first ${MAX_MATCHED_FILES} are read`);
          break;
        }
        files.add(join(dir, entry));
      }
    }
    return { files: [...files], problems };
  }

  /** Reads every matched file; returns whether the targets changed. */
  private async readAll(): Promise<boolean> {
    const { files, problems } = await this.matchFiles();
    let changed = false;
    const now = Date.now();
    const report = (file: string, error: string) => {
      const old = this.problems.get(file);
      // Every message names its file; the parser's already do.
      const message = error.startsWith(file) ? error : `${file}: ${error}`;
      if (old?.error === message) return;
      const problem = { file, error: message, since: now };
      this.problems.set(file, problem);
      this.onProblem(problem);
    };
    const seenProblems = new Set<string>(problems.keys());
    for (const [pattern, error] of problems) report(pattern, error);
    for (const file of files) {
      const read = await readBounded(file);
      if (this.stopped) return false;
      if ('missing' in read) {
        if (this.files.delete(file)) changed = true;
        // A file named without a pattern is expected to exist.
        if (this.config.files.includes(file)) {
          report(file, 'does not exist; its targets are not scraped until it does');
          seenProblems.add(file);
        }
        continue;
      }
      if ('error' in read) {
        report(file, `${read.error}; its last good targets are kept`);
        seenProblems.add(file);
        continue;
      }
      const old = this.files.get(file);
      if (old?.text === read.text) continue;
      try {
        const groups = parseTargetFile(read.text, file);
        this.files.set(file, { text: read.text, groups });
        changed = true;
      } catch (err) {
        // Whatever the parser throws on a hostile file is that file's problem, never the server's.
        const message = err instanceof ConfigFileError ? err.message : `${file}: cannot be read as YAML or JSON: ${(err as Error).message}`;
        report(file, `${message}${old ? ' (its last good targets are kept)' : ''}`);
        seenProblems.add(file);
      }
    }
    for (const file of [...this.files.keys()]) {
      if (!files.includes(file)) {
        this.files.delete(file);
        changed = true;
      }
    }
    for (const file of [...this.problems.keys()]) if (!seenProblems.has(file)) this.problems.delete(file);
    return changed;
  }
}

/** Reads a regular file of at most MAX_TARGET_FILE_BYTES (checked first, so a FIFO or a device is never opened). */
async function readBounded(file: string): Promise<{ text: string } | { missing: true } | { error: string }> {
  let handle: Awaited<ReturnType<typeof open>>;
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return { error: 'is not a regular file' };
    if (info.size > MAX_TARGET_FILE_BYTES)
      return { error: `is ${info.size} bytes, the limit for a target file is ${MAX_TARGET_FILE_BYTES}` };
    size = info.size;
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { error: `cannot read: ${(err as Error).message}` };
  }
  try {
    // One byte more than its size tells a file that grew since the stat (it is being written).
    const buffer = Buffer.alloc(size + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > size) return { error: 'changed while being read (read again at the next change)' };
    }
    return { text: buffer.subarray(0, length).toString('utf8') };
  } catch (err) {
    return { error: `cannot read: ${(err as Error).message}` };
  } finally {
    await handle.close();
  }
}
