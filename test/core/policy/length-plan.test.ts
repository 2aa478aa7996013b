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

  describe('the cost per input, computed (three queries of 100 bytes for each paragraph of 1000)', () => {
    const fit = { fixedMs: 2, perInputMs: 0.1, perByteMs: 0.01, padPerByteMs: 0.01, samples: 100 };
    const mix = (): LengthProfile => {
      const lengths = new LengthProfile();
      for (let i = 0; i < 400; i++) lengths.add(i % 4 === 3 ? 1000 : 100);
      return lengths;
    };
    // Lengths are kept on an eighth-octave scale (within 4.4%), hence the tolerance.
    const near = (value: number, expected: number): void => expect(Math.abs(value / expected - 1)).toBeLessThan(0.04);

    it('one input per call: the fixed cost and the mean length, no padding', () => {
      near(mix().costPerInput(fit, undefined, 32, 1), 2 + 0.1 + 0.01 * 325);
    });

    it('four per call: the fixed cost shared, and the expected longest of four draws padded to', () => {
      // P(a paragraph among 4) = 1 - 0.75^4; expected longest 100 * 0.316 + 1000 * 0.684.
      const longest = 100 * 0.75 ** 4 + 1000 * (1 - 0.75 ** 4);
      near(mix().costPerInput(fit, undefined, 32, 4), 2 / 4 + 0.1 + 0.01 * 325 + 0.01 * (longest - 325));
      // The batch size caps what a call takes.
      near(mix().costPerInput(fit, undefined, 2, 4), mix().costPerInput(fit, undefined, 32, 2));
    });

    it('two bands: queries in calls of three with no paragraph, paragraphs alone', () => {
      near(mix().costPerInput(fit, 2, 32, 4), 0.75 * (2 / 3 + 0.1 + 1) + 0.25 * (2 + 0.1 + 10));
    });

    it('chooses the cheaper plan, ties to the first listed', () => {
      const plan = mix().bestPlan(fit, 32, 4, [undefined, 2]);
      expect(plan.factor).toBe(2);
      near(plan.costPerInputMs, 0.75 * (2 / 3 + 0.1 + 1) + 0.25 * (2 + 0.1 + 10));
      expect(mix().bestPlan(fit, 32, 4, [2, 2]).factor).toBe(2);
      const flat = { ...fit, padPerByteMs: 0, fixedMs: 0 };
      expect(mix().bestPlan(flat, 32, 4, [undefined, 2]).factor).toBeUndefined();
    });
  });

  it('trusts the mix from 30 requests, and lets old lengths fade', () => {
    const lengths = new LengthProfile();
    for (let i = 0; i < 29; i++) lengths.add(100);
    expect(lengths.known).toBe(false);
    lengths.add(100);
    expect(lengths.known).toBe(true);
    // Short texts, then paragraphs only: the short ones fade (a tenth every 64 requests) until the
    // paragraphs' band holds more than 90% of the mix, and nothing splits it any more.
    for (let i = 0; i < 34; i++) lengths.add(100);
    expect(lengths.splits(2, 0.9)).toBe(false);
    for (let i = 0; i < 64; i++) lengths.add(1000);
    expect(lengths.splits(2, 0.9)).toBe(true);
    for (let i = 0; i < 64 * 30; i++) lengths.add(1000);
    expect(lengths.splits(2, 0.9)).toBe(false);
    expect(new LengthProfile().splits(2, 0.9)).toBe(false);
  });
});

describe('LengthProfile.expectedWaste', () => {
  it('is nothing for one length, and grows with the batch for a mix', () => {
    const one = new LengthProfile();
    for (let i = 0; i < 40; i++) one.add(100);
    expect(one.expectedWaste(16)).toBeCloseTo(0, 6);
    const mixed = new LengthProfile();
    for (let i = 0; i < 40; i++) mixed.add(i % 4 === 3 ? 800 : 50);
    const two = mixed.expectedWaste(2);
    const sixteen = mixed.expectedWaste(16);
    // Two inputs: the longest is the paragraph in 7 draws of 16, so about 2 x (7/16 x 800 + 9/16 x 50 - 237.5) bytes.
    expect(two).toBeGreaterThan(250);
    expect(two).toBeLessThan(450);
    // Sixteen: nearly always a paragraph, about 16 x (800 - 237.5).
    expect(sixteen).toBeGreaterThan(8000);
    expect(sixteen).toBeLessThan(9500);
    expect(new LengthProfile().expectedWaste(8)).toBe(0);
  });
});
