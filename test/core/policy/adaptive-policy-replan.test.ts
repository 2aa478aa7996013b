/**
 * The adaptive policy's re-planning and its account, one rule at a time (mutation testing's third
 * pass): when a route is re-planned (answers, not requests; REPLAN_MS apart), the load estimate
 * plans are made for, a learned plan kept against a slightly cheaper one, pinned buckets, the
 * exploration's end, and what the snapshot and the decision log say meanwhile. All on made-up time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PolicyPins } from '../../../src/core/policy/adaptive-policy.js';
import { Gathering } from '../../../src/core/policy/gathering.js';
import { InflightLimit } from '../../../src/core/policy/inflight-limit.js';
import type { CallReport } from '../../../src/core/policy/dispatch-policy.js';
import { finishCall, makePolicy, reportCall, type MadePolicy } from '../../support/adaptive-policy.js';
import { seededRandom } from '../../support/seeded-random.js';

const ROUTE = '/embed';

const make = (pins: PolicyPins = {}, log = true): MadePolicy => makePolicy(pins, { log });

type Made = ReturnType<typeof make>;

/** Reports a call of `items` inputs of 50 bytes that started at `startedAt` and took `ms` (see reportCall). */
function equalCall(made: Made, items: number, startedAt: number, ms: number, report: Partial<CallReport> = {}): void {
  reportCall(made.policy, new Array<number>(items).fill(50), startedAt, ms, report);
}

interface Call {
  lengths: readonly number[];
  ms: number;
  /** Inputs queued and in flight when it was sent (default: its own). */
  load?: number;
  /** Each input reported as a request first (default true). */
  requests?: boolean;
}

/** Reports one call that started now and took `ms`, then lets `gapMs` pass. */
function call(made: Made, { lengths, ms, load, requests = true }: Call, gapMs = 100): void {
  finishCall(made, lengths, ms, { requests, inflightItemsAtStart: load ?? lengths.length });
  made.clock.now += gapMs;
}

/** 2 to 15 inputs, one in four a paragraph. */
function mixed(rand: () => number, count = 2 + Math.floor(rand() * 14)): number[] {
  return Array.from({ length: count }, () => (rand() < 0.25 ? 700 + Math.floor(rand() * 200) : 40 + Math.floor(rand() * 40)));
}

const sum = (lengths: readonly number[]): number => lengths.reduce((a, b) => a + b, 0);
/** 2 ms a call and 0.01 ms per padded byte. */
const padded = (lengths: readonly number[]): number => 2 + 0.01 * lengths.length * Math.max(...lengths);

function route(made: Made) {
  return made.policy.snapshot().routes.find((r) => r.route === ROUTE)!;
}

describe('adaptive policy: pinned buckets', () => {
  it('with --bucket-by-length 2, logs no bucket factor change and never lifts the staging slots when it learns the padding', () => {
    const made = make({ bucketByLength: 2 });
    const rand = seededRandom(11);
    const slots = new Set<number>();
    for (let i = 0; i < 120; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: padded(lengths) });
      slots.add(made.policy.stagingSlots());
    }
    expect(route(made).pads.value).toBe(true);
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    expect([...slots]).toEqual([1]);
    expect(made.changes.filter((change) => change.decision === 'bucketFactor')).toEqual([]);
  });

  it('with --bucket-by-length off, plans no buckets either: nothing logged, the staging slots kept', () => {
    const made = make({ bucketByLength: 'off' });
    const rand = seededRandom(11);
    const slots = new Set<number>();
    for (let i = 0; i < 120; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: padded(lengths) });
      slots.add(made.policy.stagingSlots());
    }
    expect(route(made).pads.value).toBe(true);
    expect([...slots]).toEqual([1]);
    expect(made.changes.filter((change) => change.decision === 'bucketFactor')).toEqual([]);
  });
});

describe('adaptive policy: the account while exploring', () => {
  it('shows the batch size in force while exploring: an amortized size learned before the mix split', () => {
    const made = make();
    // One length first (nothing to explore): 10 ms a call and 8.5 ms an input, so a call is paid off well before 32.
    for (let i = 0; i < 20; i++) call(made, { lengths: new Array<number>(2 + (i % 5)).fill(50), ms: 10 + 8.5 * (2 + (i % 5)) }, 300);
    const amortized = made.policy.batchSize(ROUTE);
    expect(amortized).toBeLessThan(32);
    // Then the mix splits, and the exploration's buckets start (capped by the amortized size).
    for (let i = 0; i < 64; i++) made.policy.requestArrived(ROUTE, i % 2 === 0 ? 50 : 800);
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    // Re-decided at the new mean length (the fit cannot tell a byte from an input yet), still amortized.
    const inForce = made.policy.batchSize(ROUTE);
    expect(inForce).toBeLessThanOrEqual(amortized);
    expect(route(made).batchSize).toMatchObject({ value: inForce, source: 'learned' });
    expect(route(made).batchSize.why).toMatch(/fixed cost/);
  });
});

describe('adaptive policy: when a route is re-planned', () => {
  /** One request per call of `n` inputs of 50 bytes, sent every 25 ms: 2 ms a call and 5 ms an input (paid off at 8). */
  function cpuCalls(made: Made, calls: number): number[] {
    const sizes: number[] = [];
    for (let i = 0; i < calls; i++) {
      const n = 2 + (i % 5);
      made.policy.requestArrived(ROUTE, 50);
      equalCall(made, n, 25 * i, 2 + 5 * n);
      sizes.push(made.policy.batchSize(ROUTE));
    }
    return sizes;
  }

  it('at the first answer 250 ms (REPLAN_MS) or more after the last plan, not at every answer', () => {
    // The first answer (at 12 ms) plans; the fit exists from the 7th call (at 162 ms), but the batch size moves
    // only at the 11th answer, exactly at 262 ms. (Fewer than 16 requests: the exploration's look never re-plans.)
    const sizes = cpuCalls(make({ maxInflight: 2 }), 12);
    expect(sizes.slice(0, 10)).toEqual(new Array(10).fill(32));
    expect(sizes.slice(10)).toEqual([8, 8]);
  });

  it('plans a route found to pad before its mix was known at its next answer, not at a request', () => {
    const made = make();
    const rand = seededRandom(11);
    // One request per call: the verdict comes before the mix is known (30 requests).
    for (let i = 0; i < 12; i++) {
      const lengths = mixed(rand);
      made.policy.requestArrived(ROUTE, Math.max(...lengths));
      call(made, { lengths, ms: padded(lengths), requests: false });
    }
    expect(route(made).pads.value).toBe(true);
    expect(made.policy.bucketFactor(ROUTE)).toBeUndefined();
    for (let i = 0; i < 48; i++) made.policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(made.policy.bucketFactor(ROUTE)).toBeUndefined();
    const lengths = mixed(rand);
    call(made, { lengths, ms: padded(lengths), requests: false });
    expect(made.policy.bucketFactor(ROUTE)).toBeDefined();
  });

  it('plans for the inputs in the system smoothed over calls, not the last call’s', () => {
    const made = make();
    const rand = seededRandom(11);
    // Loads alternate 8 and 40: smoothed by a quarter per call, the estimate settles between about 22 and 26.
    for (let i = 0; i < 120; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: padded(lengths), load: i % 2 === 0 ? 8 : 40 });
    }
    const why = route(made).bucketFactor.why;
    const inSystem = Number(/at ~(\d+) inputs in flight(?:,|$)/.exec(why)?.[1]);
    expect(inSystem).toBeGreaterThan(12);
    expect(inSystem).toBeLessThan(36);
  });
});

/** A route found to pad (20 ms a call, 0.001 ms a padded byte) and planned at a load of 28: no buckets at that load. */
function plannedAt28(): Made {
  const made = make();
  const rand = seededRandom(11);
  for (let i = 0; i < 120; i++) {
    const lengths = mixed(rand);
    call(made, { lengths, ms: 20 + 0.001 * lengths.length * Math.max(...lengths), load: 28 });
  }
  expect(route(made).pads.value).toBe(true);
  expect(route(made).bucketFactor).toMatchObject({ value: null, source: 'learned', why: expect.stringMatching(/at ~28 inputs in flight$/) });
  return made;
}

describe('adaptive policy: a step up in load (LOAD_STEP)', () => {
  it('re-plans at the arrival that finds more than twice the estimated load, before any answer', () => {
    const made = plannedAt28();
    const logged = made.changes.length;
    // Twice the estimate is no step (a steady load's arrivals find up to a third more than it).
    made.policy.requestArrived(ROUTE, 50, 56);
    expect(made.policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(made.changes).toHaveLength(logged);
    // Over twice: planned for what the arrival found (narrow bands pay at that load here), and logged.
    made.policy.requestArrived(ROUTE, 50, 57);
    expect(made.policy.bucketFactor(ROUTE)).toBe(1.5);
    expect(route(made).bucketFactor.why).toMatch(/at ~57 inputs in flight$/);
    expect(made.changes.at(-1)).toMatchObject({ decision: 'bucketFactor', from: null, to: 1.5 });
  });

  it('ignores arrivals that say nothing of the load: the estimate moves with the answers as before', () => {
    const made = plannedAt28();
    made.policy.requestArrived(ROUTE, 50);
    expect(route(made).bucketFactor.why).toMatch(/at ~28 inputs in flight$/);
    made.clock.now += 300;
    // 28 + a quarter of (200 - 28).
    call(made, { lengths: [50, 60, 800], ms: 20 + 0.001 * 3 * 800, load: 200 });
    expect(route(made).bucketFactor.why).toMatch(/at ~71 inputs in flight$/);
  });

  it('moves no estimate on a route not found to pad: there it sets the padding at stake for the verdict, at the answers’ pace', () => {
    const made = make();
    // One length, 20 ms a call: no padding to tell, no verdict.
    for (let i = 0; i < 40; i++) call(made, { lengths: new Array<number>(2 + (i % 5)).fill(50), ms: 20, load: 8 });
    expect(route(made).pads.value).toBeNull();
    made.policy.requestArrived(ROUTE, 50, 128);
    // Then the padding shows (mixed lengths, 2 ms a call and 0.01 ms a padded byte): the first plan is made for ~8.
    const rand = seededRandom(11);
    for (let i = 0; i < 40 && route(made).pads.value !== true; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: padded(lengths), load: 8 });
    }
    expect(route(made).pads.value).toBe(true);
    const lengths = mixed(rand);
    made.clock.now += 300;
    call(made, { lengths, ms: padded(lengths), load: 8 });
    expect(route(made).bucketFactor.why).toMatch(/at ~8 inputs in flight$/);
  });

  it('takes the step as the estimate the next answers smooth from', () => {
    const made = plannedAt28();
    made.policy.requestArrived(ROUTE, 50, 120);
    expect(route(made).bucketFactor.why).toMatch(/at ~120 inputs in flight$/);
    const factor = made.policy.bucketFactor(ROUTE);
    expect(factor).toBeDefined();
    // The answers after it smooth from 120 (to ~92 and ~71 at a load of 8), where the plan stands; from 28 they
    // would read ~23 and ~19, where no buckets are the plan again.
    const lengths = [50, 60, 800];
    for (let i = 0; i < 2; i++) {
      made.clock.now += 300;
      call(made, { lengths, ms: 20 + 0.001 * 3 * 800, load: 8 });
    }
    expect(made.policy.bucketFactor(ROUTE)).toBe(factor);
    expect(route(made).bucketFactor.why).toMatch(/at ~120 inputs in flight$/);
  });
});

describe('adaptive policy: the load banded calls gather (gathering.ts)', () => {
  /** Planned at 28 (no buckets), then stepped to 57: buckets of 1.5, made for 57. */
  function steppedTo57(): Made {
    const made = plannedAt28();
    made.policy.requestArrived(ROUTE, 50, 57);
    expect(made.policy.bucketFactor(ROUTE)).toBe(1.5);
    return made;
  }

  /** Calls of paragraphs only (a quarter of the mix: one band of 1.5) holding `gathered` times their share of `load`, 300 ms apart. */
  function paragraphCalls(made: Made, count: number, load: number, gathered: number): void {
    for (let i = 0; i < count; i++) {
      made.clock.now += 300;
      const lengths = new Array<number>(Math.round(gathered * 0.25 * load)).fill(800);
      call(made, { lengths, ms: 20 + 0.001 * lengths.length * 800, load, requests: false });
    }
  }

  describe('which calls are measured', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('a learned plan’s banded calls, against their band’s share of the load they were cut from', () => {
      const made = steppedTo57();
      const observe = vi.spyOn(Gathering.prototype, 'observe');
      paragraphCalls(made, 1, 28, 2);
      expect(observe).toHaveBeenCalledTimes(1);
      const [items, expected] = observe.mock.calls[0]!;
      expect(items).toBe(14);
      // Paragraphs are about a quarter of the mix.
      expect(expected / 28).toBeGreaterThan(0.2);
      expect(expected / 28).toBeLessThan(0.3);
    });

    it('not a band priced under one input, nor one priced at a full batch or more (a full call says only "at least")', () => {
      const made = steppedTo57();
      const observe = vi.spyOn(Gathering.prototype, 'observe');
      // About a quarter of 200 and of 2: 50, and half an input; each cut from the plan's bands.
      expect(made.policy.bucketFactor(ROUTE)).toBe(1.5);
      paragraphCalls(made, 1, 200, 32 / 50);
      expect(made.policy.bucketFactor(ROUTE)).toBe(1.5);
      paragraphCalls(made, 1, 2, 2);
      expect(observe).not.toHaveBeenCalled();
    });

    it('not the exploration’s calls, nor calls cut from pinned bands before any plan', () => {
      const exploring = make();
      for (let i = 0; i < 48; i++) exploring.policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
      expect(route(exploring).bucketFactor.why).toMatch(/^exploring/);
      const pinned = make({ bucketByLength: 2 });
      for (let i = 0; i < 48; i++) pinned.policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
      expect(route(pinned).pads.value).toBeNull();
      const observe = vi.spyOn(Gathering.prototype, 'observe');
      for (const made of [exploring, pinned]) call(made, { lengths: new Array<number>(20).fill(800), ms: 40, load: 40, requests: false });
      expect(observe).not.toHaveBeenCalled();
    });
  });

  it('plans for the load in the system when the calls hold their band’s share of it', () => {
    const made = steppedTo57();
    // The estimate smooths from 57 towards 28, where no buckets are the plan.
    paragraphCalls(made, 20, 28, 1);
    expect(made.policy.bucketFactor(ROUTE)).toBeUndefined();
  });

  it('plans for what the calls gather: holding 2.5 times their share, narrow bands stay at 28, and go at 8, saying why', () => {
    const made = steppedTo57();
    paragraphCalls(made, 20, 28, 2.5);
    expect(made.policy.bucketFactor(ROUTE)).toBe(1.5);
    // At 8 in the system, 2.5 times it is still under 28: no buckets.
    paragraphCalls(made, 20, 8, 2.5);
    expect(made.policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(route(made).bucketFactor.why).toMatch(/at ~\d+ inputs in flight, calls gathering 2\.\d\dx their band's share of them$/);
    expect(made.changes.at(-1)).toMatchObject({ decision: 'bucketFactor', from: 1.5, to: null });
  });
});

describe("adaptive policy's account: verdicts", () => {
  it('prices a padding byte per KB when the real byte’s fitted cost is below zero', () => {
    const made = make();
    const rand = seededRandom(11);
    for (let i = 0; i < 120; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: padded(lengths) });
    }
    expect(route(made).pads.value).toBe(true);
    // Then padding costs 0.01 ms a byte and a real byte -0.002 ms (fitted exactly): the verdict stays, with no ratio to give.
    for (let i = 0; i < 600; i++) {
      const lengths = mixed(rand);
      const total = sum(lengths);
      call(made, { lengths, ms: 20 + 0.01 * (lengths.length * Math.max(...lengths) - total) - 0.002 * total });
    }
    expect(route(made).pads).toEqual({
      value: true,
      source: 'learned',
      why: 'a padding byte costs 10.240 ms per KB, a real byte nothing measurable (pads)',
    });
  });

  it('gives the largest batch as learned once the upstream is found not to pad (a call not paid off before it)', () => {
    const made = make();
    const rand = seededRandom(7);
    // 10 ms a call and 0.001 ms a real byte: no padding, and the fixed cost dominates.
    for (let i = 0; i < 200; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: 10 + 0.001 * sum(lengths) });
    }
    expect(route(made).pads.value).toBe(false);
    expect(route(made).batchSize).toEqual({ value: 32, source: 'learned', why: 'the largest batch the upstream takes' });
    expect(route(made).bucketFactor).toEqual({ value: null, source: 'learned', why: 'the upstream does not pad' });
  });

  it('logs the end of the exploration by "does not pad" with that reason', () => {
    const made = make();
    const rand = seededRandom(5);
    const bands: readonly (readonly [number, number])[] = [
      [20, 32],
      [100, 128],
      [450, 700],
    ];
    for (let i = 0; i < 64; i++) {
      const [low, high] = bands[i % 3]!;
      made.policy.requestArrived(ROUTE, low + Math.floor(rand() * (high - low)));
    }
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    // A second on, so the decision log (one line per decision a second) shows the end too.
    made.clock.now += 1000;
    for (let i = 0; i < 40 && made.policy.bucketFactor(ROUTE) !== undefined; i++) {
      const [low, high] = bands[i % 3]!;
      const lengths = Array.from({ length: 32 }, () => low + Math.floor(rand() * (high - low)));
      // GPU-like: 10 ms a call and 0.1 ms an input whatever the lengths.
      call(made, { lengths, ms: 10 + 0.1 * 32, load: 128 }, 1);
    }
    expect(made.policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(made.changes.filter((change) => change.decision === 'bucketFactor').at(-1)).toMatchObject({
      from: 2,
      to: null,
      why: 'the upstream does not pad',
    });
  });
});

describe('adaptive policy: a learned plan at a changed load', () => {
  /** Padded calls of 2 to 15 mixed inputs at this load; returns the bucket factor after each. */
  function atLoad(made: Made, rand: () => number, load: number, calls: number): (number | undefined)[] {
    const factors: (number | undefined)[] = [];
    for (let i = 0; i < calls; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: padded(lengths), load });
      factors.push(made.policy.bucketFactor(ROUTE));
    }
    return factors;
  }
  const changesIn = (factors: readonly (number | undefined)[], from: number | undefined): number =>
    factors.filter((factor, i) => factor !== (i === 0 ? from : factors[i - 1])).length;

  it('re-plans once when the load drops, and keeps the new plan when the load comes back and the old one is under 3% cheaper', () => {
    const made = make();
    const rand = seededRandom(11);
    const first = atLoad(made, rand, 32, 120);
    const high = first.at(-1);
    expect(route(made).bucketFactor.source).toBe('learned');
    const low = atLoad(made, rand, 1, 60);
    expect(low.at(-1)).not.toBe(high);
    expect(changesIn(low, high)).toBe(1);
    const why = route(made).bucketFactor.why;
    // Back at 32 inputs, the first plan would predict a little less (hysteresis: REPLAN_GAIN): nothing moves, not even the reason.
    const back = atLoad(made, rand, 32, 60);
    expect(changesIn(back, low.at(-1))).toBe(0);
    expect(route(made).bucketFactor.why).toBe(why);
  });
});

describe('adaptive policy: a learned plan and its account', () => {
  /** Padded calls of 2 to 15 mixed inputs at `load` inputs in the system: `fixedMs` a call, `perInputMs` an input, `perByteMs` a padded byte. */
  function padding(made: Made, rand: () => number, calls: number, fixedMs: number, perInputMs: number, perByteMs: number, load = 32): void {
    for (let i = 0; i < calls; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: fixedMs + perInputMs * lengths.length + perByteMs * lengths.length * Math.max(...lengths), load });
    }
  }

  it('logs no batch size change when only the amortized size under a learned plan moved (the plan’s size stays in force)', () => {
    const made = make({ maxInflight: 2 });
    const rand = seededRandom(11);
    padding(made, rand, 300, 2, 0, 0.01);
    // A call now costs 40 ms more: the amortized size goes back to the largest, under a plan that keeps 32 anyway.
    padding(made, rand, 300, 40, 0, 0.01);
    expect(made.policy.batchSize(ROUTE)).toBe(32);
    for (const change of made.changes) expect(change.from, JSON.stringify(change)).not.toEqual(change.to);
    for (const change of made.changes.filter((c) => c.decision === 'batchSize')) {
      expect(typeof change.from, JSON.stringify(change)).toBe('number');
      expect(typeof change.to, JSON.stringify(change)).toBe('number');
    }
  });

  /**
   * The last batch size change logged after a padded route sat at the amortized floor (1 ms a call
   * against about 2.5 ms an input: batches of 8 pay the call off, the floor caps the plan) and a
   * call then came to cost `fixedMs`.
   */
  const fromTheFloor = (fixedMs: number): { sizeAfter: number; change: unknown } => {
    const made = make({ maxInflight: 2 });
    const rand = seededRandom(11);
    padding(made, rand, 300, 1, 0, 0.01);
    expect(made.policy.batchSize(ROUTE)).toBe(8);
    padding(made, rand, 300, fixedMs, 0, 0.01);
    return { sizeAfter: made.policy.batchSize(ROUTE), change: made.changes.filter((change) => change.decision === 'batchSize').at(-1) };
  };

  it('logs a move from the amortized floor to a learned plan’s size with the plan’s reason beside the rule’s', () => {
    // 3 ms a call: the rule's size is 16 now, above the floor, where the plan's 32 stands.
    const { sizeAfter, change } = fromTheFloor(3);
    expect(sizeAfter).toBe(32);
    expect(change).toMatchObject({
      from: 8,
      to: 32,
      why: expect.stringMatching(/shared by 16 inputs .*; above 8 the length plan's 32 stands \(lowest predicted cost per input/),
    });
  });

  it('logs a move from the amortized floor to the largest batch with the rule’s reason alone', () => {
    // A second a call, at once: the rule no longer caps anything (no size in between).
    const { change } = fromTheFloor(1000);
    expect(change).toMatchObject({
      from: 8,
      to: 32,
      why: 'the largest batch the upstream takes',
    });
  });

  it('shows a learned plan of no buckets as a factor of null', () => {
    const made = make({ maxInflight: 2 });
    // 20 ms a call and 5 ms an input, 4 inputs in the system: the padding is there, but bands would cost more in calls than they spare.
    padding(made, seededRandom(11), 300, 20, 5, 0.005, 4);
    expect(route(made).pads.value).toBe(true);
    expect(route(made).bucketFactor).toMatchObject({ value: null, source: 'learned' });
    expect(route(made).bucketFactor.why).toMatch(/^lowest predicted cost per input/);
  });
});

describe('adaptive policy: a pinned factor is what the plan is priced at', () => {
  /** The predicted cost per input in the reason of the route's learned batch size, after the same padded calls. */
  function predicted(pins: PolicyPins): number {
    const made = make(pins);
    const rand = seededRandom(11);
    for (let i = 0; i < 120; i++) {
      const lengths = mixed(rand);
      call(made, { lengths, ms: padded(lengths), load: 32 });
    }
    const why = route(made).batchSize.why;
    return Number(/^lowest predicted cost per input \((\d+\.\d+) ms\)/.exec(why)?.[1]);
  }

  it('prices --bucket-by-length off as no buckets and 2 as bands of 2: both dearer than the best plan, no buckets the dearest', () => {
    const best = predicted({});
    const two = predicted({ bucketByLength: 2 });
    const off = predicted({ bucketByLength: 'off' });
    expect(best).toBeGreaterThan(0);
    expect(two).toBeGreaterThan(best);
    expect(off).toBeGreaterThan(two);
  });
});

describe('adaptive policy: halving and length plans', () => {
  /** Two backend slots: calls of 16 side by side deliver 2600 inputs/s, calls of 32 one at a time 2300 (as in adaptive-policy.test.ts). */
  function halve(made: Made): void {
    let time = 0;
    for (let i = 0; i < 600; i++) {
      const items = made.policy.batchSize(ROUTE);
      time += (1000 * items) / (items === 16 ? 2600 : 2300);
      equalCall(made, items, time - 12, 12, { queuedAtStart: 32 - items });
    }
    made.clock.now = time;
  }

  it('logs undoing a halving: at a new level of load whole batches deliver as much again', () => {
    const made = make();
    halve(made);
    expect(made.policy.batchSize(ROUTE)).toBe(16);
    let time = made.clock.now;
    // (A probe of whole batches shows 32 before it is decided: the log says when it is.)
    for (let i = 0; i < 300; i++) {
      const items = made.policy.batchSize(ROUTE);
      time += (1000 * items) / 2600;
      made.clock.now = time;
      // Three times the load (a new level), none of it left queued (no probe of the limit first).
      equalCall(made, items, time - 12, 12, { inflightItemsAtStart: 96 });
    }
    expect(made.policy.batchSize(ROUTE)).toBe(32);
    expect(made.changes).toContainEqual(
      expect.objectContaining({ decision: 'batchSize', from: 16, to: 32, why: expect.stringMatching(/^whole batches again/) }),
    );
  });

  it('halves without a decision log', () => {
    const made = make({}, false);
    halve(made);
    expect(made.policy.batchSize(ROUTE)).toBe(16);
  });

  it('does not halve a route with a length plan (the exploration’s), and accounts for the size in force, not the halving', () => {
    const made = make();
    halve(made);
    expect(made.policy.batchSize(ROUTE)).toBe(16);
    for (let i = 0; i < 64; i++) made.policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    // The size in force (here an amortized one, from the fit at the new lengths), not halved.
    const batchSize = route(made).batchSize;
    expect(made.policy.batchSize(ROUTE)).toBe(batchSize.value);
    expect(batchSize).toMatchObject({ source: 'learned', why: expect.stringMatching(/fixed cost/) });
  });
});

describe('adaptive policy: which calls the limiter counts as full', () => {
  /**
   * After `prepare`, 400 calls 25 ms apart, 20 ms each, nothing queued, of `items(batch size)` inputs; returns the
   * in-flight limits seen.
   */
  function limits(pins: PolicyPins, items: (batchSize: number) => number, prepare: (made: Made) => void = () => {}): number[] {
    const made = make({ ...pins }, false);
    prepare(made);
    const start = made.clock.now;
    const seen = new Set<number>();
    for (let i = 1; i <= 400; i++) {
      const n = items(made.policy.batchSize(ROUTE));
      equalCall(made, n, start + 25 * i - 20, 20);
      seen.add(made.policy.inflightLimit());
    }
    return [...seen].sort((a, b) => a - b);
  }

  it('full batches of a route the halving could cut are full: no work slot is probed for partial batches', () => {
    expect(limits({}, (size) => size)).toEqual([2]);
    // Buckets pinned: no exploration (and so no length plan), even of a mix that splits.
    const splitting = (made: Made): void => {
      for (let i = 0; i < 64; i++) made.policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    };
    expect(limits({ bucketByLength: 'off' }, (size) => size, splitting)).toEqual([2]);
  });

  it('partial batches, and full ones the halving cannot cut (batch size pinned, or a length plan), are partial: a work slot is probed', () => {
    expect(limits({}, (size) => size - 10)).toContain(3);
    expect(limits({ maxBatchSize: 32 }, (size) => size)).toContain(3);
    // A length plan: the padding learned (buckets pinned at 2, so the plan stays whatever the calls after it show).
    const padding = (made: Made): void => {
      const rand = seededRandom(5);
      for (let i = 0; i < 60; i++) {
        const lengths = mixed(rand);
        call(made, { lengths, ms: padded(lengths) });
      }
      expect(route(made).pads.value).toBe(true);
    };
    expect(limits({ bucketByLength: 2 }, (size) => size, padding)).toContain(3);
  });
});

describe('adaptive policy: the batch size around the exploration, with an amortized size', () => {
  it('logs no change of batch size when the exploration starts: its buckets take the amortized size', () => {
    const made = make();
    // One length first: 10 ms a call and 8 ms an input, paid off at 16.
    for (let i = 0; i < 20; i++) call(made, { lengths: new Array<number>(2 + (i % 5)).fill(50), ms: 10 + 8 * (2 + (i % 5)) }, 300);
    made.clock.now += 2000;
    for (let i = 0; i < 64; i++) made.policy.requestArrived(ROUTE, i % 2 === 0 ? 50 : 100);
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    const sizes = made.changes.filter((change) => change.decision === 'batchSize');
    expect(sizes.at(-1)?.to).toBe(made.policy.batchSize(ROUTE));
  });
});

describe('adaptive policy: a learned plan of no buckets given up for "does not pad"', () => {
  function flip(log: boolean): Made {
    const made = make({ maxInflight: 2 }, log);
    const rand = seededRandom(11);
    // 20 ms a call and 17 ms an input (paid off at 16), at 4 inputs in the system: padding of 0.005 ms a byte, then none.
    const phase = (calls: number, cost: (lengths: readonly number[]) => number): void => {
      for (let i = 0; i < calls; i++) {
        const lengths = mixed(rand);
        call(made, { lengths, ms: cost(lengths), load: 4 });
      }
    };
    phase(300, (lengths) => 20 + 17 * lengths.length + 0.005 * lengths.length * Math.max(...lengths));
    expect(route(made).pads.value).toBe(true);
    expect(route(made).bucketFactor).toMatchObject({ value: null, source: 'learned' });
    expect(made.policy.batchSize(ROUTE)).toBe(32);
    phase(400, (lengths) => 20 + 17 * lengths.length + 0.005 * sum(lengths));
    expect(route(made).pads.value).toBe(false);
    expect(made.policy.batchSize(ROUTE)).toBe(16);
    return made;
  }

  it('logs the batch size going from the plan’s to the amortized one', () => {
    const made = flip(true);
    expect(made.changes.filter((change) => change.decision === 'batchSize').at(-1)).toMatchObject({
      from: 32,
      to: 16,
      why: 'the upstream does not pad',
    });
  });

  it('does so without a decision log too', () => {
    expect(flip(false).changes).toEqual([]);
  });
});

describe('adaptive policy: a change of buckets restarts the in-flight limiter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('has the work slots judged afresh when new bands come (bandsChanged), and only restarts it when the bands go', () => {
    const bandsChanged = vi.spyOn(InflightLimit.prototype, 'bandsChanged');
    const restart = vi.spyOn(InflightLimit.prototype, 'restart');
    const made = plannedAt28();
    // Up to here: the exploration's bands came (null -> 2), then the plan of none (2 -> null).
    expect(bandsChanged).toHaveBeenCalledTimes(1);
    const restarts = restart.mock.calls.length;
    expect(restarts).toBeGreaterThanOrEqual(2);
    made.policy.requestArrived(ROUTE, 50, 57);
    expect(made.policy.bucketFactor(ROUTE)).toBe(1.5);
    expect(bandsChanged).toHaveBeenCalledTimes(2);
    // bandsChanged restarts too: one restart more, from it.
    expect(restart).toHaveBeenCalledTimes(restarts + 1);
  });

  it('abandons a probe under way when the exploration’s buckets start (back to its baseline limit at once)', () => {
    const made = make({}, true);
    let i = 1;
    // Partial calls with nothing queued: a work slot is probed (the limit 3) within 400 calls.
    for (; i <= 400 && made.policy.inflightLimit() < 3; i++) {
      equalCall(made, 22, 25 * i - 20, 20);
    }
    expect(made.policy.inflightLimit()).toBe(3);
    made.clock.now = 25 * i;
    for (let k = 0; k < 64; k++) made.policy.requestArrived(ROUTE, k % 4 === 3 ? 800 : 50);
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    expect(made.policy.inflightLimit()).toBe(2);
  });
});

describe('adaptive policy: the padding at stake', () => {
  /** A call's cost: `fixedMs`, then `perByteMs` a real byte and `perPaddingByteMs` a padding byte. */
  const realAndPadding =
    (fixedMs: number, perByteMs: number, perPaddingByteMs: number) =>
    (lengths: readonly number[]): number => {
      const total = sum(lengths);
      return fixedMs + perByteMs * total + perPaddingByteMs * (lengths.length * Math.max(...lengths) - total);
    };

  it('judges "does not pad" against the padding calls would hold without buckets, from the route’s mix: banded calls holding little never vouch for it', () => {
    const made = make();
    const rand = seededRandom(7);
    const verdicts = new Set<boolean | null>();
    for (let i = 0; i < 200; i++) {
      // Calls cut from one band each (within 10%), of a mix of 50 and 800 bytes; a padding byte costs 0.3x a real one.
      const base = rand() < 0.5 ? 50 : 800;
      const lengths = Array.from({ length: 1 + Math.floor(rand() * 16) }, () => base + Math.floor(rand() * base * 0.1));
      call(made, { lengths, ms: realAndPadding(2, 0.01, 0.003)(lengths), load: 16 });
      verdicts.add(route(made).pads.value);
    }
    // On their own, these calls are judged not to pad (cost-model.test.ts); against the mix's
    // padding, never. Once 16 calls that held padding vouch for a padding byte at 0.3x a real
    // one, they are judged to pad (cost-model.ts, CHEAP_PAD_SAMPLES), which this upstream does.
    expect([...verdicts]).toEqual([null, true]);
  });

  /**
   * 20 ms a call, 0.01 ms a real byte, 0.05 ms a padding byte: an upstream that pads, at five
   * times what a real byte costs, which the four-term fit's physical check does not take for
   * padding; so here only the length-blind rule speaks, from the banded calls made under load.
   */
  const paddedDearly = realAndPadding(20, 0.01, 0.05);

  it('leaves "does not pad" open through a lone client, whose calls put no padding at stake, and the exploration on for the next load', () => {
    const made = make();
    const rand = seededRandom(2);
    // A busy spell too short for a verdict: 16 calls of 8 with 32 inputs in the system.
    for (let i = 0; i < 16; i++) {
      const lengths = mixed(rand, 8);
      call(made, { lengths, ms: paddedDearly(lengths), load: 32 }, 5);
    }
    expect(route(made).pads.value).toBeNull();
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    // One client. Judged against its own load's padding (none), the banded calls above "cost
    // nothing" for it: the real model behind bench/upstreams was judged not to pad this way
    // after 128 clients then one, and then served 8 clients with no buckets at half the rate.
    const verdicts = new Set<boolean | null>();
    for (let i = 0; i < 300; i++) {
      const lengths = mixed(rand, 1);
      call(made, { lengths, ms: paddedDearly(lengths), load: 1 }, 5);
      verdicts.add(route(made).pads.value);
    }
    expect([...verdicts]).toEqual([null]);
    // Eight clients: their calls are cut from the exploration's bands again.
    const lengths = mixed(rand, 8);
    call(made, { lengths, ms: paddedDearly(lengths), load: 8 }, 5);
    expect(made.policy.bucketFactor(ROUTE)).toBe(2);
    expect(route(made).bucketFactor.why).toMatch(/^exploring/);
  });

  it('judges "does not pad" against the padding of the load’s batch where that is over 8: a noisy GPU-like upstream at 8 inputs leaves the exploration', () => {
    // 10 ms a call and 0.1 ms an input, ±2 ms of noise: against the padding a batch of 32 would
    // hold, the same calls rule nothing out within 200 calls (the exploration runs to its cap,
    // at about half a GPU-like upstream's throughput).
    const made = make();
    const rand = seededRandom(3);
    const noise = seededRandom(103);
    let verdictAt: number | undefined;
    for (let i = 0; i < 200 && verdictAt === undefined; i++) {
      const lengths = mixed(rand, 8);
      call(made, { lengths, ms: 10 + 0.1 * lengths.length + (noise() - 0.5) * 4, load: 8 }, 5);
      if (route(made).pads.value === false) verdictAt = i;
    }
    expect(verdictAt).toBeLessThan(20);
    expect(route(made).pads.why).toMatch(/length bands/);
  });
});
