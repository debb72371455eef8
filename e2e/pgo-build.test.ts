import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pprofMerge, preprofile, run, runOk } from './support/go.js';
import { fixture, hotpathBin, repoRoot } from './support/paths.js';
import { assertSamePreprofileRenamesAside } from './support/preprofile.js';
import { generateWorkloadSources, largeProfile } from './support/workloads.js';

// The whole offline loop with the real Go toolchain: hotpath writes a default.pgo, go build
// uses it, and what hotpath says about hot call sites is what the compiler prints.
const work = mkdtempSync(join(tmpdir(), 'hotpath-pgo-'));
after(() => rmSync(work, { recursive: true, force: true }));
const workloads = join(repoRoot, 'e2e', 'workloads');
const WORKLOAD_PACKAGES = 'hotpath.local/e2e/workloads/...';

function hotpath(...args: string[]): string {
  return runOk(process.execPath, [hotpathBin, ...args]);
}

describe('go build -pgo with a hotpath default.pgo', () => {
  const pgo = join(work, 'default.pgo');
  const inputs = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'].map(fixture);
  hotpath('merge', '--pgo', '-q', '-o', pgo, ...inputs);
  generateWorkloadSources();

  it('builds the workload, and the compiler agrees with `hotpath explain` on the hot call sites', () => {
    const build = run(
      'go',
      ['build', '-o', join(work, 'cpuburn'), `-pgo=${pgo}`, `-gcflags=${WORKLOAD_PACKAGES}=-d=pgodebug=1`, './cpuburn'],
      {
        cwd: workloads,
      },
    );
    assert.equal(build.status, 0, build.stderr);
    assert.ok(statSync(join(work, 'cpuburn')).size > 0);

    const explain = JSON.parse(hotpath('explain', '--json', '--top', '100000', pgo)) as {
      thresholdPercent: number;
      hotCount: number;
      edges: Array<{ caller: string; callee: string; hot: boolean }>;
    };
    // The compiler prints the threshold once per package it compiles; all must equal ours.
    const thresholds = [...build.stderr.matchAll(/^hot-callsite-thres-from-CDF=(\S+)$/gm)].map((m) => Number(m[1]));
    assert.ok(thresholds.length >= 2, `pgodebug output expected:\n${build.stderr.slice(0, 2000)}`);
    for (const t of thresholds) assert.equal(t, explain.thresholdPercent);
    assert.ok(explain.thresholdPercent > 0);

    // Every function the compiler treats as a hot callee is a callee of one of our hot edges.
    const hotCallees = new Set(explain.edges.filter((e) => e.hot).map((e) => e.callee));
    const compilerHot = [...build.stderr.matchAll(/^hot-node enabled increased budget=2000 for func=(\S+)$/gm)].map((m) => m[1]);
    assert.ok(compilerHot.length >= 5, 'the workload has hot callees');
    for (const f of compilerHot) assert.ok(hotCallees.has(f), `${f} is hot for the compiler but not in hotpath explain`);
    // Call sites the compiler inlines only thanks to PGO sit in callers of our hot edges (the
    // compiler matches a hot call site by caller and line offset, not by callee).
    const boosted = [...build.stderr.matchAll(/^hot-budget check allows inlining for call \S+ \(cost \d+\) at \S+ in function (\S+)$/gm)];
    assert.ok(boosted.length > 0, 'PGO enables extra inlining in the workload');
    const hotCallers = new Set(explain.edges.filter((e) => e.hot).map((e) => e.caller));
    for (const [, caller] of boosted) assert.ok(hotCallers.has(caller), `${caller} has no hot edge in hotpath explain`);
  });

  it('a threshold of 100 makes every edge hot, as the compiler does', () => {
    const report = JSON.parse(hotpath('explain', '--json', '--cdf-threshold', '100', pgo)) as {
      thresholdPercent: number;
      hotCount: number;
      edgeCount: number;
    };
    assert.equal(report.thresholdPercent, 0);
    assert.equal(report.hotCount, report.edgeCount);
  });
});

describe('large profile from a real program', () => {
  const large = largeProfile({ seed: 1, seconds: 30 });

  it('is trimmed at least 10× smaller than the raw merge, with the same preprofile (safety renames aside)', (t) => {
    const raw = join(work, 'raw-merge.pprof');
    const inputs = [large, fixture('cpu-small-1.pprof'), fixture('cpu-small-2.pprof')];
    pprofMerge(inputs, raw);
    const pgo = join(work, 'large.pgo');
    hotpath('merge', '--pgo', '-q', '-o', pgo, ...inputs);
    const rawSize = readFileSync(raw).length;
    const pgoSize = readFileSync(pgo).length;
    const ratio = rawSize / pgoSize;
    t.diagnostic(`raw merge ${rawSize} bytes (go tool pprof -proto), default.pgo ${pgoSize} bytes: ${ratio.toFixed(1)}× smaller`);
    // How large the recording is depends on the CPU the workload got; largeProfile guarantees its
    // spec (largeProfileMinBytes), so the ratio below is measured on a profile that is large.
    assert.ok(ratio >= 10, `ratio ${ratio.toFixed(1)}`);
    // A recording can sample runtime.gopark as a leaf; its edges are renamed, by design.
    assertSamePreprofileRenamesAside(preprofile(pgo), preprofile(raw));
  });
});
