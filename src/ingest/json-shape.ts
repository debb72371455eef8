/**
 * What is wrong with the shape of the JSON text in `bytes`, or null: nesting deeper than
 * `maxDepth` (JSON.parse recurses once per level, so 100,000 "[" overflow its stack), or more
 * than `maxContainers` objects and arrays. One pass over the bytes, skipping strings; it does not
 * otherwise check the JSON. Callers turn the answer into their own error.
 */
export function jsonShapeViolation(
  bytes: Uint8Array,
  maxDepth: number,
  maxContainers = Number.POSITIVE_INFINITY,
): 'depth' | 'containers' | null {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) return 'depth';
      if (++containers > maxContainers) return 'containers';
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
    }
  }
  return null;
}
