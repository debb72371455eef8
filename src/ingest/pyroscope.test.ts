import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseProfile } from '../pprof/parse.js';
import { fixture } from '../testing/fixtures.js';
import { IngestError } from './errors.js';
import { DEFAULT_INTAKE_LIMITS } from './limits.js';
import { parseAppName, parseEpoch, parsePyroscopeUpload } from './pyroscope.js';
import type { IntakeRequest } from './record.js';

// A request recorded from a real pyroscope-go v1.4.3 client (see its .json beside it).
const recorded = JSON.parse(readFileSync(fixture('intake/pyroscope-go-v1.4.3.json'), 'utf8')) as {
  url: string;
  headers: Record<string, string>;
};
const body = readFileSync(fixture('intake/pyroscope-go-v1.4.3.multipart'));
const query = Object.fromEntries(new URL(recorded.url, 'http://x').searchParams);
const limits = { ...DEFAULT_INTAKE_LIMITS, maxAttachments: 4 };
const request = (over: Partial<IntakeRequest> = {}): IntakeRequest => ({ headers: { ...recorded.headers }, body, query, ...over });

describe('pyroscope-go upload', () => {
  it('reads a real upload: app name as service, labels as tags, ns times, the CPU profile', () => {
    const p = parsePyroscopeUpload(request(), limits);
    const tags = new Map(p.tags);
    assert.equal(tags.get('service'), 'pyr.probe');
    assert.equal(tags.get('env'), 'test');
    assert.equal(tags.get('region'), 'eu');
    assert.equal(tags.get('runtime'), 'go');
    assert.equal(tags.has('__session_id__'), false);
    assert.equal(p.start, Math.floor(Number(BigInt(query.from) / 1_000_000n)));
    assert.ok(p.end > p.start);
    assert.equal(p.cpuAttachment, 'profile.pprof');
    const profile = parseProfile(p.attachments[0].bytes);
    assert.ok(profile.samples.count > 0);
  });

  it('accepts the profile as a raw body', () => {
    const p = parsePyroscopeUpload(
      request({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]) }),
      limits,
    );
    assert.equal(p.attachments[0].bytes.length, 3);
  });

  it('reads times by digit count', () => {
    assert.equal(parseEpoch('1700000000', 'from'), 1700000000000);
    assert.equal(parseEpoch('1700000000123', 'from'), 1700000000123);
    assert.equal(parseEpoch('1700000000123456', 'from'), 1700000000123);
    assert.equal(parseEpoch('1700000000123456789', 'from'), 1700000000123);
  });

  it('parses app names', () => {
    assert.deepEqual(parseAppName('web{env=prod,zone=a}'), {
      app: 'web',
      labels: [
        ['env', 'prod'],
        ['zone', 'a'],
      ],
    });
    assert.deepEqual(parseAppName('plain.app'), { app: 'plain.app', labels: [] });
  });

  describe('bad uploads are a 400 naming the problem', () => {
    const rejects = (q: Record<string, string | undefined>, pattern: RegExp): void =>
      assert.throws(
        () => parsePyroscopeUpload(request({ query: { ...query, ...q } }), limits),
        (err: unknown) => err instanceof IngestError && err.status === 400 && pattern.test(err.message),
      );
    it('missing name', () => rejects({ name: undefined }, /missing "name"/));
    it('unclosed labels', () => rejects({ name: 'app{env=prod' }, /unclosed/));
    it('label without =', () => rejects({ name: 'app{env}' }, /not key=value/));
    it('bad from', () => rejects({ from: 'now' }, /"from" must be a Unix timestamp/));
    it('until before from', () => rejects({ from: '1700000001', until: '1700000000' }, /before "from"/));
    it('no profile part', () =>
      assert.throws(
        () =>
          parsePyroscopeUpload(
            request({ body: Buffer.from(body.toString('latin1').replace('name="profile"', 'name="x"'), 'latin1') }),
            limits,
          ),
        (err: unknown) => err instanceof IngestError && /no "profile" part/.test(err.message),
      ));
  });
});
