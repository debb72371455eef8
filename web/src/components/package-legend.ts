import type { TreeJson } from '../api.js';
import { h } from '../dom.js';
import { CLASS_COLORS, type PackageClass, packageClass } from '../flame/colors.js';

const ORDER: PackageClass[] = ['own', 'dependency', 'std', 'runtime', 'other'];

/**
 * The legend of the package colours: one swatch per class the tree holds (own module,
 * dependencies, standard library, Go runtime, other), naming the own module when it is known.
 */
export function packageLegend(tree: TreeJson, mainModule: string | null): HTMLElement {
  const present = new Set<PackageClass>();
  const seen = new Set<number>();
  // Node 0 is the root ("all"), not a function.
  for (let i = 1; i < tree.name.length; i++) {
    if (seen.has(tree.name[i])) continue;
    seen.add(tree.name[i]);
    present.add(packageClass(tree.names[tree.name[i]], mainModule));
  }
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Frame colours', 'data-testid': 'package-legend' },
    ...ORDER.filter((c) => present.has(c)).map((c) =>
      h(
        'li',
        { 'data-class': c },
        h('span', { class: 'swatch', style: `background:${CLASS_COLORS[c].swatch}` }),
        c === 'own' ? `own module (${mainModule === null ? 'main' : `main, ${mainModule}`})` : CLASS_COLORS[c].label,
      ),
    ),
  );
}
