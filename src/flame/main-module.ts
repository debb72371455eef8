import type { Profile } from '../pprof/profile.js';

/**
 * The import path of a Go function's package: "net/http.(*conn).serve" → "net/http",
 * "slices.SortFunc[go.shape.[]encoding/json.x]" → "slices" (type arguments are not the package).
 */
export function goPackageOf(name: string): string {
  const bracket = name.indexOf('[');
  const plain = bracket < 0 ? name : name.slice(0, bracket);
  const slash = plain.lastIndexOf('/');
  const dot = plain.indexOf('.', slash + 1);
  return dot < 0 ? plain : plain.slice(0, dot);
}

function dirOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? '' : path.slice(0, cut);
}

/** A path outside the standard library: its first element has a dot ("github.com/x", "example.com/app"). */
function isModulePath(path: string): boolean {
  const dot = path.indexOf('.');
  if (dot < 0) return false;
  const slash = path.indexOf('/');
  return slash < 0 || dot < slash;
}

/**
 * Returns the import path of the module the profiled program's main package belongs to, from
 * the functions' names and file names, or null when the profile does not tell (no `main.`
 * function with a file name, or no other package of the program). Functions under `main.` are
 * the service's own whatever this returns; this finds its other packages:
 * - built with -trimpath, a package's files are named by import path, and the module is the
 *   longest shared prefix of the main package's directory and such a package (at least two
 *   path elements, so "github.com" alone never counts);
 * - otherwise a package's directory ends with the part of its import path below the module, and
 *   the rest of the directory must hold the main package's files too.
 * Dependencies from the module cache (a "@version" in the path) never count. The most common
 * answer over the functions wins, ties to the longer path.
 */
export function mainModuleOf(p: Profile): string | null {
  const fns = p.functions;
  const mainDirs = new Set<string>();
  for (let f = 0; f < fns.count; f++) {
    const name = p.strings[fns.name[f]];
    const file = p.strings[fns.filename[f]];
    if (name.startsWith('main.') && file.includes('/')) mainDirs.add(dirOf(file));
  }
  if (mainDirs.size === 0) return null;
  const votes = new Map<string, number>();
  const vote = (candidate: string) => votes.set(candidate, (votes.get(candidate) ?? 0) + 1);
  for (let f = 0; f < fns.count; f++) {
    const name = p.strings[fns.name[f]];
    if (name.startsWith('main.')) continue;
    const pkg = goPackageOf(name);
    const file = p.strings[fns.filename[f]];
    if (!isModulePath(pkg) || file.includes('@') || file.includes('/pkg/mod/')) continue;
    const dir = dirOf(file);
    const pkgParts = pkg.split('/');
    if (dir === pkg) {
      for (const mainDir of mainDirs) {
        const mainParts = mainDir.split('/');
        let k = 0;
        while (k < pkgParts.length && k < mainParts.length && pkgParts[k] === mainParts[k]) k++;
        if (k >= 2) vote(pkgParts.slice(0, k).join('/'));
      }
      continue;
    }
    const dirParts = dir.split('/');
    let k = 0;
    while (k < pkgParts.length && k < dirParts.length && pkgParts[pkgParts.length - 1 - k] === dirParts[dirParts.length - 1 - k]) k++;
    if (k === 0 || k === pkgParts.length) continue;
    const root = dirParts.slice(0, dirParts.length - k).join('/');
    if ([...mainDirs].some((m) => m === root || m.startsWith(`${root}/`))) vote(pkgParts.slice(0, pkgParts.length - k).join('/'));
  }
  let best: string | null = null;
  let bestVotes = 0;
  for (const [candidate, n] of votes) {
    if (n > bestVotes || (n === bestVotes && best !== null && candidate.length > best.length)) {
      best = candidate;
      bestVotes = n;
    }
  }
  return best;
}
