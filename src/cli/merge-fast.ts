import { statSync } from 'node:fs';
import { readInputFile, writeFileAtomic } from './files.js';
import { mergeReport, mergeSmallWithKernel, SMALL_INPUT_BYTES } from './merge-small.js';

/**
 * `hotpath merge` of small inputs without the CLI: bin/hotpath.js calls this (bundled on its own,
 * dist/bundle/cli/merge-fast.cjs) before it loads the CLI bundle, because for a merge that takes
 * the merge kernel a few milliseconds, reading, compiling and running the whole CLI and commander
 * was a fifth of the process. It takes only the plainest command line, `merge [-o|--output OUT]
 * [-q|--quiet] [--drop-labels] IN...`, and only the success of the kernel's path; for
 * anything else (other flags, help, --pgo, a missing file, large inputs, the kernel declining,
 * a failed write) it returns why, having printed nothing, and the launcher runs the CLI, which
 * does the same merge or gives its error. Returns null when it merged and wrote the output.
 */
export function tryFastMerge(args: string[]): string | null {
  const started = performance.now();
  let output: string | undefined;
  let quiet = false;
  let dropLabels = false;
  const inputs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-o' || a === '--output' || a.startsWith('--output=')) {
      const value = a.startsWith('--output=') ? a.slice('--output='.length) : args[++i];
      if (output !== undefined || value === undefined || value === '' || value.startsWith('-')) return 'an --output the CLI reads';
      output = value;
    } else if (a === '-q' || a === '--quiet') {
      quiet = true;
    } else if (a === '--drop-labels') {
      dropLabels = true;
    } else if (a.startsWith('-')) {
      return `the flag ${a}`;
    } else {
      inputs.push(a);
    }
  }
  if (output === undefined || inputs.length === 0) return 'no output or no inputs';
  let merged: ReturnType<typeof mergeSmallWithKernel>;
  try {
    // Sizes first: a large input is not read twice (here and by the CLI).
    let inputBytes = 0;
    for (const path of inputs) inputBytes += statSync(path).size;
    if (inputBytes > SMALL_INPUT_BYTES) return `${inputBytes} bytes of input, more than ${SMALL_INPUT_BYTES}`;
    const files = inputs.map((path) => readInputFile(path));
    merged = mergeSmallWithKernel(files, dropLabels);
    if ('declined' in merged) return merged.declined;
    writeFileAtomic(output, merged.gzip);
  } catch (err) {
    return (err as Error).message;
  }
  if (!quiet) {
    const note = `${merged.mergedSamples} samples`;
    process.stderr.write(mergeReport(output, started, merged.gzip.length, inputs.length, merged.inputSamples, note));
  }
  return null;
}
