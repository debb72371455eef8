import { IngestError } from '../ingest/errors.js';
import { checkTag, DEFAULT_INTAKE_LIMITS } from '../ingest/limits.js';

/** One label set applied to some targets: from a static_configs entry or a file_sd file. */
export interface TargetGroup {
  /** Addresses as written: host:port, [ipv6]:port, or a host alone (the scheme's default port). */
  targets: string[];
  labels: Record<string, string>;
  /** Where the group was read ("static_configs" or the file's path), for the API and messages. */
  source: string;
}

/** A target to scrape: one address of one job with its labels. */
export interface Target {
  /** The job's name (job_name). */
  job: string;
  /** The address as written (Prometheus's `instance`). */
  address: string;
  labels: Record<string, string>;
  source: string;
}

/** host:port with a DNS name or IPv4 address, or [IPv6]:port; the port may be left out. */
const ADDRESS = /^(?:\[[0-9A-Fa-f:.]{2,45}(?:%[A-Za-z0-9_.-]{1,64})?\]|[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?)(?::(\d{1,5}))?$/;

/** Longest target address: "instance:" and the address fit in a tag (DEFAULT_INTAKE_LIMITS.maxTagLength). */
const MAX_ADDRESS_LENGTH = DEFAULT_INTAKE_LIMITS.maxTagLength - 'instance:'.length;

/** Returns why `address` cannot be a target address, or null when it is one. */
export function addressProblem(address: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    return `${JSON.stringify(address)} must be host:port without a scheme or path: put the scheme in "scheme" and a path in "path_prefix"`;
  }
  // It becomes the tag instance:<address>, which must fit in a tag's 200 characters.
  if (address.length > MAX_ADDRESS_LENGTH)
    return `${JSON.stringify(`${address.slice(0, 40)}…`)} is ${address.length} characters long; the limit is ${MAX_ADDRESS_LENGTH}`;
  const m = ADDRESS.exec(address);
  if (!m) return `${JSON.stringify(address.slice(0, 80))} is not host:port (for example 10.0.0.5:6060, api.internal:6060 or [::1]:6060)`;
  if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535))
    return `${JSON.stringify(address)} has port ${m[1]}: ports are 1 to 65535`;
  return null;
}

/** Label names as tags take them: what `hotpath upload` accepts as a tag key. */
const LABEL_NAME = /^[A-Za-z0-9_.\-/]{1,100}$/;

/** Returns why a label cannot become a tag, or null when it can (names starting with __ are internal and never become tags). */
export function labelProblem(name: string, value: string): string | null {
  if (!LABEL_NAME.test(name))
    return `label name ${JSON.stringify(name.slice(0, 80))} may only contain letters, digits and _.-/ (1 to 100 of them)`;
  try {
    checkTag(name, value, DEFAULT_INTAKE_LIMITS);
  } catch (err) {
    if (err instanceof IngestError) return `label ${name}: ${err.message}`;
    throw err;
  }
  return null;
}

/** Identity of a target: two targets with the same key are the same scrape, and keep their health across reloads. */
export function targetKey(target: Target): string {
  const labels = Object.keys(target.labels)
    .sort()
    .map((k) => [k, target.labels[k]]);
  return JSON.stringify([target.job, target.address, labels]);
}

/** The tags every scrape-level tag goes in first, in this order: what the store indexes and the UI shows first. */
const LEADING_TAGS = ['service', 'env', 'version', 'host', 'pgo'];

/**
 * Returns the tags of a target's profiles: its labels (service, env, version, host and pgo first,
 * then the rest by name; names starting with __ left out), then `job` and `instance` unless a
 * label sets them. Without a `service` label the job's name is the service, so every scraped
 * profile can be found and built into a default.pgo by service.
 */
export function targetTags(target: Target): Array<[string, string]> {
  const labels = { ...target.labels };
  if (labels.service === undefined || labels.service === '') labels.service = target.job;
  labels.job ??= target.job;
  labels.instance ??= target.address;
  const names = Object.keys(labels).filter((k) => !k.startsWith('__'));
  const rank = (k: string) => {
    const i = LEADING_TAGS.indexOf(k);
    return i < 0 ? LEADING_TAGS.length : i;
  };
  names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return names.filter((k) => labels[k] !== '').map((k) => [k, labels[k]]);
}
