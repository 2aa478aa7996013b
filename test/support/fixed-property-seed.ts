/**
 * Setup file for mutation runs (vitest.mutation.config.ts): fast-check property tests draw the same
 * cases on every run, so whether a mutant survives does not depend on the luck of the seed.
 */
import fc from 'fast-check';

fc.configureGlobal({ seed: 20261130 });
