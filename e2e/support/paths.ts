// The e2e tests find fixtures and the launcher the same way the unit tests do.
export { fixture, repoRoot } from '../../src/testing/fixtures.js';
export { hotpathBin } from '../../src/testing/hotpath-bin.js';
