// In-process split of a warm merged flame graph view into its phases (search, cached profiles,
// merge, layout, function totals, the answer's JSON text), on the data directory bench/flame/run.js populated.
// Not a test; run bench/flame/run.js once first.
//
//   node dist/bench/flame/phases.js [--rounds 7] [--only <case name part>]

import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cacheDir } from '../../e2e/support/workloads.js';
import { functionTotals, mergeCallTrees, mergedFlameTree } from '../../src/flame/prepared-merge.js';
import { PreparedProfiles } from '../../src/flame/prepared-profiles.js';
import { preparedSide } from '../../src/flame/prepared-views.js';
import { flameJsonText } from '../../src/server/routes/flame-json-text.js';
import { openStore } from '../../src/store/open-store.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, only: { type: 'string' } } });
const rounds = Number(values.rounds ?? 7);
const dataDir = join(cacheDir, 'bench-flame', 'data');
if (!existsSync(join(dataDir, 'index.sqlite'))) throw new Error(`no benchmark data in ${dataDir}: run dist/bench/flame/run.js first`);

const store = await openStore({ dataDir });
const profiles = new PreparedProfiles(store.profiles, 1 << 30);
const cases = [
  { name: '1,000 label-free', query: 'service:plain', limit: 1000 },
  { name: 'bench/ui aggregate', query: 'service:fleet', limit: 100 },
  { name: '10,000', query: 'env:bench', limit: 10_000 },
].filter((c) => values.only === undefined || c.name.includes(values.only));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${rounds} rounds, median ms`,
);
for (const c of cases) {
  const phases: Record<string, number[]> = { search: [], profiles: [], merge: [], layout: [], functions: [], json: [], all: [] };
  let shape = '';
  for (let r = -1; r < rounds; r++) {
    const t: number[] = [performance.now()];
    const records = await store.profiles.search({
      query: c.query,
      from: Date.now() - 30 * 86_400_000,
      to: Date.now(),
      limit: c.limit,
      sort: '-start',
    });
    t.push(performance.now());
    const dictionary = profiles.beginView();
    const side = await preparedSide(profiles, dictionary, records, 'cpu.pprof', 'cpu');
    t.push(performance.now());
    const merged = mergeCallTrees(dictionary, [side.inputs]);
    t.push(performance.now());
    const flame = mergedFlameTree(merged, 50_000 - Math.max(0, r));
    t.push(performance.now());
    const top = functionTotals(merged, 0);
    t.push(performance.now());
    const json = flameJsonText(
      {
        profiles: side.used.length,
        profileIds: side.used,
        seconds: side.seconds,
        sampleTypes: [],
        sampleType: 'cpu.pprof:cpu',
        unit: side.unit,
        mainModule: side.mainModule,
        total: merged.total[0][0],
        nodes: flame.nodes,
        droppedNodes: flame.droppedNodes,
        top: top.slice(0, 1000),
        skipped: side.skipped,
      },
      flame.tree,
    );
    t.push(performance.now());
    shape = `${side.used.length} profiles, ${merged.nodes} nodes, ${flame.tree.name.length} sent, ${json.length} chars`;
    if (r < 0) continue;
    Object.keys(phases).forEach((k, i) => {
      phases[k].push(k === 'all' ? t[t.length - 1] - t[0] : t[i + 1] - t[i]);
    });
  }
  console.log(
    `${c.name} (${shape}): ${Object.entries(phases)
      .map(([k, v]) => `${k} ${median(v).toFixed(1)}`)
      .join(', ')}`,
  );
}
await store.close();
