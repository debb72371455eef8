import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { parseProfile } from '../pprof/parse.js';
import { fixture } from '../testing/fixtures.js';
import { goPackageOf, mainModuleOf } from './main-module.js';

/** A profile holding only functions with these names and file names. */
function withFunctions(fns: Array<[string, string]>) {
  const b = new ProfileBuilder();
  for (const [name, file] of fns) b.addFunction(name, file);
  return b.finish();
}

describe('the profiled program’s own module', () => {
  it('is found in a real -trimpath build whose main package sits below the module root', () => {
    // e2e/workloads: module hotpath.local/e2e/workloads, main in cpuburn/, work in internal/burn.
    assert.equal(mainModuleOf(parseProfile(readFileSync(fixture('cpu-json.pprof')))), 'hotpath.local/e2e/workloads');
  });

  it('is found from absolute file names, where the checkout directory is not named like the module', () => {
    const p = withFunctions([
      ['main.main', '/build/src/repo/cmd/shop/main.go'],
      ['github.com/acme/shop/internal/cart.(*Cart).Total', '/build/src/repo/internal/cart/cart.go'],
      ['github.com/acme/shop/internal/cart.New', '/build/src/repo/internal/cart/new.go'],
      ['github.com/gorilla/mux.(*Router).ServeHTTP', '/root/go/pkg/mod/github.com/gorilla/mux@v1.8.1/mux.go'],
      ['net/http.(*conn).serve', '/usr/local/go/src/net/http/server.go'],
      ['runtime.mallocgc', '/usr/local/go/src/runtime/malloc.go'],
    ]);
    assert.equal(mainModuleOf(p), 'github.com/acme/shop');
  });

  it('never takes a dependency from the module cache or a lone host name for the module', () => {
    const deps = withFunctions([
      ['main.main', 'example.com/app/main.go'],
      ['github.com/gorilla/mux.(*Router).ServeHTTP', 'github.com/gorilla/mux@v1.8.1/mux.go'],
      ['example.org/other/x.F', 'example.org/other/x/f.go'],
    ]);
    assert.equal(mainModuleOf(deps), null);
    assert.equal(mainModuleOf(withFunctions([['runtime.main', 'runtime/proc.go']])), null, 'no main package');
  });

  it('reads the package of generic and method names', () => {
    assert.equal(goPackageOf('net/http.(*conn).serve'), 'net/http');
    assert.equal(
      goPackageOf('slices.SortFunc[go.shape.[]encoding/json.reflectWithString,go.shape.struct { encoding/json.v reflect.Value }]'),
      'slices',
    );
    assert.equal(goPackageOf('github.com/a/b.(*T[go.shape.int]).M'), 'github.com/a/b');
    assert.equal(goPackageOf('main.main'), 'main');
  });
});
