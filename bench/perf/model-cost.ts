/**
 * What one call of the Universal Sentence Encoder costs against its shape: batches of n copies
 * of one corpus text (n 1 to 32, texts of about 8 to 256 tokens), timed on the model itself in
 * this process, no HTTP. Why: a dispatch rule that reads input length (bytes) has to match how
 * the model charges length, and the simulator's USE-like models are a guess at that. Measured
 * 2026-12-03: about 4 ms a call and 0.37-0.5 ms per token of every input, flat past 128 tokens
 * (the model truncates there), see docs/benchmarks-dispatch.md.
 *
 *   node --import tsx bench/perf/model-cost.ts
 */
import { performance } from 'node:perf_hooks';
import { BUILT_IN_CORPUS } from '../../src/loadgen/corpus.js';
import { wordCount } from '../policy/upstream-models.js';
import { loadUseModel } from '../upstreams/use-model.js';
import { median } from './dispatch.js';
import { isMain } from './perf-services.js';

const TOKEN_TARGETS = [8, 16, 32, 64, 128, 256] as const;
const BATCH_SIZES = [1, 4, 8, 16, 32] as const;
/** Calls timed per cell (fewer for the slow cells, so the run stays under two minutes). */
const REPEATS = 7;
const SLOW_REPEATS = 3;
const SLOW_TOKENS = 2000;

async function main(): Promise<void> {
  const model = await loadUseModel();
  const texts = BUILT_IN_CORPUS.map((text) => ({
    ids: model.tokenizer.encode(text),
    words: wordCount(text),
  }));
  console.log('| tokens (words) | ' + BATCH_SIZES.map((n) => `n = ${n}`).join(' | ') + ' |');
  console.log('| --- |' + BATCH_SIZES.map(() => ' ---: |').join(''));
  for (const target of TOKEN_TARGETS) {
    // The corpus text whose token count is nearest the target.
    const text = texts.reduce((best, t) => (Math.abs(t.ids.length - target) < Math.abs(best.ids.length - target) ? t : best));
    const cells: string[] = [];
    for (const n of BATCH_SIZES) {
      const batch = Array.from({ length: n }, () => text.ids);
      await model.embed(batch); // the first call of a shape compiles it
      const times: number[] = [];
      const repeats = n * text.ids.length > SLOW_TOKENS ? SLOW_REPEATS : REPEATS;
      for (let i = 0; i < repeats; i++) {
        const started = performance.now();
        await model.embed(batch);
        times.push(performance.now() - started);
      }
      cells.push(`${median(times).toFixed(1)} ms`);
    }
    console.log(`| ${text.ids.length} (${text.words}) | ${cells.join(' | ')} |`);
  }
}

if (isMain(import.meta.url)) await main();
