/**
 * What batching can gain on the Universal Sentence Encoder at all, measured on the model itself
 * (in this process, no HTTP): every text of a set embedded one call each, then in batches of 32
 * in the set's order (what a proxy gets from 32 clients sending random texts), then in batches
 * of 32 and of 8 after sorting by length (the best grouping any batcher could make, with the
 * whole set queued at once). The model pads each batch to its longest input, so the order
 * matters. The best ratio bounds what a proxy can reach in front of this model on this machine.
 */
import { loadUseModel } from '../upstreams/use-model.js';
import type { TextSet } from '../text-sets.js';

export interface ModelCeiling {
  texts: TextSet;
  singleInputsPerSecond: number;
  /** Batches of 32 in the set's order. */
  batchedInputsPerSecond: number;
  /** Batches of 32 after sorting by token count. */
  sortedInputsPerSecond: number;
  /** Batches of 8 after sorting by token count. */
  sortedSmallInputsPerSecond: number;
}

const BATCH = 32;
const SMALL_BATCH = 8;

async function inputsPerSecond(embed: (items: number[][]) => Promise<unknown>, batches: number[][][]): Promise<number> {
  let inputs = 0;
  const started = performance.now();
  for (const batch of batches) {
    await embed(batch);
    inputs += batch.length;
  }
  return inputs / ((performance.now() - started) / 1000);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function measureModelCeiling(sets: readonly TextSet[]): Promise<ModelCeiling[]> {
  const model = await loadUseModel();
  const embed = (items: number[][]): Promise<unknown> => model.embed(items);
  const results: ModelCeiling[] = [];
  for (const texts of sets) {
    const tokens = texts.texts.map((text) => model.tokenizer.encode(text));
    const singles = tokens.map((ids) => [ids]);
    const inOrder = chunks(tokens, BATCH);
    const byLength = [...tokens].sort((a, b) => a.length - b.length);
    const sorted = chunks(byLength, BATCH);
    const sortedSmall = chunks(byLength, SMALL_BATCH);
    const plans = [singles, inOrder, sorted, sortedSmall];
    // The model runs several times slower for its first calls of each shape: one unmeasured pass.
    for (const batches of plans) await inputsPerSecond(embed, batches);
    const [single, batched, sortedRate, sortedSmallRate] = [
      await inputsPerSecond(embed, singles),
      await inputsPerSecond(embed, inOrder),
      await inputsPerSecond(embed, sorted),
      await inputsPerSecond(embed, sortedSmall),
    ];
    results.push({
      texts,
      singleInputsPerSecond: single,
      batchedInputsPerSecond: batched,
      sortedInputsPerSecond: sortedRate,
      sortedSmallInputsPerSecond: sortedSmallRate,
    });
  }
  return results;
}
