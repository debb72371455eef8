import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { fixture } from '../testing/fixtures.js';
import { analyzeCpuProfile, looksLikeGo } from './cpu-analysis.js';
import { analyzeCpuProfileOffThread } from './cpu-analysis-pool.js';

function profileWith(functions: Array<[string, string]>) {
  const b = ProfileBuilder.goCpu();
  for (const [name, file] of functions) b.addFunction(name, file);
  return b.finish();
}

describe('looksLikeGo', () => {
  it('knows a Go profile by runtime.goexit or runtime.main', () => {
    assert.equal(looksLikeGo(profileWith([['runtime.goexit', '']])), true);
    assert.equal(
      looksLikeGo(
        profileWith([
          ['main.work', ''],
          ['runtime.main', ''],
        ]),
      ),
      true,
    );
  });

  it("knows a short net/http/pprof profile of worker goroutines by its functions' .go files", () => {
    // What Go 1.26 writes for one second of busy workers: no runtime.goexit/main/mcall frame.
    const p = profileWith([
      ['hotpath.local/e2e/workloads/internal/burn.(*worker).loop', '/src/burn/burn.go'],
      ['sync.(*WaitGroup).Go.func1', '/usr/local/go/src/sync/waitgroup.go'],
    ]);
    assert.equal(looksLikeGo(p), true);
  });

  it('does not call a profile of another language Go', () => {
    assert.equal(
      looksLikeGo(
        profileWith([
          ['main', 'main.c'],
          ['std::sort', 'algorithm'],
          ['runtime', 'runtime.py'],
        ]),
      ),
      false,
    );
    assert.equal(looksLikeGo(profileWith([])), false);
  });
});

describe('analyzeCpuProfileOffThread', () => {
  it('returns what analyzeCpuProfile returns, the PGO and prepared forms included, and leaves the upload intact', async () => {
    const upload = readFileSync(fixture('cpu-small-1.pprof'));
    const copy = Buffer.from(upload);
    const limit = 64 * 1024 * 1024;
    const [off, on] = await Promise.all([analyzeCpuProfileOffThread(upload, limit), analyzeCpuProfile(upload, limit)]);
    assert.deepEqual(
      { ...off, pgoBytes: Buffer.from(off.pgoBytes), preparedBytes: Buffer.from(off.preparedBytes) },
      {
        ...on,
        pgoBytes: Buffer.from(on.pgoBytes),
        preparedBytes: Buffer.from(on.preparedBytes),
      },
    );
    assert.ok(off.preparedBytes instanceof Uint8Array);
    assert.deepEqual(upload, copy, 'the caller keeps its bytes: a copy went to the worker');
  });
});
