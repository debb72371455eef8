/**
 * Returns the index of `s` in `strings`, appending it when `index` (which maps the strings
 * appended this way to their index) does not know it yet.
 */
export function internString(strings: string[], index: Map<string, number>, s: string): number {
  let i = index.get(s);
  if (i === undefined) {
    i = strings.length;
    strings.push(s);
    index.set(s, i);
  }
  return i;
}
