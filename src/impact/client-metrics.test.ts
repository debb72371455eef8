import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientMetricsError, MAX_CLIENT_METRICS, MAX_CLIENT_METRICS_BYTES, parseClientMetrics } from './client-metrics.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe("dd-trace-go's metrics.json", () => {
  it('reads the [name, value] pairs dd-trace-go v2.12 writes', () => {
    const m = parseClientMetrics(
      json([
        ['go_alloc_bytes_per_sec', 5242880.5],
        ['go_allocs_per_sec', 1200],
        ['go_frees_per_sec', 1100],
        ['go_heap_growth_bytes_per_sec', -2048],
        ['go_gcs_per_sec', 0.5],
        ['go_gc_pause_time', 0.0001],
        ['go_max_gc_pause_time', 150000],
        ['go_num_goroutine', 1012],
      ]),
    );
    assert.equal(m.size, 8);
    assert.equal(m.get('go_num_goroutine'), 1012);
    assert.equal(m.get('go_alloc_bytes_per_sec'), 5242880.5);
    assert.equal(m.get('go_heap_growth_bytes_per_sec'), -2048);
  });

  it('skips pairs of other shapes and keeps the first of a repeated name', () => {
    const m = parseClientMetrics(
      json([
        ['go_num_goroutine', 7],
        ['go_num_goroutine', 9],
        ['text', 'x'],
        ['', 1],
        [1, 2],
        ['three', 1, 2],
        'loose',
        null,
        {},
        ['ok', 3],
      ]),
    );
    assert.deepEqual(
      [...m],
      [
        ['go_num_goroutine', 7],
        ['ok', 3],
      ],
    );
    // NaN and infinities cannot be JSON; a huge literal parses to Infinity and is skipped.
    assert.equal(parseClientMetrics(Buffer.from('[["big", 1e999]]')).size, 0);
  });

  it('reads at most MAX_CLIENT_METRICS pairs', () => {
    const many = Array.from({ length: MAX_CLIENT_METRICS + 50 }, (_, i) => [`m${i}`, i]);
    assert.equal(parseClientMetrics(json(many)).size, MAX_CLIENT_METRICS);
  });

  it('refuses what is not a JSON array, not UTF-8, or too large, naming why', () => {
    assert.throws(
      () => parseClientMetrics(json({ go_num_goroutine: 3 })),
      (e) => e instanceof ClientMetricsError && /not a JSON array/.test(e.message),
    );
    assert.throws(
      () => parseClientMetrics(Buffer.from('[["a", 1]')),
      (e) => e instanceof ClientMetricsError && /not UTF-8 JSON/.test(e.message),
    );
    assert.throws(() => parseClientMetrics(Buffer.from([0x5b, 0xff, 0x5d])), ClientMetricsError);
    const big = Buffer.alloc(MAX_CLIENT_METRICS_BYTES + 1, 0x20);
    assert.throws(
      () => parseClientMetrics(big),
      (e) => e instanceof ClientMetricsError && /more than the/.test(e.message),
    );
  });
});
