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

    it('three per call: the expected longest of an odd number of draws', () => {
      const longest = 100 * 0.75 ** 3 + 1000 * (1 - 0.75 ** 3);
      near(mix().costPerInput(fit, undefined, 32, 3), 2 / 3 + 0.1 + 0.01 * 325 + 0.01 * (longest - 325));
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

describe('the length mix', () => {
  /** The length a histogram bin stands for: the middle of the eighth of an octave holding `bytes`. */
  const centre = (bytes: number): number => 2 ** ((Math.floor(Math.log2(bytes) * 8) + 0.5) / 8);
  const added = (lengths: readonly number[]): LengthProfile => {
    const profile = new LengthProfile();
    for (const length of lengths) profile.add(length);
    return profile;
  };
  const times = (count: number, length: number): number[] => new Array<number>(count).fill(length);

  it('has a mean length of 0 before any request', () => {
    expect(new LengthProfile().meanBytes).toBe(0);
  });

  it('lets every length lose a tenth of its weight at every 64th request, not before', () => {
    const lengths = added([...times(64, 100), ...times(63, 1000)]);
    // The 64 short ones faded once (57.6); the 63 long ones not yet.
    expect(lengths.meanBytes).toBeCloseTo((57.6 * centre(100) + 63 * centre(1000)) / 120.6, 9);
    lengths.add(1000);
    expect(lengths.meanBytes).toBeCloseTo((57.6 * 0.9 * centre(100) + 64 * 0.9 * centre(1000)) / (0.9 * 121.6), 9);
  });

  it('forgets a length once its weight fades below a hundredth of a request (44 fades of one request)', () => {
    const lengths = added([10_000, ...times(64 * 43 - 1, 100)]);
    // 0.9^43 = 0.0108: still there.
    expect(lengths.meanBytes).toBeGreaterThan(centre(100) + 0.1);
    for (let i = 0; i < 64; i++) lengths.add(100);
    // 0.9^44 = 0.0097: gone, and with it every padding byte.
    expect(lengths.meanBytes).toBeCloseTo(centre(100), 9);
    expect(lengths.expectedWaste(8)).toBeCloseTo(0, 9);
  });

  it('splits when the largest band holds exactly the share given, not more', () => {
    expect(added([...times(10, 100), ...times(10, 1000)]).splits(2, 0.5)).toBe(true);
    expect(added([...times(10, 100), ...times(11, 1000)]).splits(2, 0.5)).toBe(false);
  });

  it('reads the lengths in length order, whatever order they came in', () => {
    const rising = added([...times(10, 50), ...times(10, 300), ...times(10, 2000)]);
    const falling = added([...times(10, 2000), ...times(10, 50), ...times(10, 300)]);
    expect(falling.expectedWaste(4)).toBeCloseTo(rising.expectedWaste(4), 9);
    const fit = { fixedMs: 2, perInputMs: 0.1, perByteMs: 0.01, padPerByteMs: 0.01, samples: 100 };
    expect(falling.costPerInput(fit, undefined, 32, 4)).toBeCloseTo(rising.costPerInput(fit, undefined, 32, 4), 9);
    expect(falling.costPerInput(fit, 2, 32, 12)).toBeCloseTo(rising.costPerInput(fit, 2, 32, 12), 9);
  });

  it('takes a later plan only when it is more than 0.1% cheaper', () => {
    // Only a fixed cost per call: 999 ms / 999 inputs = 1 ms per input, / 1000 = 0.999 exactly 0.1% less.
    const fixedOnly = { fixedMs: 999, perInputMs: 0, perByteMs: 0, padPerByteMs: 0, samples: 100 };
    const lengths = added(times(40, 100));
    expect(lengths.bestPlan(fixedOnly, 1000, 2000, [undefined], [999, 1000]).batchSize).toBe(999);
    expect(lengths.bestPlan(fixedOnly, 1000, 2000, [undefined], [999, 1001]).batchSize).toBe(1001);
  });
  describe('LengthProfile.bandShare', () => {
    it('is nothing before any request', () => {
      expect(new LengthProfile().bandShare(100, 2)).toBe(0);
    });

    it('gives the share of the requests in the band of a length, as the plan bands them', () => {
      // 100 and 120 share a band of factor 2 (64 to 127 bytes; bins read at their middles, 99 and 119), 1000 is in another.
      const lengths = added([...times(10, 100), ...times(10, 120), ...times(20, 1000)]);
      expect(lengths.bandShare(110, 2)).toBeCloseTo(0.5, 9);
      expect(lengths.bandShare(100, 2)).toBeCloseTo(0.5, 9);
      expect(lengths.bandShare(900, 2)).toBeCloseTo(0.5, 9);
      // Under factor 1.1 each length is its own band.
      expect(lengths.bandShare(100, 1.1)).toBeCloseTo(0.25, 9);
      expect(lengths.bandShare(120, 1.1)).toBeCloseTo(0.25, 9);
      // A length no request had: an empty band.
      expect(lengths.bandShare(300, 2)).toBe(0);
    });
  });
});
