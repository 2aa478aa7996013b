/**
 * The vitest config StrykerJS runs (stryker.config.mjs): only the batching core's own tests.
 * Each mutant reruns the tests that cover it, so the proxy-level tests (real servers on loopback,
 * seconds each) would make a run take hours for mutants those fast fake-time tests already judge.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/core/**/*.test.ts'],
    // fast-check draws a new seed per run; a fixed one makes a mutant's fate the same on every
    // run, so scores before and after a change compare (the everyday `npm test` keeps random seeds).
    setupFiles: ['test/support/fixed-property-seed.ts'],
    // The core's tests take milliseconds: a mutant that leaves a promise pending fails fast instead of
    // waiting out Stryker's own timeout.
    testTimeout: 5_000,
  },
});
