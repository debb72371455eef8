import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestError } from '../ingest/errors.js';
import { ProfileError } from '../pprof/errors.js';
import { QuerySyntaxError } from '../query/errors.js';
import { BlobRangeError, StoreUnavailableError } from '../store/errors.js';
import { clientErrorAnswer, toHttpError } from './error-mapping.js';
import { HttpError } from './http-error.js';

const withCode = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code} happened`), { code, ...extra });

describe('toHttpError', () => {
  it('maps each error type to its status and code', () => {
    const cases: Array<[unknown, number, string]> = [
      [new HttpError(404, 'not_found', 'no such thing'), 404, 'not_found'],
      [new IngestError(413, 'decompressed_size', 'too big'), 413, 'decompressed_size'],
      [new QuerySyntaxError('expected ")"', 3, 4), 400, 'query'],
      [new ProfileError('truncated'), 422, 'profile'],
      [new BlobRangeError('blob "h/id/pack" holds 4 bytes, too few for 2 bytes at offset 3'), 422, 'profile'],
      [new StoreUnavailableError('connect ECONNREFUSED'), 503, 'store_unavailable'],
      [withCode('ENOSPC'), 507, 'disk_full'],
      [withCode('EDQUOT'), 507, 'disk_full'],
      [withCode('SQLITE_FULL'), 507, 'disk_full'],
      [withCode('FST_ERR_CTP_BODY_TOO_LARGE', { statusCode: 413 }), 413, 'body_size'],
      [withCode('ERR_HTTP_REQUEST_TIMEOUT'), 408, 'timeout'],
      [withCode('ECONNRESET', { statusCode: 400 }), 400, 'bad_request'],
    ];
    for (const [err, status, code] of cases) {
      const mapped = toHttpError(err, 1024);
      assert.equal(mapped?.status, status, String(err));
      assert.equal(mapped?.code, code, String(err));
    }
    assert.deepEqual(toHttpError(new QuerySyntaxError('bad', 3, 4), 0)?.details, { column: 4 });
    assert.match(toHttpError(withCode('FST_ERR_CTP_BODY_TOO_LARGE'), 1024)?.message ?? '', /limit of 1024 bytes/);
    assert.match(toHttpError(withCode('ENOSPC'), 0)?.message ?? '', /data directory is full/);
    const unavailable = toHttpError(new StoreUnavailableError('connect ECONNREFUSED 10.0.0.5:5432'), 0);
    assert.equal(unavailable?.headers?.['retry-after'], '5');
    assert.doesNotMatch(unavailable?.message ?? '', /10\.0\.0\.5/, 'the database address stays in the logs');
  });

  it('leaves bugs unmapped (500), whatever their message says', () => {
    assert.equal(toHttpError(new TypeError('x is undefined'), 0), null);
    assert.equal(toHttpError(new Error('size exceeds the limit: no space left on device'), 0), null);
    assert.equal(toHttpError(Object.assign(new Error('odd'), { statusCode: 500 }), 0), null);
    assert.equal(toHttpError('a string', 0), null);
  });
});

describe('clientErrorAnswer', () => {
  it('answers timeouts 408, oversized headers 431, other parse errors 400, and nothing to a reset', () => {
    const t = { requestMs: 60_000, headersMs: 10_000 };
    assert.equal(clientErrorAnswer(withCode('ERR_HTTP_REQUEST_TIMEOUT'), t)?.status, 408);
    assert.match(
      clientErrorAnswer(withCode('ERR_HTTP_REQUEST_TIMEOUT'), t)?.message ?? '',
      /headers within 10 s, the whole request within 60 s/,
    );
    assert.equal(clientErrorAnswer(withCode('HPE_HEADER_OVERFLOW'), t)?.status, 431);
    assert.equal(clientErrorAnswer(withCode('HPE_INVALID_METHOD'), t)?.status, 400);
    assert.equal(clientErrorAnswer(withCode('ECONNRESET'), t), null);
  });
});
