import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromDatadogQuery } from './datadog.js';
import { parseQuery } from './parse.js';

describe('fromDatadogQuery', () => {
  it('reads language: as runtime:, negated or grouped too', () => {
    assert.equal(fromDatadogQuery('service:api language:go'), 'service:api runtime:go');
    assert.equal(fromDatadogQuery('-language:python service:api'), '-runtime:python service:api');
    assert.equal(fromDatadogQuery('(language:go OR env:x)'), '(runtime:go OR env:x)');
  });

  it('leaves language inside values, quotes, escapes and value groups alone', () => {
    for (const q of [
      'note:language:go',
      'note:"a language:go"',
      'note:\\ language:go',
      'service:(api OR language:go)',
      'mylanguage:go',
      'service:"quote \\" language:go"',
    ]) {
      assert.equal(fromDatadogQuery(q), q, q);
    }
  });

  it('drops a lone * (Datadog: every profile), keeps * in values', () => {
    assert.equal(fromDatadogQuery('*'), '');
    assert.equal(fromDatadogQuery('* runtime:go'), ' runtime:go');
    assert.equal(fromDatadogQuery('service:* env:prod*'), 'service:* env:prod*');
    assert.equal(parseQuery(fromDatadogQuery('* runtime:go')).kind, 'tag');
  });

  it('passes what it cannot honour to the parser, which names it', () => {
    assert.throws(() => parseQuery(fromDatadogQuery('service:api checkout')), /free-text search is not supported/);
    assert.throws(() => parseQuery(fromDatadogQuery('@duration:>1s')), /unknown attribute "@duration"/);
  });

  it('walks a long hostile query in linear time: a quarter megabyte of term starts', () => {
    const spaces = ' '.repeat(1 << 18);
    assert.equal(fromDatadogQuery(spaces), spaces);
    const terms = '(-'.repeat(1 << 17);
    assert.equal(fromDatadogQuery(terms), terms);
  });
});
