import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { parseDatadogUpload, parseTagList } from './datadog.js';
import { IngestError } from './errors.js';
import { countListItems, DEFAULT_INTAKE_LIMITS } from './limits.js';
import { parsePyroscopeUpload } from './pyroscope.js';
import type { IntakeRequest } from './record.js';
import { parseUpload } from './upload.js';

const limits = DEFAULT_INTAKE_LIMITS;

/** Asserts that `parse` throws an IngestError with `status` whose message matches `pattern`. */
function refused(parse: () => unknown, status: number, pattern: RegExp): void {
  assert.throws(parse, (err: unknown) => {
    assert.ok(err instanceof IngestError, `expected IngestError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.equal(err.status, status, err.message);
    return true;
  });
}

/** `count` distinct tags "t0:v0,t1:v1,...". */
const manyTags = (count: number): string => Array.from({ length: count }, (_, i) => `t${i}:v${i}`).join(',');

describe('dd-trace-go uploads over the intake limits', () => {
  const recorded = JSON.parse(readFileSync(fixture('intake/dd-trace-go-v2.12.0.json'), 'utf8')) as { headers: Record<string, string> };
  const body = readFileSync(fixture('intake/dd-trace-go-v2.12.0.multipart'));
  const text = body.toString('latin1');
  const eventAt = text.indexOf('{"start"');
  const eventEnd = text.indexOf('\r\n--', eventAt);
  const event = JSON.parse(text.slice(eventAt, eventEnd)) as Record<string, unknown>;
  /** The recorded upload with event.json fields replaced (or `raw` as the whole event.json). */
  const upload = (fields: Record<string, unknown>, raw?: string, headers: Record<string, string> = {}): IntakeRequest => {
    const json = raw ?? JSON.stringify({ ...event, ...fields });
    const replaced = Buffer.concat([
      Buffer.from(text.slice(0, eventAt), 'latin1'),
      Buffer.from(json),
      Buffer.from(text.slice(eventEnd), 'latin1'),
    ]);
    return { headers: { ...recorded.headers, ...headers }, body: replaced };
  };
  const parse = (req: IntakeRequest) => () => parseDatadogUpload(req, limits);

  it('accepts the recorded upload, which is within every limit', () => {
    assert.equal(parseDatadogUpload(upload({}), limits).tags.length, 16);
  });

  it('refuses a million tags: event.json is over its size limit before anything is parsed', () => {
    refused(parse(upload({ tags_profiler: manyTags(1_000_000) })), 413, /^event\.json is too large: \d+ bytes, the limit is 1048576$/);
  });

  it('refuses more tags than the limit, counted before the list is split', () => {
    refused(parse(upload({ tags_profiler: manyTags(257) })), 413, /^too many tags: 257, the limit is 256 \(event\.json tags_profiler\)$/);
    // Blank items do not count.
    assert.equal(parseDatadogUpload(upload({ tags_profiler: `${manyTags(256)},,, ,` }), limits).tags.length, 256);
  });

  it('counts agent tags from X-Datadog-Additional-Tags with the client tags', () => {
    const headers = { 'x-datadog-additional-tags': manyTags(300).replaceAll('t', 'agent') };
    refused(parse(upload({}, undefined, headers)), 413, /^too many tags: 300, the limit is 256 \(X-Datadog-Additional-Tags\)$/);
    const some = { 'x-datadog-additional-tags': manyTags(250).replaceAll('t', 'agent') };
    refused(parse(upload({}, undefined, some)), 413, /^too many tags: 266, the limit is 256$/);
  });

  it('refuses a tag longer than 200 characters as key:value', () => {
    const long = `team:${'x'.repeat(195)}`;
    assert.equal(parseDatadogUpload(upload({ tags_profiler: long }), limits).tags.length, 1);
    refused(parse(upload({ tags_profiler: `${long}y` })), 413, /^tag "team" is 201 characters long as key:value, the limit is 200$/);
  });

  it('refuses control characters in tag values and keys, naming the tag', () => {
    refused(
      parse(upload({ tags_profiler: 'service:web,env:prod\u0000staging' })),
      400,
      /^tag "env" has a control character \(U\+0000\) in its value/,
    );
    refused(parse(upload({ tags_profiler: 'env:prod\u007f' })), 400, /\(U\+007F\) in its value/);
    refused(parse(upload({ tags_profiler: 'en\u001bv:prod' })), 400, /^tag "en\\u001bv" has a control character \(U\+001B\) in its key/);
    refused(parse(upload({}, undefined, { 'x-datadog-additional-tags': 'zone:a\tb' })), 400, /tag "zone" .*\(U\+0009\)/);
  });

  it('refuses more endpoint_counts entries than the limit, and long or control-character names', () => {
    const counts = (n: number, name = (i: number) => `GET /api/${i}`) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [name(i), i]));
    assert.equal(Object.keys(parseDatadogUpload(upload({ endpoint_counts: counts(1000) }), limits).endpointCounts ?? {}).length, 1000);
    refused(parse(upload({ endpoint_counts: counts(1001) })), 413, /^too many endpoint_counts entries: 1001, the limit is 1000$/);
    refused(parse(upload({ endpoint_counts: { [`GET /${'a'.repeat(600)}`]: 1 } })), 413, /is 605 characters long, the limit is 512$/);
    refused(parse(upload({ endpoint_counts: { 'GET /a\nb': 1 } })), 400, /endpoint name "GET \/a\\nb" has a control character/);
  });

  it('keeps an endpoint named __proto__ as an entry', () => {
    const p = parseDatadogUpload(upload({}, JSON.stringify({ ...event }).replace(/}$/, ',"endpoint_counts":{"__proto__":3}}')), limits);
    assert.deepEqual(Object.entries(p.endpointCounts ?? {}), [['__proto__', 3]]);
  });

  it('refuses deeply nested event.json with 400, not a stack overflow', () => {
    refused(parse(upload({}, '['.repeat(100_000))), 400, /^event\.json nests arrays and objects deeper than 32 levels$/);
    refused(parse(upload({ info: JSON.parse(`${'['.repeat(32)}${']'.repeat(32)}`) })), 400, /deeper than 32 levels/);
    // Brackets inside strings are text, not nesting.
    assert.ok(parseDatadogUpload(upload({ note: `${'['.repeat(1000)}"\\` }), limits));
  });

  it('refuses attachment names that are not plain file names, with the one rule', () => {
    const renamed = (name: string): IntakeRequest => ({
      headers: recorded.headers,
      body: Buffer.from(text.replaceAll('metrics.json', name), 'latin1'),
    });
    refused(
      parse(renamed('../../etc/passwd')),
      400,
      /^attachment name "..\/..\/etc\/passwd" is not a plain file name \(\[A-Za-z0-9._-\], 1 to 128 characters\)$/,
    );
    refused(parse(renamed('a b.json')), 400, /not a plain file name/);
    refused(parse(renamed('x'.repeat(129))), 400, /not a plain file name/);
    assert.ok(parseDatadogUpload(renamed('x'.repeat(128)), limits));
  });

  it('refuses more attachments than the limit with 413', () => {
    refused(
      () => parseDatadogUpload(upload({}), { ...limits, maxAttachments: 2 }),
      413,
      /too many parts in multipart body: the limit is 3/,
    );
  });
});

describe('pyroscope uploads over the intake limits', () => {
  const request = (name: string, over: Partial<IntakeRequest> = {}): IntakeRequest => ({
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from([1, 2, 3]),
    query: { name, from: '1700000000', until: '1700000010', spyName: 'gospy' },
    ...over,
  });
  const labels = (n: number) => Array.from({ length: n }, (_, i) => `l${i}=v${i}`).join(',');

  it('counts labels as tags, before splitting them', () => {
    assert.equal(parsePyroscopeUpload(request(`app{${labels(254)}}`), limits).tags.length, 256);
    refused(
      () => parsePyroscopeUpload(request(`app{${labels(300)}}`), limits),
      413,
      /^too many tags: 300, the limit is 256 \(labels in "name"\)$/,
    );
    // The service and runtime tags count too.
    refused(() => parsePyroscopeUpload(request(`app{${labels(255)}}`), limits), 413, /^too many tags: 257, the limit is 256$/);
  });

  it('refuses long tags, control characters and ":" in label keys', () => {
    refused(() => parsePyroscopeUpload(request(`app{team=${'x'.repeat(200)}}`), limits), 413, /tag "team" is 205 characters long/);
    refused(() => parsePyroscopeUpload(request('app{env=prod\u0000x}'), limits), 400, /tag "env" has a control character \(U\+0000\)/);
    refused(
      () => parsePyroscopeUpload(request('a\u0001pp'), limits),
      400,
      /tag "service" has a control character \(U\+0001\) in its value/,
    );
    refused(() => parsePyroscopeUpload(request('app{a:b=c}'), limits), 400, /tag key "a:b" contains ":"/);
  });

  it('refuses a multipart file name that is not a plain file name', () => {
    const boundary = 'b0undary';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="profile"; filename="../x.pprof"\r\n\r\nabc\r\n--${boundary}--\r\n`,
    );
    const req = request('app', { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    refused(() => parsePyroscopeUpload(req, limits), 400, /attachment name "..\/x.pprof" is not a plain file name/);
  });
});

describe('native uploads over the intake limits', () => {
  const request = (query: Record<string, string>, headers: Record<string, string> = {}): IntakeRequest => ({
    headers,
    body: Buffer.from([1, 2, 3]),
    query,
  });

  it('refuses too many tags, from the query or the header', () => {
    refused(() => parseUpload(request({ tags: manyTags(257) }), limits), 413, /^too many tags: 257, the limit is 256 \("tags"\)$/);
    refused(() => parseUpload(request({}, { 'x-hotpath-tags': manyTags(1000) }), limits), 413, /too many tags: 1000, .*\(X-Hotpath-Tags\)/);
  });

  it('refuses long tags and control characters', () => {
    refused(() => parseUpload(request({ tags: `k:${'v'.repeat(200)}` }), limits), 413, /tag "k" is 202 characters long/);
    refused(() => parseUpload(request({ tags: 'env:a\u0000b' }), limits), 400, /tag "env" has a control character \(U\+0000\)/);
  });

  it('refuses an attachment name that is not a plain file name instead of ignoring it', () => {
    refused(() => parseUpload(request({ name: 'a/b.pprof' }), limits), 400, /attachment name "a\/b.pprof" is not a plain file name/);
    assert.equal(parseUpload(request({ name: 'heap.pprof' }), limits).attachments[0].name, 'heap.pprof');
    assert.equal(parseUpload(request({}), limits).attachments[0].name, 'cpu.pprof');
  });
});

describe('tag lists', () => {
  it('counts items without splitting, ignoring blank ones', () => {
    assert.equal(countListItems('', ','), 0);
    assert.equal(countListItems(' , ,,', ','), 0);
    assert.equal(countListItems('a', ','), 1);
    assert.equal(countListItems('a:b, c:d:e ,flag,,', ','), 3);
    assert.equal(countListItems(' \t\r\n,\u0001,a', ','), 2, 'a control character is text to trim(), so it counts');
  });

  it('refuses a million-tag list by counting, and names the list', () => {
    refused(
      () => parseTagList(manyTags(1_000_001), limits, 'tags_profiler'),
      413,
      /^too many tags: 1000001, the limit is 256 \(tags_profiler\)$/,
    );
  });
});
