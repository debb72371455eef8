import { readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import type { Node } from 'yaml';
import { formatConfigDuration, parseConfigDuration, parseConfigSize } from './duration.js';
import { addressProblem, labelProblem, type TargetGroup } from './target.js';
import { ConfigFileError, quote, YamlReader } from './yaml-reader.js';

/** A secret given inline or read from a file at every scrape (so a rotated token is picked up). */
export type Secret = { value: string } | { file: string };

/** How a job authenticates to its targets. */
export type TargetAuth =
  | { kind: 'basic'; username: Secret; password: Secret }
  /** An Authorization header "<type> <credentials>" (type Bearer unless given). */
  | { kind: 'authorization'; type: string; credentials: Secret };

/** TLS towards the targets (scheme https); certificates are read when the config is loaded. */
export interface TargetTls {
  ca: Buffer | null;
  cert: Buffer | null;
  key: Buffer | null;
  insecureSkipVerify: boolean;
  serverName: string | null;
}

/** A file_sd_configs entry: files (patterns allowed in the file name) re-read when they change. */
export interface FileSdConfig {
  /** Absolute paths; `*`, `?` and `[...]` may appear in the last element. */
  files: string[];
  refreshIntervalMs: number;
}

/** The profiles besides CPU a job may collect, each fetched from /debug/pprof/<name>. */
export const EXTRA_PROFILES = ['heap', 'goroutine', 'allocs', 'block', 'mutex'] as const;
export type ExtraProfile = (typeof EXTRA_PROFILES)[number];

/** One scrape job, every default filled in. */
export interface ScrapeJob {
  name: string;
  intervalMs: number;
  /** Timeout of each request beyond the CPU profile's own seconds (the CPU request may take profileSeconds + timeoutMs). */
  timeoutMs: number;
  /** Seconds of each CPU profile (the `seconds` parameter of /debug/pprof/profile). */
  profileSeconds: number;
  extraProfiles: ExtraProfile[];
  scheme: 'http' | 'https';
  /** Prepended to /debug/pprof/... (for a service that mounts the handlers elsewhere); '' by default. */
  pathPrefix: string;
  auth: TargetAuth | null;
  tls: TargetTls | null;
  /** Largest response accepted, in bytes; a larger one is cut off and the scrape fails. */
  bodySizeLimit: number;
  /** Longest wait after failures (the backoff doubles up to it). */
  maxBackoffMs: number;
  staticGroups: TargetGroup[];
  fileSd: FileSdConfig[];
  /** global.external_labels: added to every target's labels (a target's own label wins). */
  externalLabels: Record<string, string>;
}

/** A whole scrape config: `hotpath serve --scrape FILE`. */
export interface ScrapeConfig {
  file: string;
  /** Scrapes running at once across all jobs; more wait for a slot. */
  maxConcurrentScrapes: number;
  jobs: ScrapeJob[];
}

export interface ScrapeConfigOptions {
  /** The body size limit of jobs that do not set body_size_limit (the server's --max-body-mb). */
  defaultBodySizeLimit: number;
  /** Reads a certificate or key file (tests replace it). */
  readFile?: (path: string) => Buffer;
}

/** Largest config file read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_JOBS = 1000;
const MAX_GROUPS = 1000;
const MAX_TARGETS_PER_GROUP = 10_000;
const MAX_LABELS = 64;
const MAX_FILE_PATTERNS = 100;
/** setTimeout's limit: longer waits would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const DEFAULTS = {
  intervalMs: 60_000,
  timeoutMs: 10_000,
  profileSeconds: 10,
  maxBackoffMs: 10 * 60_000,
  refreshIntervalMs: 5 * 60_000,
  maxConcurrentScrapes: 64,
};

const ROOT_FIELDS = ['global', 'scrape_configs'] as const;
const GLOBAL_FIELDS = ['scrape_interval', 'scrape_timeout', 'profile_seconds', 'external_labels', 'max_concurrent_scrapes'] as const;
const JOB_FIELDS = [
  'job_name',
  'scrape_interval',
  'scrape_timeout',
  'profile_seconds',
  'profiles',
  'scheme',
  'path_prefix',
  'basic_auth',
  'authorization',
  'bearer_token',
  'bearer_token_file',
  'tls_config',
  'body_size_limit',
  'max_backoff',
  'static_configs',
  'file_sd_configs',
] as const;
const STATIC_FIELDS = ['targets', 'labels'] as const;
const FILE_SD_FIELDS = ['files', 'refresh_interval'] as const;
const BASIC_AUTH_FIELDS = ['username', 'username_file', 'password', 'password_file'] as const;
const AUTHORIZATION_FIELDS = ['type', 'credentials', 'credentials_file'] as const;
const TLS_FIELDS = ['ca_file', 'cert_file', 'key_file', 'insecure_skip_verify', 'server_name'] as const;

/**
 * Reads a scrape config file (Prometheus/Parca `scrape_configs` form). Throws ConfigFileError
 * listing every problem with its line, column and field when the file cannot be read or is
 * not a valid config; never returns a config with a field it did not understand.
 */
export function loadScrapeConfig(file: string, options: ScrapeConfigOptions): ScrapeConfig {
  const path = resolve(file);
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_BYTES) {
      throw new ConfigFileError(file, [`${file}: is ${bytes.length} bytes, the limit for a scrape config is ${MAX_CONFIG_BYTES}`]);
    }
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof ConfigFileError) throw err;
    throw new ConfigFileError(file, [`${file}: cannot read the scrape config: ${(err as Error).message}`]);
  }
  return parseScrapeConfig(text, path, options);
}

/**
 * Parses the text of a scrape config whose path is `file` (relative paths in it are taken from
 * its directory). Throws ConfigFileError as loadScrapeConfig does.
 */
export function parseScrapeConfig(text: string, file: string, options: ScrapeConfigOptions): ScrapeConfig {
  const { reader, root } = YamlReader.parse(text, file);
  const config = new ConfigParser(reader, dirname(file), options).config(root);
  reader.finish();
  if (config === null) throw new ConfigFileError(file, [`${file}: no scrape config could be read`]);
  return config;
}

class ConfigParser {
  private readonly readFile: (path: string) => Buffer;
  constructor(
    private readonly r: YamlReader,
    private readonly baseDir: string,
    private readonly options: ScrapeConfigOptions,
  ) {
    this.readFile = options.readFile ?? ((p) => readFileSync(p));
  }

  config(root: Node | null): ScrapeConfig | null {
    if (this.r.failed) return null;
    if (this.r.isNull(root)) {
      this.r.fail(root, 'scrape config', 'is empty: it needs scrape_configs (a list of jobs)');
      return null;
    }
    const top = this.r.fields(root, 'scrape config', ROOT_FIELDS);
    if (top === null) return null;
    const g = this.r.fields(top.global, 'global', GLOBAL_FIELDS) ?? {};
    const globalInterval = this.duration(g.scrape_interval, 'global.scrape_interval', 1000, MAX_TIMER_MS);
    const globalTimeout = this.duration(g.scrape_timeout, 'global.scrape_timeout', 1, MAX_TIMER_MS);
    const globalSeconds = this.profileSeconds(g.profile_seconds, 'global.profile_seconds');
    const externalLabels = this.labels(g.external_labels, 'global.external_labels');
    const maxConcurrentScrapes =
      this.integer(g.max_concurrent_scrapes, 'global.max_concurrent_scrapes', 1, 10_000) ?? DEFAULTS.maxConcurrentScrapes;
    const items = this.r.list(top.scrape_configs, 'scrape_configs', MAX_JOBS);
    if (items === null) {
      if (this.r.isNull(top.scrape_configs)) this.r.fail(top.scrape_configs ?? root, 'scrape_configs', 'is missing: list at least one job');
      return null;
    }
    if (items.length === 0) this.r.fail(top.scrape_configs, 'scrape_configs', 'is empty: list at least one job');
    const jobs: ScrapeJob[] = [];
    const names = new Map<string, number>();
    items.forEach((item, i) => {
      const job = this.job(item, i, {
        intervalMs: globalInterval ?? DEFAULTS.intervalMs,
        timeoutMs: globalTimeout,
        profileSeconds: globalSeconds ?? DEFAULTS.profileSeconds,
        externalLabels: externalLabels ?? {},
      });
      if (job === null) return;
      const earlier = names.get(job.name);
      if (earlier !== undefined)
        this.r.fail(
          item,
          `scrape_configs[${i}]`,
          `job_name ${quote(job.name)} is also the name of scrape_configs[${earlier}]: names must be unique`,
        );
      names.set(job.name, i);
      jobs.push(job);
    });
    return { file: this.r.file, maxConcurrentScrapes, jobs };
  }

  private job(
    node: Node,
    index: number,
    inherited: { intervalMs: number; timeoutMs: number | null; profileSeconds: number; externalLabels: Record<string, string> },
  ): ScrapeJob | null {
    const f = this.r.fields(node, `scrape_configs[${index}]`, JOB_FIELDS, ' (see "Scrape net/http/pprof" in the README)');
    if (f === null) return null;
    const name = this.r.string(f.job_name, `scrape_configs[${index}].job_name`);
    if (name === null || name === '') {
      this.r.fail(f.job_name ?? node, `scrape_configs[${index}]`, 'job_name is missing: every job needs a name (it becomes the job tag)');
      return null;
    }
    const p = `job ${quote(name)}`;
    const labelTrouble = labelProblem('job', name);
    if (labelTrouble !== null) this.r.fail(f.job_name, `${p}: job_name`, labelTrouble);
    const intervalMs = this.duration(f.scrape_interval, `${p}: scrape_interval`, 1000, MAX_TIMER_MS) ?? inherited.intervalMs;
    const ownTimeout = this.duration(f.scrape_timeout, `${p}: scrape_timeout`, 1, MAX_TIMER_MS);
    if (ownTimeout !== null && ownTimeout > intervalMs) {
      this.r.fail(
        f.scrape_timeout,
        `${p}: scrape_timeout`,
        `(${formatConfigDuration(ownTimeout)}) must not be longer than scrape_interval (${formatConfigDuration(intervalMs)})`,
      );
    }
    // As in Prometheus, an inherited timeout longer than the job's interval is cut to the interval.
    const timeoutMs = ownTimeout ?? Math.min(inherited.timeoutMs ?? DEFAULTS.timeoutMs, intervalMs);
    const profileSeconds = this.profileSeconds(f.profile_seconds, `${p}: profile_seconds`) ?? inherited.profileSeconds;
    if (profileSeconds * 1000 > intervalMs) {
      this.r.fail(
        f.profile_seconds ?? f.scrape_interval ?? node,
        `${p}: profile_seconds`,
        `(${profileSeconds}s) must not be longer than scrape_interval (${formatConfigDuration(intervalMs)}): each CPU profile must end before the next scrape`,
      );
    }
    const extraProfiles = this.profiles(f.profiles, `${p}: profiles`);
    const schemeText = this.r.string(f.scheme, `${p}: scheme`) ?? 'http';
    if (schemeText !== 'http' && schemeText !== 'https')
      this.r.fail(f.scheme, `${p}: scheme`, `must be http or https, got ${quote(schemeText)}`);
    const scheme = schemeText === 'https' ? 'https' : 'http';
    let pathPrefix = this.r.string(f.path_prefix, `${p}: path_prefix`) ?? '';
    if (pathPrefix !== '' && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1000}$/.test(pathPrefix)) {
      this.r.fail(f.path_prefix, `${p}: path_prefix`, `must be a URL path starting with /, got ${quote(pathPrefix)}`);
    }
    pathPrefix = pathPrefix.replace(/\/+$/, '');
    const auth = this.auth(f, p);
    const tls = f.tls_config === undefined ? null : this.tls(f.tls_config, `${p}: tls_config`);
    if (tls !== null && scheme !== 'https') {
      this.r.fail(f.tls_config, `${p}: tls_config`, 'is set but scheme is http: add "scheme: https" or remove tls_config');
    }
    let bodySizeLimit = this.options.defaultBodySizeLimit;
    const sizeText = this.r.string(f.body_size_limit, `${p}: body_size_limit`);
    if (sizeText !== null) {
      const size = parseConfigSize(sizeText);
      if (size === null || size < 1024)
        this.r.fail(f.body_size_limit, `${p}: body_size_limit`, `must be a size of at least 1KB such as 64MB, got ${quote(sizeText)}`);
      else bodySizeLimit = size;
    }
    const maxBackoffMs = Math.max(
      intervalMs,
      this.duration(f.max_backoff, `${p}: max_backoff`, 1000, MAX_TIMER_MS) ?? DEFAULTS.maxBackoffMs,
    );
    const staticGroups = this.staticConfigs(f.static_configs, `${p}: static_configs`);
    const fileSd = this.fileSdConfigs(f.file_sd_configs, `${p}: file_sd_configs`);
    if (f.static_configs === undefined && f.file_sd_configs === undefined) {
      this.r.fail(node, p, 'has no targets: add static_configs (targets: [host:port]) or file_sd_configs (files: [targets.json])');
    }
    return {
      name,
      intervalMs,
      timeoutMs,
      profileSeconds,
      extraProfiles,
      scheme,
      pathPrefix,
      auth,
      tls,
      bodySizeLimit,
      maxBackoffMs,
      staticGroups,
      fileSd,
      externalLabels: inherited.externalLabels,
    };
  }

  private duration(node: Node | undefined, path: string, minMs: number, maxMs: number): number | null {
    const text = this.r.string(node, path);
    if (text === null) return null;
    const ms = parseConfigDuration(text);
    if (ms === null) {
      const hint = /^\d+$/.test(text) ? ` (a duration needs a unit: ${text}s)` : '';
      this.r.fail(node, path, `must be a duration such as 15s, 1m or 1h30m, got ${quote(text)}${hint}`);
      return null;
    }
    if (ms < minMs || ms > maxMs) {
      this.r.fail(node, path, `must be from ${formatConfigDuration(minMs)} to ${formatConfigDuration(maxMs)}, got ${quote(text)}`);
      return null;
    }
    return ms;
  }

  private integer(node: Node | undefined, path: string, min: number, max: number): number | null {
    const text = this.r.string(node, path);
    if (text === null) return null;
    if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
      this.r.fail(node, path, `must be a whole number from ${min} to ${max}, got ${quote(text)}`);
      return null;
    }
    return Number(text);
  }

  /** Whole seconds, written 10 or 10s (net/http/pprof reads only whole seconds). */
  private profileSeconds(node: Node | undefined, path: string): number | null {
    const text = this.r.string(node, path);
    if (text === null) return null;
    const ms = /^\d{1,9}$/.test(text) ? Number(text) * 1000 : parseConfigDuration(text);
    if (ms === null || ms % 1000 !== 0 || ms < 1000 || ms > 3600_000) {
      this.r.fail(node, path, `must be whole seconds from 1 to 3600 (10 or 10s), got ${quote(text)}`);
      return null;
    }
    return ms / 1000;
  }

  private bool(node: Node | undefined, path: string): boolean | null {
    const text = this.r.string(node, path);
    if (text === null) return null;
    if (/^(true|True|TRUE)$/.test(text)) return true;
    if (/^(false|False|FALSE)$/.test(text)) return false;
    this.r.fail(node, path, `must be true or false, got ${quote(text)}`);
    return null;
  }

  private profiles(node: Node | undefined, path: string): ExtraProfile[] {
    const items = this.r.stringList(node, path, 16);
    if (items === null) return [];
    const out: ExtraProfile[] = [];
    for (const { value, node: item } of items) {
      if (value === 'cpu') continue;
      if (!(EXTRA_PROFILES as readonly string[]).includes(value)) {
        this.r.fail(item, path, `unknown profile ${quote(value)}: the profiles are cpu (always), ${EXTRA_PROFILES.join(', ')}`);
        continue;
      }
      if (!out.includes(value as ExtraProfile)) out.push(value as ExtraProfile);
    }
    return out;
  }

  private labels(node: Node | undefined, path: string): Record<string, string> | null {
    const entries = this.r.stringMap(node, path, MAX_LABELS);
    if (entries === null) return null;
    const out: Record<string, string> = {};
    for (const { key, value, node: at } of entries) {
      const problem = labelProblem(key, value);
      if (problem !== null) this.r.fail(at, path, problem);
      else out[key] = value;
    }
    return out;
  }

  private staticConfigs(node: Node | undefined, path: string): TargetGroup[] {
    const items = this.r.list(node, path, MAX_GROUPS);
    if (items === null) return [];
    const groups: TargetGroup[] = [];
    items.forEach((item, i) => {
      const f = this.r.fields(item, `${path}[${i}]`, STATIC_FIELDS);
      if (f === null) return;
      const targets = this.r.stringList(f.targets, `${path}[${i}].targets`, MAX_TARGETS_PER_GROUP);
      if (targets === null || targets.length === 0) {
        if (targets !== null || this.r.isNull(f.targets))
          this.r.fail(f.targets ?? item, `${path}[${i}].targets`, 'is missing or empty: list host:port addresses');
        return;
      }
      for (const t of targets) {
        const problem = addressProblem(t.value);
        if (problem !== null) this.r.fail(t.node, `${path}[${i}].targets`, problem);
      }
      const labels = this.labels(f.labels, `${path}[${i}].labels`) ?? {};
      groups.push({ targets: targets.map((t) => t.value), labels, source: 'static_configs' });
    });
    return groups;
  }

  private fileSdConfigs(node: Node | undefined, path: string): FileSdConfig[] {
    const items = this.r.list(node, path, MAX_GROUPS);
    if (items === null) return [];
    const out: FileSdConfig[] = [];
    items.forEach((item, i) => {
      const f = this.r.fields(item, `${path}[${i}]`, FILE_SD_FIELDS);
      if (f === null) return;
      const files = this.r.stringList(f.files, `${path}[${i}].files`, MAX_FILE_PATTERNS);
      if (files === null || files.length === 0) {
        this.r.fail(f.files ?? item, `${path}[${i}].files`, 'is missing or empty: list target files (.json, .yml or .yaml)');
        return;
      }
      const resolved: string[] = [];
      for (const { value, node: at } of files) {
        const full = isAbsolute(value) ? value : resolve(this.baseDir, value);
        if (/[*?[]/.test(dirname(full))) {
          this.r.fail(
            at,
            `${path}[${i}].files`,
            `${quote(value)}: patterns (*, ?, [...]) may only be in the file name, not in its directories`,
          );
        } else if (!['.json', '.yml', '.yaml'].includes(extname(basename(full)))) {
          this.r.fail(at, `${path}[${i}].files`, `${quote(value)} must end in .json, .yml or .yaml (the file's format)`);
        } else resolved.push(full);
      }
      const refreshIntervalMs =
        this.duration(f.refresh_interval, `${path}[${i}].refresh_interval`, 100, MAX_TIMER_MS) ?? DEFAULTS.refreshIntervalMs;
      out.push({ files: resolved, refreshIntervalMs });
    });
    return out;
  }

  private secret(value: Node | undefined, file: Node | undefined, path: string, valueName: string, fileName: string): Secret | null {
    const inline = this.r.string(value, `${path}.${valueName}`);
    const fromFile = this.r.string(file, `${path}.${fileName}`);
    if (inline !== null && fromFile !== null) {
      this.r.fail(file, path, `give ${valueName} or ${fileName}, not both`);
      return null;
    }
    if (fromFile !== null) {
      const full = isAbsolute(fromFile) ? fromFile : resolve(this.baseDir, fromFile);
      try {
        this.readFile(full);
      } catch (err) {
        this.r.fail(file, `${path}.${fileName}`, `cannot read ${quote(fromFile)}: ${(err as Error).message}`);
      }
      return { file: full };
    }
    return inline === null ? null : { value: inline };
  }

  private auth(f: Partial<Record<(typeof JOB_FIELDS)[number], Node>>, p: string): TargetAuth | null {
    const given = (['basic_auth', 'authorization', 'bearer_token', 'bearer_token_file'] as const).filter((k) => f[k] !== undefined);
    if (given.length > 1 && !(given.length === 2 && given.includes('bearer_token') && given.includes('bearer_token_file'))) {
      this.r.fail(f[given[1]], p, `give one way to authenticate, not ${given.join(' and ')}`);
      return null;
    }
    if (f.basic_auth !== undefined) {
      const b = this.r.fields(f.basic_auth, `${p}: basic_auth`, BASIC_AUTH_FIELDS);
      if (b === null) return null;
      const username = this.secret(b.username, b.username_file, `${p}: basic_auth`, 'username', 'username_file');
      if (username === null) {
        this.r.fail(f.basic_auth, `${p}: basic_auth`, 'username is missing');
        return null;
      }
      const password = this.secret(b.password, b.password_file, `${p}: basic_auth`, 'password', 'password_file') ?? { value: '' };
      return { kind: 'basic', username, password };
    }
    if (f.authorization !== undefined) {
      const a = this.r.fields(f.authorization, `${p}: authorization`, AUTHORIZATION_FIELDS);
      if (a === null) return null;
      const type = this.r.string(a.type, `${p}: authorization.type`) ?? 'Bearer';
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(type))
        this.r.fail(a.type, `${p}: authorization.type`, `must be one word such as Bearer, got ${quote(type)}`);
      const credentials = this.secret(a.credentials, a.credentials_file, `${p}: authorization`, 'credentials', 'credentials_file');
      if (credentials === null) {
        this.r.fail(f.authorization, `${p}: authorization`, 'credentials (or credentials_file) is missing');
        return null;
      }
      return { kind: 'authorization', type, credentials };
    }
    if (f.bearer_token !== undefined || f.bearer_token_file !== undefined) {
      const credentials = this.secret(f.bearer_token, f.bearer_token_file, p, 'bearer_token', 'bearer_token_file');
      if (credentials === null) {
        this.r.fail(f.bearer_token ?? f.bearer_token_file, `${p}: bearer_token`, 'is empty');
        return null;
      }
      return { kind: 'authorization', type: 'Bearer', credentials };
    }
    return null;
  }

  private tls(node: Node, path: string): TargetTls | null {
    const f = this.r.fields(node, path, TLS_FIELDS);
    if (f === null) return null;
    const read = (field: 'ca_file' | 'cert_file' | 'key_file'): Buffer | null => {
      const name = this.r.string(f[field], `${path}.${field}`);
      if (name === null) return null;
      const full = isAbsolute(name) ? name : resolve(this.baseDir, name);
      try {
        return this.readFile(full);
      } catch (err) {
        this.r.fail(f[field], `${path}.${field}`, `cannot read ${quote(name)}: ${(err as Error).message}`);
        return null;
      }
    };
    const ca = read('ca_file');
    const cert = read('cert_file');
    const key = read('key_file');
    if ((f.cert_file === undefined) !== (f.key_file === undefined)) {
      this.r.fail(f.cert_file ?? f.key_file, path, 'cert_file and key_file go together: give both for a client certificate, or neither');
    }
    const serverName = this.r.string(f.server_name, `${path}.server_name`);
    return {
      ca,
      cert,
      key,
      insecureSkipVerify: this.bool(f.insecure_skip_verify, `${path}.insecure_skip_verify`) ?? false,
      serverName: serverName === '' ? null : serverName,
    };
  }
}

export { ConfigFileError };
