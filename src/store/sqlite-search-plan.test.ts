import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueryNode } from '../query/ast.js';
import { parseQuery } from '../query/parse.js';
import { type DrivingTerm, planSearch, type SearchPlan } from './sqlite-search-plan.js';

/** Rows per term as `key:value` (or `@name`), as the index would count them up to the limit asked. */
function counter(rows: Record<string, number>): { count: (term: DrivingTerm, atMost: number) => number; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    count(term, atMost) {
      const name = term.kind === 'tag' ? `${term.key}:${term.value.kind === 'exact' ? term.value.value : '*'}` : `@${term.name}`;
      asked.push(`${name}<=${atMost}`);
      return Math.min(rows[name] ?? 0, atMost);
    },
  };
}

function describePlan(plan: SearchPlan): string {
  const text = (n: QueryNode): string => JSON.stringify(n);
  if (plan.kind === 'window') return 'window';
  if (plan.kind === 'term') return `term ${text(plan.term)} rows ${plan.rows} rest ${text(plan.rest)}`;
  return `intersect ${plan.terms.map(text).join(' ')} rest ${text(plan.rest)}`;
}

describe('planSearch', () => {
  it('drives from the term with the fewest rows and tests the others on each profile', () => {
    const { count } = counter({ 'service:a': 900, 'env:prod': 1_000_000 });
    const plan = planSearch(parseQuery('env:prod service:a -host:h'), count);
    assert.equal(plan.kind, 'term', describePlan(plan));
    if (plan.kind !== 'term') return;
    assert.deepEqual(plan.term, parseQuery('service:a'));
    assert.equal(plan.rows, 900);
    assert.deepEqual(plan.rest, parseQuery('env:prod -host:h'));
  });

  it('counts a broad term only up to a small limit when a selective one is found there', () => {
    const { count, asked } = counter({ 'service:a': 900, 'env:prod': 1_000_000 });
    planSearch(parseQuery('env:prod service:a'), count, 20_000);
    assert.deepEqual(asked, ['env:prod<=2001', 'service:a<=2001']);
  });

  it('takes a term up to the driving limit, after the small one', () => {
    const { count } = counter({ 'service:a': 15_000, 'env:prod': 1_000_000 });
    const plan = planSearch(parseQuery('env:prod service:a'), count, 20_000);
    assert.equal(plan.kind === 'term' && plan.rows, 15_000, describePlan(plan));
  });

  it('drives from a metric or a wildcard term when it is the most selective', () => {
    const metric = planSearch(parseQuery('env:prod @metrics.cpu:>9'), counter({ 'env:prod': 50_000, '@cpu': 10 }).count);
    assert.equal(metric.kind === 'term' && metric.term.kind, 'metric', describePlan(metric));
    const wildcard = planSearch(parseQuery('env:prod host:*-17'), counter({ 'env:prod': 50_000, 'host:*': 300 }).count);
    assert.equal(wildcard.kind === 'term' && wildcard.term.kind, 'tag', describePlan(wildcard));
  });

  it('intersects two or more broad exact tag terms, and leaves wildcards and negations to the rest', () => {
    const { count } = counter({ 'team:t3': 125_000, 'version:v4': 50_000, 'host:*': 1_000_000 });
    const plan = planSearch(parseQuery('team:t3 version:v4 host:h* -env:prod'), count);
    assert.equal(plan.kind, 'intersect', describePlan(plan));
    if (plan.kind !== 'intersect') return;
    assert.deepEqual(plan.terms, [parseQuery('team:t3'), parseQuery('version:v4')]);
    assert.deepEqual(plan.rest, parseQuery('host:h* -env:prod'));
  });

  it('walks the window when nothing can drive: everything, negations, ORs, one broad term, ids', () => {
    const { count } = counter({ 'env:prod': 1_000_000 });
    for (const query of ['', '-env:prod', 'env:prod', 'service:a OR env:prod', 'profile-id:x*', 'env:prod -service:a']) {
      assert.equal(planSearch(parseQuery(query), count).kind, 'window', query);
    }
  });

  it('drives an OR-free query only from its top level: a term inside NOT or OR never drives', () => {
    const { count, asked } = counter({ 'service:a': 1 });
    assert.equal(planSearch(parseQuery('-(service:a env:prod)'), count).kind, 'window');
    assert.equal(planSearch(parseQuery('service:a OR host:b'), count).kind, 'window');
    assert.deepEqual(asked, []);
  });

  it('rests on match-all when the driving term is the whole query', () => {
    const plan = planSearch(parseQuery('service:a'), counter({ 'service:a': 5 }).count);
    assert.deepEqual(plan.kind === 'term' && plan.rest, { kind: 'all' });
  });
});
