/**
 * StrykerJS: mutation testing of the batching core (`npm run test:mutation`, docs/mutation-testing.md).
 * It asks whether the core's tests notice when its code is changed, which line coverage cannot.
 * Not part of `npm test`: a full run takes longer than CI's budget allows (see the docs).
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // The core and its dispatch policy (src/core/policy/ once merged): pure logic on injected time,
  // whose tests run in milliseconds, which is what makes mutating them affordable.
  mutate: ['src/core/**/*.ts'],
  vitest: {
    configFile: 'vitest.mutation.config.ts',
    // Run every test of test/core/ that covers a mutant, not only files importing the mutated one.
    related: false,
  },
  coverageAnalysis: 'perTest',
  // The machine's 2 cores are shared with other engineers' builds and tests.
  concurrency: 2,
  // A busy shared machine makes timings jumpy; the core's tests take milliseconds, so a mutant
  // that loops forever is still caught within seconds.
  timeoutMS: 10_000,
  // Results per mutant, reused by `--incremental` runs for code and tests that did not change.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // Nothing outside src/, test/ and the configs is needed to run test/core/ (smaller sandbox copy).
  ignorePatterns: ['bench', 'sim', 'examples', 'dist', 'dist-sim', 'docs', 'scripts', 'Dockerfile', 'docker-compose*.yml'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // high/low colour the report; break fails the command (exit code 1) below it.
  thresholds: { high: 90, low: 80, break: 75 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
