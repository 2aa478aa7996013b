/**
 * "Does not pad" from banded calls (the exploration's or a plan's) costing alike whatever their
 * length (cost-model.ts, the length-blind fit): its edges on the cost model, and the adaptive
 * policy leaving its exploration by it. Time is what the calls report, never the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { AdaptivePolicy, EXPLORE_CALLS } from '../../../src/core/policy/adaptive-policy.js';
import { CostModel } from '../../../src/core/policy/cost-model.js';
import { seededRandom } from '../../support/seeded-random.js';

const ROUTE = '/embed';

/** Bands of factor 2 as the exploration cuts them from a mix like the built-in corpus's: short, medium, paragraphs. */
const BANDS: readonly (readonly [number, number])[] = [
  [20, 32],
  [100, 128],
  [450, 700],
];

interface BandedCalls {
  /** The upstream's cost of a call of these input lengths. */
  cost: (lengths: readonly number[]) => number;
  /** Uniform noise of ± this on each call's time. */
  noiseMs?: number;
  /** Which bands the calls come from (default: all three in turn). */
  bands?: readonly (readonly [number, number])[];
  banded?: boolean;
  /** Inputs per call (default: 16 to 32 at random). */
  count?: number;
  /** Of the lengths, sizes and noise (default 11). */
  seed?: number;
}

/** Calls of 16 to 32 inputs cut from one band each, one after the other, kept going across feeds. */
class BandedCaller {
  private readonly rand: () => number;
  private time = 0;
  private calls = 0;

  constructor(private readonly shape: BandedCalls) {
    this.rand = seededRandom(shape.seed ?? 11);
  }

  /** Feeds `calls` more calls; returns the verdict after each. */
  feed(model: CostModel, calls: number): (boolean | null)[] {
    const { rand, shape } = this;
    const bands = shape.bands ?? BANDS;
    const verdicts: (boolean | null)[] = [];
    for (let i = 0; i < calls; i++) {
      const [low, high] = bands[this.calls++ % bands.length]!;
      const lengths = Array.from({ length: shape.count ?? 16 + Math.floor(rand() * 17) }, () => low + Math.floor(rand() * (high - low)));
      const ms = shape.cost(lengths) + (shape.noiseMs ?? 0) * (2 * rand() - 1);
      model.observe({
        startedAt: this.time,
        finishedAt: this.time + ms,
        items: lengths.length,
        longestBytes: Math.max(...lengths),
        totalBytes: lengths.reduce((a, b) => a + b, 0),
        banded: shape.banded ?? true,
      });
      verdicts.push(model.pads);
      this.time += ms + 1;
    }
    return verdicts;
  }
}

/** Feeds `calls` calls of 16 to 32 inputs cut from one band each, one after the other; returns the verdict after each. */
function feed(model: CostModel, calls: number, shape: BandedCalls): (boolean | null)[] {
  return new BandedCaller(shape).feed(model, calls);
}

/** GPU-like: 10 ms + 0.1 ms an input, whatever the lengths. */
const lengthBlind = (lengths: readonly number[]): number => 10 + 0.1 * lengths.length;
/** Padded: 2 ms + 0.002 ms per byte of every input padded to the longest. */
const padded = (lengths: readonly number[]): number => 2 + 0.002 * lengths.length * Math.max(...lengths);
/** Unpadded but length-sensitive: 2 ms + 0.002 ms per real byte. */
const byTotal = (lengths: readonly number[]): number => 2 + 0.002 * lengths.reduce((a, b) => a + b, 0);
/** The padding a call of 32 from the whole mix holds (about 32 × (650 − 200) bytes). */
const AT_STAKE = 32 * 450;

function model(): CostModel {
  const m = new CostModel();
  m.setUnbucketedWaste(AT_STAKE);
  return m;
}

describe('"does not pad" from the banded calls costing alike', () => {
  it('comes from a weight of 10 banded calls (the 11th call fitted) on a length-blind upstream, and says how it was told', () => {
    const m = model();
    const verdicts = feed(m, 14, { cost: lengthBlind });
    // A call is fitted when the next one arrives (calls answered together are one batch).
    expect(verdicts.slice(0, 11)).toEqual(new Array(11).fill(null));
    expect(verdicts[11]).toBe(false);
    expect(m.lengthFree).toBe(true);
  });

  it('holds through noise of ±2 ms on 13 ms calls, from a few more calls', () => {
    const m = model();
    const verdicts = feed(m, 40, { cost: lengthBlind, noiseMs: 2 });
    const first = verdicts.indexOf(false);
    expect(first).toBeGreaterThan(10);
    expect(first).toBeLessThan(30);
    expect(m.lengthFree).toBe(true);
  });

  it('is withheld while noise leaves the bound over a quarter of a call (±12 ms on 13 ms calls)', () => {
    const m = model();
    expect(feed(m, 20, { cost: lengthBlind, noiseMs: 12 })).not.toContain(false);
  });

  it('never comes on a padded upstream, which is found to pad', () => {
    const m = model();
    const verdicts = feed(m, 40, { cost: padded, noiseMs: 1 });
    expect(verdicts).not.toContain(false);
    expect(m.pads).toBe(true);
    expect(m.lengthFree).toBe(false);
  });

  it('never comes on an upstream that charges real bytes: length costs there, and only the four-term fit may tell "does not pad"', () => {
    const m = model();
    feed(m, 20, { cost: byTotal });
    expect(m.lengthFree).toBe(false);
  });

  it('needs calls of different lengths: calls alike fit any length cost exactly (no residual, no spread) and tell nothing', () => {
    const m = model();
    expect(feed(m, 40, { cost: lengthBlind, bands: [[50, 51]], count: 4 })).not.toContain(false);
  });

  it('overturns "pads" once the upstream stops charging length, from banded calls made since, and for good', () => {
    const m = model();
    feed(m, 30, { cost: padded, banded: false });
    expect(m.pads).toBe(true);
    const verdicts = feed(m, 60, { cost: lengthBlind });
    const flip = verdicts.indexOf(false);
    // The banded calls before "pads" were dropped with it: the flip needs a weight of 10 new ones.
    expect(flip).toBeGreaterThanOrEqual(11);
    expect(verdicts.slice(flip)).toEqual(new Array(60 - flip).fill(false));
    expect(m.lengthFree).toBe(true);
  });

  it('does not flap: "pads" found again is overturned only by banded calls made after it', () => {
    const m = model();
    feed(m, 30, { cost: padded, banded: false });
    feed(m, 20, { cost: lengthBlind });
    expect(m.pads).toBe(false);
    // The four-term fit takes it back once the length-blind calls have faded from it (about 240 calls).
    const again = feed(m, 300, { cost: padded, banded: false });
    expect(again).toContain(true);
    expect(m.pads).toBe(true);
    // The length-free calls from before would still vouch for "length costs nothing".
    expect(feed(m, 9, { cost: lengthBlind })).toEqual(new Array(9).fill(true));
  });

  it('overturns "pads" only against a full batch’s padding at stake: a lone client’s (almost none) rules nothing out', () => {
    // The same calls, the same fits; only what is at stake differs. At a lone client's load the
    // padding at stake is almost nil, and any length cost times nothing is under a quarter of a call.
    const overturned = (fullBatch: number): boolean => {
      const m = new CostModel();
      m.setUnbucketedWaste(AT_STAKE);
      feed(m, 30, { cost: padded, banded: false });
      expect(m.pads).toBe(true);
      m.setUnbucketedWaste(1, fullBatch);
      // Banded calls from a padded upstream, with little padding in each: a lone client's trickle under a plan.
      return feed(m, 40, {
        cost: padded,
        bands: [
          [40, 41],
          [600, 601],
        ],
        count: 2,
      }).includes(false);
    };
    expect(overturned(1)).toBe(true);
    expect(overturned(AT_STAKE)).toBe(false);
  });

  it('ends the exploration against the padding at stake at the current load, not a full batch’s (only overturning "pads" takes that)', () => {
    const m = new CostModel();
    m.setUnbucketedWaste(AT_STAKE, 1000 * AT_STAKE);
    expect(feed(m, 14, { cost: lengthBlind })[11]).toBe(false);
  });

  it('keeps "pads" on a padded upstream bucketed by a plan (its banded calls show the length it charges)', () => {
    const m = model();
    feed(m, 30, { cost: padded, banded: false });
    expect(feed(m, 100, { cost: padded, noiseMs: 1 })).toEqual(new Array(100).fill(true));
  });

  it('needs padding at stake: with none known (and the calls holding none) there is nothing to rule out', () => {
    const m = new CostModel();
    expect(
      feed(m, 40, {
        cost: lengthBlind,
        bands: [
          [20, 21],
          [640, 641],
        ],
      }),
    ).not.toContain(false);
  });

  it('counts only banded calls: the same calls unflagged leave it to the four-term fit (32 calls holding padding)', () => {
    const m = model();
    const verdicts = feed(m, 20, { cost: lengthBlind, banded: false });
    expect(verdicts).not.toContain(false);
  });
});

describe('"does not pad" from the four-term fit', () => {
  it('counts only calls that held padding: calls of one input first do not bring it closer', () => {
    const fresh = model();
    const afterSingles = model();
    let time = 0;
    for (let i = 0; i < 60; i++) {
      afterSingles.observe({ startedAt: time, finishedAt: time + 10.1, items: 1, longestBytes: 30 + (i % 7) * 100, totalBytes: 30 + (i % 7) * 100 });
      time += 11;
    }
    // Unflagged calls of 16 to 32 that hold padding, from a length-blind upstream: the fit alone must vouch for it.
    const a = feed(fresh, 30, { cost: lengthBlind, banded: false });
    const b = feed(afterSingles, 30, { cost: lengthBlind, banded: false });
    expect(a).not.toContain(false);
    expect(b).not.toContain(false);
  });
});

/**
 * An adaptive policy on a clock of its own, whose traffic splits into BANDS, so it explores; and
 * full banded calls, one band after another, until the exploration ends (64 calls at most).
 */
function exploringPolicy() {
  const clock = { now: 0 };
  const policy = new AdaptivePolicy({ replicas: 1, maxBatchSize: 32, defaultHoldMs: 5, now: () => clock.now });
  const rand = seededRandom(5);
  const lengthOf = (i: number): number => {
    const [low, high] = BANDS[i % BANDS.length]!;
    return low + Math.floor(rand() * (high - low));
  };
  for (let i = 0; i < 64; i++) policy.requestArrived(ROUTE, lengthOf(i));
  expect(policy.bucketFactor(ROUTE)).toBe(2);
  /** `call` gives a call's duration and the time from its start to its answer reaching the policy; returns the calls made. */
  const exploreUntilDecided = (call: (lengths: number[]) => { ms: number; gapMs: number }): number => {
    let calls = 0;
    while (policy.bucketFactor(ROUTE) !== undefined && calls < 64) {
      const band = BANDS[calls % BANDS.length]!;
      const lengths = Array.from({ length: 32 }, () => band[0] + Math.floor(rand() * (band[1] - band[0])));
      for (const length of lengths) policy.requestArrived(ROUTE, length);
      const startedAt = clock.now;
      const { ms, gapMs } = call(lengths);
      clock.now += gapMs;
      policy.callFinished({
        route: ROUTE,
        items: 32,
        longestBytes: Math.max(...lengths),
        totalBytes: lengths.reduce((a, b) => a + b, 0),
        startedAt,
        durationMs: ms,
        inflightAtStart: 1,
        queuedAtStart: 96,
        ok: true,
      });
      calls++;
    }
    return calls;
  };
  return { policy, rand, lengthOf, exploreUntilDecided };
}

describe('the adaptive policy exploring', () => {
  it('leaves the exploration as soon as the banded calls cost alike, and says why', () => {
    const { policy, exploreUntilDecided } = exploringPolicy();
    const calls = exploreUntilDecided((lengths) => {
      const ms = lengthBlind(lengths);
      return { ms, gapMs: ms + 1 };
    });
    // A weight of 10 banded calls and the one after it: well before the exploration's cap (EXPLORE_CALLS).
    expect(calls).toBe(12);
    const route = policy.snapshot().routes.find((r) => r.route === ROUTE)!;
    expect(route.pads).toMatchObject({ value: false, source: 'learned' });
    expect(route.pads.why).toMatch(/length bands’ calls cost alike/);
    expect(route.bucketFactor.value).toBeNull();
  });
});

describe('an exploration cut short (lengthVerdictOutOfReach)', () => {
  /** After each call, whether the rest of 32 calls could not tell either. */
  const outOfReach = (m: CostModel, calls: number, shape: BandedCalls): boolean[] => {
    const caller = new BandedCaller(shape);
    return Array.from({ length: calls }, () => {
      caller.feed(m, 1);
      return m.lengthVerdictOutOfReach(32);
    });
  };

  it('is said of calls too noisy for 32 to tell (±12 ms on 13 ms calls), from a weight of 10 banded calls', () => {
    const m = model();
    const seen = outOfReach(m, 20, { cost: lengthBlind, noiseMs: 12 });
    expect(m.pads).toBeNull();
    // Weights 9.35 at 10 calls and 10.2 at 11; the 11th is fitted when the 12th arrives.
    expect(seen.slice(0, 11)).toEqual(new Array(11).fill(false));
    expect(seen.indexOf(true)).toBeGreaterThanOrEqual(11);
    expect(seen.indexOf(true)).toBeLessThan(16);
  });

  it('is not said where the rest of 32 calls would tell (±2 ms), nor once they have told', () => {
    const m = model();
    const seen = outOfReach(m, 40, { cost: lengthBlind, noiseMs: 2 });
    expect(seen).not.toContain(true);
    expect(m.pads).toBe(false);
  });

  it('is said only where the rest of the 32 calls would not have told either (length-blind and padded upstreams, noise of ±2 to ±12 ms, three seeds)', () => {
    const costs = [
      lengthBlind,
      ...[0.0005, 0.001, 0.002, 0.01].map((perByte) => (lengths: readonly number[]) => 2 + perByte * lengths.length * Math.max(...lengths)),
    ];
    let cut = 0;
    let told = 0;
    for (const [c, cost] of costs.entries()) {
      for (const [noiseMs, seed] of [2, 3, 4, 6, 12].flatMap((noise) => [11, 12, 13].map((seed) => [noise, seed] as const))) {
        const m = model();
        const seen = outOfReach(m, 32, { cost, noiseMs, seed });
        const at = seen.indexOf(true);
        if (at < 0) {
          if (m.pads !== null) told++;
          continue;
        }
        cut++;
        // The 32 calls were made all the same: no verdict came after the point it was cut at.
        expect(m.pads, `cost ${c}, ±${noiseMs} ms, seed ${seed}, cut at call ${at + 1}`).toBeNull();
      }
    }
    // Neither side is vacuous: some were cut, and some that were not came to a verdict.
    expect(cut).toBeGreaterThanOrEqual(3);
    expect(told).toBeGreaterThanOrEqual(3);
  });

  it('projects the spread to the calls left: over the bar now, under it after many more calls (±6 ms)', () => {
    const m = model();
    outOfReach(m, 14, { cost: lengthBlind, noiseMs: 6 });
    expect(m.pads).toBeNull();
    // As measured (no more calls), the bound is over twice the bar; with 200 calls it would be under it.
    expect(m.lengthVerdictOutOfReach(1)).toBe(true);
    expect(m.lengthVerdictOutOfReach(200)).toBe(false);
  });

  it('is not said for fewer calls than the ones made: more cannot narrow what was measured', () => {
    const m = model();
    outOfReach(m, 14, { cost: lengthBlind, noiseMs: 12 });
    expect(m.lengthVerdictOutOfReach(32)).toBe(true);
    // At the calls' own weight the bound is the one measured, over the bar as well.
    expect(m.lengthVerdictOutOfReach(1)).toBe(true);
    // Nor would a thousand: the fit remembers about 67 calls (FORGET), and their spread is over the bar too.
    expect(m.lengthVerdictOutOfReach(1000)).toBe(true);
  });
});

describe('the adaptive policy cutting its exploration short', () => {
  it('ends it once its calls are too noisy to tell, says why, and does not explore again', () => {
    const { policy, rand, lengthOf, exploreUntilDecided } = exploringPolicy();
    // 13 ms of work that takes 1 to 25 ms: a busy machine's calls, 250 ms apart (REPLAN_MS): every answer re-plans.
    const calls = exploreUntilDecided((lengths) => ({ ms: lengthBlind(lengths) + 12 * (2 * rand() - 1), gapMs: 250 }));
    const route = policy.snapshot().routes.find((r) => r.route === ROUTE)!;
    expect(calls).toBeGreaterThan(10);
    expect(calls).toBeLessThan(EXPLORE_CALLS);
    expect(route.pads.value).toBeNull();
    expect(route.bucketFactor).toMatchObject({
      value: null,
      why: expect.stringMatching(/vary too much in time for a verdict within the exploration/),
    });
    for (let i = 0; i < 256; i++) policy.requestArrived(ROUTE, lengthOf(i));
    expect(policy.bucketFactor(ROUTE)).toBeUndefined();
  });
});
