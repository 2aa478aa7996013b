/** Choosing length buckets and batch size from the length mix and the cost fit. */
import { describe, expect, it } from 'vitest';
import { LengthProfile } from '../../../src/core/policy/length-plan.js';

function profile(): LengthProfile {
  const lengths = new LengthProfile();
  // Three short queries (40-80 bytes) for every paragraph (700-900 bytes).
  for (let i = 0; i < 400; i++) lengths.add(i % 4 === 3 ? 700 + ((i * 37) % 200) : 40 + ((i * 13) % 40));
  return lengths;
}

describe('length plan', () => {
  it('buckets lengths for an upstream that pads, at the largest batch', () => {
    const padded = { fixedMs: 2, perInputMs: 0, perByteMs: 0.01, padPerByteMs: 0.01, samples: 100 };
    const plan = profile().bestPlan(padded, 32, 64);
    expect(plan.factor).toBeDefined();
    expect(plan.batchSize).toBe(32);
    const lengths = profile();
    // And it is cheaper than no buckets by the model, by a lot (paragraphs no longer pad queries).
    expect(plan.costPerInputMs).toBeLessThan(0.5 * lengths.costPerInput(padded, undefined, 32, 64));
  });

  it('does not bucket when padding costs nothing (a split only makes batches smaller)', () => {
    const unpadded = { fixedMs: 10, perInputMs: 0.1, perByteMs: 0.001, padPerByteMs: 0, samples: 100 };
    const plan = profile().bestPlan(unpadded, 32, 64);
    expect(plan.factor).toBeUndefined();
    expect(plan.batchSize).toBe(32);
  });

  it('prefers fewer buckets when there are few inputs to share out (each band would get batches of one)', () => {
    // A high fixed cost per call and little padding: at 2 inputs in flight, splitting cannot pay.
    const costly = { fixedMs: 50, perInputMs: 0, perByteMs: 0.001, padPerByteMs: 0.001, samples: 100 };
    expect(profile().bestPlan(costly, 32, 2).factor).toBeUndefined();
  });
});
