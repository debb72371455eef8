import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { looksLikeGo } from './cpu-analysis.js';

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
