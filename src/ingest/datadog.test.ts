import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseProfile } from '../pprof/parse.js';
import { profileStats } from '../pprof/stats.js';
import { fixture } from '../testing/fixtures.js';
import { parseDatadogUpload, parseTagList } from './datadog.js';
import { IngestError } from './errors.js';
import { DEFAULT_INTAKE_LIMITS } from './limits.js';
import type { IntakeRequest } from './record.js';

// A request recorded from a real dd-trace-go v2.12.0 profiler (see its .json beside it).
const recorded = JSON.parse(readFileSync(fixture('intake/dd-trace-go-v2.12.0.json'), 'utf8')) as { headers: Record<string, string> };
const recordedBody = readFileSync(fixture('intake/dd-trace-go-v2.12.0.multipart'));
const request = (over: Partial<IntakeRequest> = {}): IntakeRequest => ({ headers: { ...recorded.headers }, body: recordedBody, ...over });
const limits = DEFAULT_INTAKE_LIMITS;

function rejects(req: IntakeRequest, status: number, pattern: RegExp): void {
  assert.throws(
    () => parseDatadogUpload(req, limits),
    (err: unknown) => err instanceof IngestError && err.status === status && pattern.test(err.message),
  );
}

describe('dd-trace-go upload', () => {
  it('reads a real upload: times, tags, attachments, the zstd CPU profile', () => {
    const p = parseDatadogUpload(request(), limits);
    assert.equal(p.protocol, 'datadog');
    assert.equal(new Date(p.start).toISOString(), '2026-11-25T02:16:37.233Z');
    assert.equal(new Date(p.end).toISOString(), '2026-11-25T02:16:42.262Z');
    const tags = new Map(p.tags);
    assert.equal(tags.get('service'), 'ddt-probe');
    assert.equal(tags.get('env'), 'test');
    assert.equal(tags.get('version'), '1.2.3');
    assert.equal(tags.get('pgo'), 'false');
    assert.equal(tags.get('runtime'), 'go');
    assert.deepEqual(
      p.attachments.map((a) => a.name),
      ['metrics.json', 'go.trace', 'cpu.pprof'],
    );
    assert.equal(p.cpuAttachment, 'cpu.pprof');
    const cpu = p.attachments.find((a) => a.name === 'cpu.pprof');
    assert.ok(cpu);
    assert.deepEqual([...cpu.bytes.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'kept as received (zstd)');
    const stats = profileStats(parseProfile(cpu.bytes));
    assert.ok(stats.cpuCores !== null && stats.cpuCores > 0.3, `cpu cores ${stats.cpuCores}`);
  });

  it('adds agent tags from X-Datadog-Additional-Tags, client tags winning', () => {
    const p = parseDatadogUpload(
      request({ headers: { ...recorded.headers, 'x-datadog-additional-tags': 'env:from-agent,default_env:prod,team:core' } }),
      limits,
    );
    const tags = new Map(p.tags);
    assert.equal(tags.get('env'), 'test');
    assert.equal(tags.get('default_env'), 'prod');
    assert.equal(tags.get('team'), 'core');
  });

  it('parses tag lists', () => {
    assert.deepEqual(parseTagList('a:b, c:d:e ,flag,,'), [
      ['a', 'b'],
      ['c', 'd:e'],
      ['flag', ''],
    ]);
  });

  describe('bad uploads are a 4xx naming the problem', () => {
    const replaceEvent = (event: string): Buffer => {
      const text = recordedBody.toString('latin1');
      const at = text.indexOf('{"start"');
      const end = text.indexOf('\r\n--', at);
      return Buffer.from(text.slice(0, at) + event + text.slice(end), 'latin1');
    };
    it('not multipart', () => rejects(request({ headers: { 'content-type': 'application/json' } }), 415, /multipart\/form-data/));
    it('no boundary', () => rejects(request({ headers: { 'content-type': 'multipart/form-data' } }), 400, /no boundary/));
    it('truncated body', () =>
      rejects(request({ body: recordedBody.subarray(0, recordedBody.length - 200) }), 400, /not terminated|truncated/));
    it('no event part', () => {
      const text = recordedBody.toString('latin1').replace('name="event"', 'name="other"');
      rejects(request({ body: Buffer.from(text, 'latin1') }), 400, /no "event" part/);
    });
    it('event.json not JSON', () => rejects(request({ body: replaceEvent('{not json') }), 400, /event\.json is not valid JSON/));
    it('bad start time', () =>
      rejects(
        request({ body: replaceEvent('{"start":"yesterday","end":"2026-11-25T02:16:42Z"}') }),
        400,
        /"start" must be an RFC 3339 time/,
      ));
    it('end before start', () =>
      rejects(
        request({ body: replaceEvent('{"start":"2026-11-25T02:16:42Z","end":"2026-11-25T02:16:40Z"}') }),
        400,
        /"end" is before "start"/,
      ));
    it('listed attachment missing', () =>
      rejects(
        request({ body: replaceEvent('{"start":"2026-11-25T02:16:40Z","end":"2026-11-25T02:16:42Z","attachments":["heap.pprof"]}') }),
        400,
        /lists attachment heap\.pprof but the upload has no part/,
      ));
    it('too many attachments', () =>
      assert.throws(
        () => parseDatadogUpload(request(), { ...limits, maxAttachments: 2 }),
        (err: unknown) => err instanceof IngestError && err.status === 413 && /limit is 3/.test(err.message),
      ));
  });
});
