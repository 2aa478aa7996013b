/** The cost fit and padding verdict on calls from known cost models. */
import { describe, expect, it } from 'vitest';
import { CostModel } from '../../../src/core/policy/cost-model.js';
import { seededRandom } from '../../support/seeded-random.js';

/** One input in four a paragraph, as in the padded-upstream benchmark. */
function mixedLengths(rand: () => number, count: number): number[] {
  return Array.from({ length: count }, () => (rand() < 0.25 ? 600 + Math.floor(rand() * 360) : 30 + Math.floor(rand() * 60)));
}

function feed(
  model: CostModel,
  calls: number,
  cost: (lengths: number[]) => number,
  lengthsOf: (rand: () => number, count: number) => number[] = mixedLengths,
): void {
  const rand = seededRandom(7);
  let time = 0;
  for (let i = 0; i < calls; i++) {
    const lengths = lengthsOf(rand, 1 + Math.floor(rand() * 32));
    const ms = cost(lengths);
    // Calls one after the other, each with a small gap: the time fitted is the call's own.
    model.observe({
      startedAt: time,
      finishedAt: time + ms,
      items: lengths.length,
      longestBytes: Math.max(...lengths),
      totalBytes: lengths.reduce((a, b) => a + b, 0),
    });
    time += ms + 1;
  }
}

describe('cost model', () => {
  it('finds that an upstream pads when calls cost count × longest, and fits its costs', () => {
    const model = new CostModel();
    // 2 ms + 0.01 ms per byte of every input padded to the longest.
    feed(model, 60, (lengths) => 2 + 0.01 * lengths.length * Math.max(...lengths));
    expect(model.pads).toBe(true);
    const fit = model.costFit!;
    expect(fit.fixedMs).toBeCloseTo(2, 1);
    expect(fit.perByteMs).toBeCloseTo(0.01, 3);
    expect(fit.padPerByteMs).toBeCloseTo(0.01, 3);
  });

  it('finds that an upstream does not pad when calls cost the total length', () => {
    const model = new CostModel();
    feed(model, 60, (lengths) => 2 + 0.01 * lengths.reduce((a, b) => a + b, 0));
    expect(model.pads).toBe(false);
    expect(model.costFit!.padPerByteMs).toBeCloseTo(0, 4);
  });

  it('says "does not pad" only from about 45 calls (a weight of 32 with old calls fading), "pads" from a few', () => {
    const byTotal = (lengths: number[]): number => 2 + 0.01 * lengths.reduce((a, b) => a + b, 0);
    const early = new CostModel();
    feed(early, 40, byTotal);
    expect(early.pads).toBeNull();
    const later = new CostModel();
    feed(later, 50, byTotal);
    expect(later.pads).toBe(false);
    const padded = new CostModel();
    feed(padded, 10, (lengths) => 2 + 0.01 * lengths.length * Math.max(...lengths));
    expect(padded.pads).toBe(true);
  });

  it('does not say "does not pad" from calls with little padding when calls without buckets would hold much', () => {
    // Banded calls (lengths within 10% of each other) to an upstream that pads at 0.3x a real byte.
    const banded = (rand: () => number, count: number): number[] => {
      const base = rand() < 0.5 ? 50 : 800;
      return Array.from({ length: count }, () => base + Math.floor(rand() * base * 0.1));
    };
    const cost = (lengths: number[]): number => {
      const total = lengths.reduce((a, b) => a + b, 0);
      return 2 + 0.01 * total + 0.003 * (lengths.length * Math.max(...lengths) - total);
    };
    const alone = new CostModel();
    feed(alone, 80, cost, banded);
    expect(alone.pads).toBe(false);
    const told = new CostModel();
    told.setUnbucketedWaste(16 * 600);
    feed(told, 80, cost, banded);
    expect(told.pads).not.toBe(false);
  });

  it('gives no verdict when every input has the same length (nothing tells the two apart)', () => {
    const model = new CostModel();
    feed(
      model,
      60,
      (lengths) => 10 + 0.1 * lengths.length,
      (_rand, count) => new Array<number>(count).fill(40),
    );
    expect(model.pads).toBe(null);
    // Count and total length move together here, so only their sum is determined: the prediction.
    const fit = model.costFit!;
    expect(fit.fixedMs).toBeCloseTo(10, 1);
    expect(fit.fixedMs + 16 * fit.perInputMs + 16 * 40 * fit.perByteMs).toBeCloseTo(11.6, 1);
  });

  it('takes calls answered together (merged inside the upstream) as one batch', () => {
    const model = new CostModel();
    let time = 0;
    // Pairs of calls of 4 inputs answered at the same moment: one batch of 8 costing 10 + 1 per input.
    for (let i = 0; i < 40; i++) {
      for (let k = 0; k < 2; k++) model.observe({ startedAt: time, finishedAt: time + 18, items: 4, longestBytes: 40, totalBytes: 160 });
      time += 20;
    }
    const fit = model.costFit!;
    // Counted as 4-input calls the per-input cost would come out at 2 ms, not 1.
    expect(fit.fixedMs + 8 * fit.perInputMs).toBeCloseTo(18, 1);
  });

  it('sums calls answered together into one batch (inputs, lengths, start and end)', () => {
    const model = new CostModel();
    const rand = seededRandom(3);
    let time = 0;
    // Two calls answered together, of varied sizes and lengths: one batch costing 10 + 1 ms per input.
    for (let i = 0; i < 80; i++) {
      const a = 1 + Math.floor(rand() * 8);
      const b = 1 + Math.floor(rand() * 8);
      const ms = 10 + (a + b);
      const longA = 40 + Math.floor(rand() * 400);
      model.observe({ startedAt: time + 1, finishedAt: time + ms, items: a, longestBytes: longA, totalBytes: a * 40 });
      model.observe({ startedAt: time, finishedAt: time + ms + 0.4, items: b, longestBytes: 40, totalBytes: b * 40 + longA });
      time += ms + 5;
    }
    const fit = model.costFit!;
    expect(fit.fixedMs).toBeCloseTo(10, 0);
    expect(fit.perInputMs).toBeCloseTo(1, 1);
  });

  it("keeps a call's fixed cost apart from an input's own through a lone client's calls of one input, which show only their sum", () => {
    const model = new CostModel();
    let time = 0;
    const call = (items: number, ms: number, longest: number): void => {
      model.observe({ startedAt: time, finishedAt: time + ms, items, longestBytes: longest, totalBytes: items * longest });
      time += ms + 1;
    };
    // 10 ms a call, 2 ms an input, length free, at a busy level: calls of 2 to 9 inputs.
    for (let i = 0; i < 200; i++) call(2 + (i % 8), 10 + 2 * (2 + (i % 8)), 50);
    expect(model.costFit!.fixedMs).toBeCloseTo(10, 1);
    // A lone client: two thousand calls of one input (12 ms each, its fixed cost and its own, of
    // inputs of several lengths), thirty times the fit's memory.
    for (let i = 0; i < 2000; i++) call(1, 12, 40 + (i % 3) * 10);
    const fit = model.costFit!;
    expect(fit.fixedMs).toBeCloseTo(10, 1);
    expect(fit.perInputMs).toBeCloseTo(2, 1);
    // Under a tenth of a millisecond per kilobyte: length is free here.
    expect(Math.abs(fit.perByteMs * 1024)).toBeLessThan(0.1);
  });

  it('counts toward "does not pad" the calls that held padding before a lone client, whose calls do not age them', () => {
    // 2 ms a call and 0.01 ms a real byte, no padding, mixed lengths: "does not pad" once 32 calls held padding.
    const verdictAfter = (singles: number): boolean | null => {
      const model = new CostModel();
      let time = 0;
      const rand = seededRandom(3);
      const call = (lengths: number[]): void => {
        const total = lengths.reduce((a, b) => a + b, 0);
        const ms = 2 + 0.01 * total;
        model.observe({ startedAt: time, finishedAt: time + ms, items: lengths.length, longestBytes: Math.max(...lengths), totalBytes: total });
        time += ms + 1;
      };
      for (let i = 0; i < 25; i++) call(mixedLengths(rand, 8));
      expect(model.pads).toBeNull();
      for (let i = 0; i < singles; i++) call(mixedLengths(rand, 1));
      for (let i = 0; i < 25; i++) call(mixedLengths(rand, 8));
      return model.pads;
    };
    expect(verdictAfter(0)).toBe(false);
    expect(verdictAfter(500)).toBe(false);
  });

  it("judges the padding term on the busy calls' own noise, not on a lone client's quiet calls pooled with it", () => {
    // 10 ms a call and 0.01 ms a real byte, no padding: 300 calls of one input (±0.1 ms), then
    // calls of 2 to 31 inputs, one in four a paragraph, ±6 ms. Pooled, the quiet calls halved
    // the busy ones' variance, and in these two seeds the padding term stood 3 "standard errors"
    // clear of zero: "pads".
    for (const seed of [19, 35]) {
      const model = new CostModel();
      const rand = seededRandom(seed);
      let time = 0;
      const call = (lengths: number[], noiseMs: number): void => {
        const total = lengths.reduce((a, b) => a + b, 0);
        const ms = 10 + 0.01 * total + noiseMs * (rand() - 0.5);
        model.observe({ startedAt: time, finishedAt: time + ms, items: lengths.length, longestBytes: Math.max(...lengths), totalBytes: total });
        time += ms + 1;
      };
      for (let i = 0; i < 300; i++) call([40 + Math.floor(rand() * 20)], 0.2);
      for (let i = 0; i < 60; i++) {
        call(
          Array.from({ length: 2 + Math.floor(rand() * 30) }, () => (rand() < 0.25 ? 600 : 40)),
          12,
        );
        expect(model.pads, `seed ${seed}, call ${i}`).not.toBe(true);
      }
    }
  });

  it('fits from six calls on, and ignores a call of no duration', () => {
    const model = new CostModel();
    const call = (i: number, ms: number): void => {
      model.observe({
        startedAt: 100 * i,
        finishedAt: 100 * i + ms,
        items: 1 + (i % 5),
        longestBytes: 50 + 30 * (i % 3),
        totalBytes: 60 * (1 + (i % 5)),
      });
    };
    // Each call is added when the next one is not answered with it: five added weigh 4.94 (four of
    // two inputs or more, 3.91, and one of one input, its own stream: see WeightedFit), six 5.85.
    for (let i = 0; i < 5; i++) call(i, 5 + i);
    call(5, 0);
    expect(model.costFit).toBeNull();
    // The call of no duration is dropped when added: still five.
    call(6, 5);
    expect(model.costFit).toBeNull();
    call(7, 5);
    expect(model.costFit).not.toBeNull();
  });

  it('says how much of a call the padding is worth', () => {
    const padded = new CostModel();
    feed(padded, 60, (lengths) => 2 + 0.01 * lengths.length * Math.max(...lengths));
    expect(padded.paddingShare).toBeGreaterThan(0.5);
    const unpadded = new CostModel();
    feed(unpadded, 60, (lengths) => 2 + 0.01 * lengths.reduce((a, b) => a + b, 0));
    expect(Math.abs(unpadded.paddingShare)).toBeLessThan(0.01);
  });

  it('calls padding only what costs about what a real byte does or less (0.25x to 2x; 0.5x until 16 calls held padding)', () => {
    const total = (lengths: number[]): number => lengths.reduce((a, b) => a + b, 0);
    const waste = (lengths: number[]): number => lengths.length * Math.max(...lengths) - total(lengths);
    const verdict = (padFactor: number, calls = 80): boolean | null => {
      const model = new CostModel();
      feed(model, calls, (lengths) => 2 + 0.01 * total(lengths) + 0.01 * padFactor * waste(lengths));
      return model.pads;
    };
    expect(verdict(1.5)).toBe(true);
    expect(verdict(0.7)).toBe(true);
    expect(verdict(4)).toBe(null);
    expect(verdict(2.2)).toBe(null);
    expect(verdict(0.3)).toBe(true);
    expect(verdict(0.2)).toBe(null);
    // Early, under half a real byte is what a few noisy calls fit: not yet.
    expect(verdict(0.7, 12)).toBe(true);
    expect(verdict(0.3, 12)).toBe(null);
    expect(verdict(0.3, 24)).toBe(true);
  });
});

describe('cost model: calls answered together', () => {
  /** The fitted cost of a call of `count` inputs of 40 bytes (no padding). */
  const predict = (model: CostModel, count: number): number => {
    const fit = model.costFit!;
    return fit.fixedMs + count * fit.perInputMs + count * 40 * fit.perByteMs;
  };

  it('merges answers up to 0.5 ms apart, measured from the latest answer of the batch (a chain of three)', () => {
    const model = new CostModel();
    const rand = seededRandom(11);
    let time = 0;
    // Three calls answered 0.5 ms apart: one batch costing 10 ms + 1 ms per input, to the last answer.
    for (let i = 0; i < 60; i++) {
      const counts = [1, 2, 3].map(() => 1 + Math.floor(rand() * 8));
      const total = counts[0]! + counts[1]! + counts[2]!;
      counts.forEach((items, k) => {
        const finishedAt = time + 10 + total - 0.5 * (2 - k);
        expect(model.observe({ startedAt: time, finishedAt, items, longestBytes: 40, totalBytes: 40 * items })).toBe(false);
      });
      time += 10 + total + 5;
    }
    expect(predict(model, 3)).toBeCloseTo(13, 1);
    expect(predict(model, 24)).toBeCloseTo(34, 1);
  });

  it("takes a merged batch's longest input and summed lengths (a padded upstream)", () => {
    const model = new CostModel();
    const rand = seededRandom(5);
    let time = 0;
    for (let i = 0; i < 80; i++) {
      // Two calls answered together; the batch costs 2 ms + 0.01 ms per byte of its inputs padded to its longest.
      const calls = [0, 1].map(() => mixedLengths(rand, 1 + Math.floor(rand() * 16)));
      const all = calls.flat();
      const ms = 2 + 0.01 * all.length * Math.max(...all);
      for (const lengths of calls) {
        const sum = lengths.reduce((a, b) => a + b, 0);
        model.observe({ startedAt: time, finishedAt: time + ms, items: lengths.length, longestBytes: Math.max(...lengths), totalBytes: sum });
      }
      time += ms + 1;
    }
    const fit = model.costFit!;
    expect(fit.fixedMs).toBeCloseTo(2, 1);
    expect(fit.perByteMs).toBeCloseTo(0.01, 3);
    expect(fit.padPerByteMs).toBeCloseTo(0.01, 3);
  });

  it('reports no change of verdict for a first call, a merged one, or one of no duration', () => {
    const model = new CostModel();
    const call = (finishedAt: number, startedAt = 0): boolean => model.observe({ startedAt, finishedAt, items: 2, longestBytes: 50, totalBytes: 80 });
    // No duration: added (and dropped) when the next call is not answered with it.
    expect(call(0)).toBe(false);
    expect(call(10)).toBe(false);
    expect(call(10.2)).toBe(false);
  });

  it('keeps its last fit when a call of non-finite size (a caller bug) makes the system unsolvable', () => {
    const model = new CostModel();
    feed(model, 20, (lengths) => 2 + 0.01 * lengths.length * Math.max(...lengths));
    // Observing it adds the last call fed, which is the last fit to keep.
    model.observe({ startedAt: 1e6, finishedAt: 1e6 + 5, items: Infinity, longestBytes: 40, totalBytes: 40 });
    const before = { ...model.costFit! };
    for (let i = 1; i <= 3; i++)
      expect(model.observe({ startedAt: 1e6 + 100 * i, finishedAt: 1e6 + 100 * i + 5, items: 2, longestBytes: 40, totalBytes: 80 })).toBe(false);
    expect(model.costFit).toEqual(before);
  });
});
