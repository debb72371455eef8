import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureProfile } from '../testing/profiles.js';
import { CallTreeDictionary, CallTreeTooLargeError } from './call-tree-dictionary.js';
import { type PreparedForm, preparedFormOf } from './prepared-form.js';

/** A form of the given paths (names root first), one sample of value 1 at each path's end. */
function formOf(paths: string[][]): PreparedForm {
  const names = ['total'];
  const parent = [-1];
  const name = [0];
  const self = [0];
  for (const path of paths) {
    let node = 0;
    for (const n of path) {
      if (!names.includes(n)) names.push(n);
      parent.push(node);
      name.push(names.indexOf(n));
      self.push(0);
      node = parent.length - 1;
    }
    self[node] = 1;
  }
  return {
    sampleTypes: [{ type: 'samples', unit: 'count' }],
    mainModule: null,
    names,
    parent: Int32Array.from(parent),
    name: Int32Array.from(name),
    self: Float64Array.from(self),
  };
}

describe('call tree dictionary', () => {
  it('gives equal paths of different profiles the same node, and different paths different nodes', () => {
    const d = new CallTreeDictionary(1000);
    const a = d.map(formOf([['main', 'f', 'g']]));
    const b = d.map(
      formOf([
        ['main', 'h'],
        ['main', 'f', 'g'],
      ]),
    );
    assert.equal(d.size, 5); // root, main, main>f, main>f>g, main>h
    assert.equal(b[5], a[3], 'main>f>g');
    assert.notEqual(b[2], a[3], 'main>h is not main>f>g');
    for (let g = 1; g < d.size; g++) assert.ok(d.parent.data[g] < g, 'parents come first');
  });

  it('marks a node the first of its name on its path only when no ancestor has that name', () => {
    const d = new CallTreeDictionary(1000);
    const ids = d.map(formOf([['main', 'sort', 'swap', 'sort', 'swap']]));
    assert.deepEqual(
      Array.from(ids.subarray(1), (g) => d.firstOfName[g]),
      [1, 1, 1, 0, 0],
    );
  });

  it('maps a real profile into as many nodes as its own call tree has, and again into none', () => {
    const d = new CallTreeDictionary(1 << 20);
    const form = preparedFormOf(fixtureProfile('cpu-json.pprof'));
    d.map(form);
    assert.equal(d.size, form.parent.length);
    d.map(form);
    assert.equal(d.size, form.parent.length);
  });

  it('refuses to grow past its bound with CallTreeTooLargeError', () => {
    const d = new CallTreeDictionary(4);
    d.map(formOf([['a', 'b', 'c']]));
    assert.throws(() => d.map(formOf([['a', 'x']])), CallTreeTooLargeError);
    assert.equal(d.size, 4);
  });

  it('orders names as strings compare, again after names are added', () => {
    const d = new CallTreeDictionary(1 << 10);
    for (const name of ['main.b', 'Z', 'main.a', 'é', 'main.a2']) d.intern(name);
    const sorted = (order: Int32Array) => d.names.slice().sort((x, y) => order[d.names.indexOf(x)] - order[d.names.indexOf(y)]);
    assert.deepEqual(sorted(d.nameOrder()), ['Z', 'main.a', 'main.a2', 'main.b', 'total', 'é']);
    d.intern('a');
    assert.deepEqual(sorted(d.nameOrder()), ['Z', 'a', 'main.a', 'main.a2', 'main.b', 'total', 'é']);
  });
});
