import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

/** Path of the hotpath launcher, as a user runs it (tests that start it need a build of dist/src). */
export const hotpathBin: string = join(repoRoot, 'bin', 'hotpath.js');
