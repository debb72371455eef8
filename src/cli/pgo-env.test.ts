import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { pgoEndpoint } from './pgo-endpoint.js';
import { LogDuration, PgoLog } from './pgo-log.js';

describe('hotpath pgo in a datadog-pgo CI step', () => {
  it('finds the server: --server, HOTPATH_URL, https://app.$DD_SITE, then localhost', () => {
    const env = { HOTPATH_URL: 'http://h:1', DD_SITE: 'hotpath.internal' };
    assert.deepEqual(pgoEndpoint({ server: 'http://s:2' }, env).server, 'http://s:2');
    assert.deepEqual(pgoEndpoint({}, env).server, 'http://h:1');
    assert.deepEqual(pgoEndpoint({}, { DD_SITE: 'hotpath.internal' }), {
      server: 'https://app.hotpath.internal',
      serverFrom: 'DD_SITE',
      appKey: undefined,
      apiKey: undefined,
    });
    assert.equal(pgoEndpoint({}, { HOTPATH_URL: '', DD_SITE: '' }).server, 'http://localhost:8126');
  });

  it('takes the keys from HOTPATH_* first, then DD_APP_KEY, DD_APPLICATION_KEY and DD_API_KEY', () => {
    const dd = { DD_APP_KEY: 'dd-app', DD_APPLICATION_KEY: 'dd-application', DD_API_KEY: 'dd-api' };
    assert.deepEqual(pgoEndpoint({}, dd), {
      server: 'http://localhost:8126',
      serverFrom: 'the default',
      appKey: 'dd-app',
      apiKey: 'dd-api',
    });
    assert.equal(pgoEndpoint({}, { DD_APPLICATION_KEY: 'dd-application' }).appKey, 'dd-application');
    assert.equal(pgoEndpoint({}, { ...dd, HOTPATH_APP_KEY: 'hp-app', HOTPATH_API_KEY: 'hp-api' }).appKey, 'hp-app');
    assert.equal(pgoEndpoint({}, { ...dd, HOTPATH_APP_KEY: 'hp-app', HOTPATH_API_KEY: 'hp-api' }).apiKey, 'hp-api');
    assert.equal(pgoEndpoint({ appKey: 'flag' }, { ...dd, HOTPATH_APP_KEY: 'hp-app' }).appKey, 'flag');
  });

  it("reads Go's durations as datadog-pgo's -from and -timeout take them", () => {
    assert.equal(parseDuration('72h', '--from'), 72 * 3_600_000);
    assert.equal(parseDuration('1h30m', '--from'), 90 * 60_000);
    assert.equal(parseDuration('1.5h', '--from'), 90 * 60_000);
    assert.equal(parseDuration('2m30.5s', '--timeout'), 150_500);
    assert.equal(parseDuration('7d', '--from'), 7 * 86_400_000);
    for (const bad of ['', 'h', '1x', '1h-30m', '-5s', '1 h']) {
      assert.throws(
        () => parseDuration(bad, '--from'),
        (err: unknown) => err instanceof CliError && err.message.startsWith('--from must be a duration'),
        bad,
      );
    }
  });

  it('logs JSON lines in the form of Go slog (durations in nanoseconds), text with Go-style durations', () => {
    const lines: string[] = [];
    new PgoLog(true, false, (l) => lines.push(l)).info('wrote PGO file', { path: 'x.pgo', 'total-duration': new LogDuration(1234.5) });
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line), ['time', 'level', 'msg', 'path', 'total-duration']);
    assert.equal(line.level, 'INFO');
    assert.equal(line['total-duration'], 1_234_500_000);
    new PgoLog(false, false, (l) => lines.push(l)).info('wrote', { took: new LogDuration(3_723_000), empty: '' });
    assert.match(lines[1], / INFO wrote took=1h2m3s empty=""\n$/);
    assert.equal(new LogDuration(850).toString(), '850ms');
    assert.equal(new LogDuration(1250).toString(), '1.25s');
    // Debug lines only when verbose.
    new PgoLog(true, false, (l) => lines.push(l)).debug('hidden');
    assert.equal(lines.length, 2);
  });
});
