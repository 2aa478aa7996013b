/**
 * The adaptive policy as the batcher sees it: defaults before anything is learned, what it
 * learns from reported calls, and flags that pin values whatever is learned.
 */
import { describe, expect, it, vi } from 'vitest';
import { AdaptivePolicy, EXPLORE_CALLS, type PolicyPins } from '../../../src/core/policy/adaptive-policy.js';
import { LengthProfile } from '../../../src/core/policy/length-plan.js';
import { feedMergingCalls } from '../../support/merging-upstream.js';
import { finishCall, makePolicy, type MadePolicy } from '../../support/adaptive-policy.js';
import { seededRandom } from '../../support/seeded-random.js';

const ROUTE = '/embed';

/** How the calls of feedPadded look: their cost, their sizes, the gap between them, the seed. */
interface PaddedCalls {
  fixedMs: number;
  perByteMs: number;
  /** Inputs per call: 16, or 2 to 15 at random. */
  sizes: 'sixteen' | 'random';
  gapMs: number;
  seed: number;
}

/**
 * Reports `calls` one-at-a-time calls of a padding upstream (by default 2 ms + 0.01 ms per
 * padded byte, 16 inputs each), mixed lengths.
 */
function feedPadded(policy: AdaptivePolicy, clock: { now: number }, calls: number, shape: Partial<PaddedCalls> = {}): void {
  const { fixedMs, perByteMs, sizes, gapMs, seed: start } = { fixedMs: 2, perByteMs: 0.01, sizes: 'sixteen', gapMs: 1.5, seed: 3, ...shape };
  const rand = seededRandom(start);
  for (let i = 0; i < calls; i++) {
    const count = sizes === 'sixteen' ? 16 : 2 + Math.floor(rand() * 14);
    const lengths = Array.from({ length: count }, () => (rand() < 0.25 ? 700 + Math.floor(rand() * 200) : 40 + Math.floor(rand() * 40)));
    finishCall({ policy, clock }, lengths, fixedMs + perByteMs * lengths.length * Math.max(...lengths));
    clock.now += gapMs;
  }
}

const make = (pins: PolicyPins = {}, replicas = 1): MadePolicy => makePolicy(pins, { replicas });

describe('adaptive policy', () => {
  it("starts from today's defaults: 2 calls per replica (one staged), no buckets, the upstream's batch size", () => {
    const { policy } = make({}, 2);
    expect(policy.inflightLimit()).toBe(4);
    expect(policy.stagingSlots()).toBe(2);
    expect(policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(policy.batchSize(ROUTE)).toBe(32);
    expect(policy.holdMs()).toBe(5);
    expect(policy.snapshot().inflightLimit.source).toBe('default');
  });

  it('learns that the upstream pads and buckets lengths, and says so (once per decision)', () => {
    const { policy, clock, changes } = make();
    feedPadded(policy, clock, 80);
    expect(policy.bucketFactor(ROUTE)).toBeDefined();
    const route = policy.snapshot().routes.find((r) => r.route === ROUTE)!;
    expect(route.pads).toMatchObject({ value: true, source: 'learned' });
    expect(route.bucketFactor.source).toBe('learned');
    // Calls of 16, one in flight, nothing queued: 16 inputs in the system.
    expect(route.bucketFactor.why).toMatch(/^lowest predicted cost per input \(\d+\.\d{3} ms\) for this route's lengths at ~16 inputs in flight$/);
    expect(route.batchSize).toMatchObject({ value: 32, source: 'learned', why: route.bucketFactor.why });
    expect(route.costFit!.padPerByteMs).toBeCloseTo(0.01, 3);
    expect(changes.filter((c) => c.decision === 'pads')).toEqual([expect.objectContaining({ from: null, to: true })]);
    expect(changes.some((c) => c.decision === 'bucketFactor' && c.route === ROUTE)).toBe(true);
  });

  it('drops its buckets when the upstream stops charging length (its banded calls cost alike), and says so', () => {
    const { policy, clock, changes } = make();
    feedPadded(policy, clock, 80);
    expect(policy.bucketFactor(ROUTE)).toBeDefined();
    // Now a GPU-like upstream behind the same address: 10 ms + 0.1 ms an input, calls of 16 cut
    // from the plan's bands (short texts, then paragraphs, in turn).
    let calls = 0;
    while (policy.bucketFactor(ROUTE) !== undefined && calls < 600) {
      const lengths = Array.from({ length: 16 }, (_, i) => (calls % 2 === 0 ? 40 + i : 700 + 10 * i));
      finishCall({ policy, clock }, lengths, 10 + 0.1 * lengths.length);
      clock.now += 1.5;
      calls++;
    }
    // The plan's banded calls from the padded time fade first (about 360 calls of 12 ms here).
    expect(calls).toBeLessThan(600);
    const route = policy.snapshot().routes.find((r) => r.route === ROUTE)!;
    expect(route.pads).toMatchObject({ value: false, source: 'learned' });
    expect(route.pads.why).toMatch(/length bands’ calls cost alike/);
    expect(route.bucketFactor).toMatchObject({ value: null, why: 'the upstream does not pad' });
    expect(changes).toContainEqual(expect.objectContaining({ decision: 'pads', from: true, to: false }));
    expect(changes).toContainEqual(expect.objectContaining({ decision: 'bucketFactor', to: null, why: 'the upstream does not pad' }));
  });

  it('never halves the batch size while calls hold half a batch or less (one client; or calls of exactly 16), which halving leaves as they are', () => {
    for (const items of [1, 16]) {
      const { policy, clock } = make();
      for (let i = 0; i < 600; i++) {
        const startedAt = clock.now;
        // Calls that happen to come faster while halved: noise, as on a real machine, must not be kept as a gain.
        const ms = policy.batchSize(ROUTE) < 32 ? 9 : 10;
        clock.now += ms;
        policy.callFinished({
          route: ROUTE,
          items,
          longestBytes: 40,
          totalBytes: 40 * items,
          startedAt,
          durationMs: ms,
          inflightAtStart: 1,
          queuedAtStart: 0,
          ok: true,
        });
        expect(policy.batchSize(ROUTE)).toBe(32);
      }
    }
  });

  it('fits only calls of two inputs or more cut from length bands to "length costs nothing"', () => {
    /** 20 calls (under the 32 holding padding the four-term fit needs) of a length-blind upstream (10 ms whatever the lengths), of `items` inputs, calls of short texts and of paragraphs in turn. */
    const feed = (pins: PolicyPins, items: number): string => {
      const { policy, clock } = make(pins);
      for (let i = 0; i < 20; i++) {
        const lengths = Array.from({ length: items }, (_, k) => (i % 2 === 0 ? 40 + k : 800 + 40 * k));
        for (const length of lengths) policy.requestArrived(ROUTE, length);
        const startedAt = clock.now;
        clock.now += 10;
        policy.callFinished({
          route: ROUTE,
          items,
          longestBytes: Math.max(...lengths),
          totalBytes: lengths.reduce((a, b) => a + b, 0),
          startedAt,
          durationMs: 10,
          inflightAtStart: 1,
          // Padding at stake: for the calls of a load of 16 inputs; of 2 for calls of one input, whose count·longest
          // then varies enough against it to tell (their lengths' spread, against half of it for 16).
          queuedAtStart: items === 1 ? 1 : 16 - items,
          ok: true,
        });
        clock.now += 1;
      }
      return policy.snapshot().routes.find((r) => r.route === ROUTE)!.pads.why;
    };
    // Bucketed (pinned at 2) but of one input each: nothing padded, nothing told by the bands.
    expect(feed({ bucketByLength: 2 }, 1)).not.toMatch(/length bands/);
    // Of 16 mixed inputs but not bucketed (pinned off): not banded calls either.
    expect(feed({ bucketByLength: 'off' }, 16)).not.toMatch(/length bands/);
    // Bucketed and of two inputs or more: told.
    expect(feed({ bucketByLength: 2 }, 2)).toMatch(/length bands/);
  });

  it('ignores failed calls (their duration says nothing about cost)', () => {
    const { policy } = make();
    for (let i = 0; i < 50; i++) {
      policy.callFinished({
        route: ROUTE,
        items: 8,
        longestBytes: 900,
        totalBytes: 1000,
        startedAt: i * 10,
        durationMs: 1,
        inflightAtStart: 1,
        queuedAtStart: 0,
        ok: false,
      });
    }
    expect(policy.snapshot().routes.find((r) => r.route === ROUTE)?.costFit ?? null).toBeNull();
  });

  it('keeps pinned values whatever it learns', () => {
    const { policy, clock } = make({ maxInflight: 3, bucketByLength: 'off', maxBatchSize: 8, maxWaitMs: 0 }, 2);
    feedPadded(policy, clock, 80);
    expect(policy.inflightLimit()).toBe(6);
    expect(policy.stagingSlots()).toBe(2);
    expect(policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(policy.batchSize(ROUTE)).toBe(8);
    expect(policy.holdMs()).toBe(0);
    const snapshot = policy.snapshot();
    expect(snapshot.inflightLimit).toMatchObject({ value: 6, source: 'pinned' });
    const route = snapshot.routes.find((r) => r.route === ROUTE)!;
    expect(route.bucketFactor).toMatchObject({ value: null, source: 'pinned' });
    expect(route.batchSize).toMatchObject({ value: 8, source: 'pinned' });
    // The padding is still learned and shown (it is what an operator overriding it wants to see).
    expect(route.pads.value).toBe(true);
  });

  it('a pinned factor is used as given', () => {
    const { policy, clock } = make({ bucketByLength: 2 });
    expect(policy.bucketFactor(ROUTE)).toBe(2);
    feedPadded(policy, clock, 80);
    expect(policy.bucketFactor(ROUTE)).toBe(2);
  });

  it('explores buckets while the padding is not known, as soon as the mix of lengths splits', () => {
    const { policy, changes } = make();
    for (let i = 0; i < 40; i++) policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(policy.bucketFactor(ROUTE)).toBe(2);
    const route = policy.snapshot().routes.find((r) => r.route === ROUTE)!;
    expect(route.bucketFactor).toMatchObject({ value: 2, source: 'default' });
    expect(route.bucketFactor.why).toMatch(/exploring/);
    expect(changes).toContainEqual(expect.objectContaining({ decision: 'bucketFactor', from: null, to: 2 }));
  });

  it('does not explore a mix of one length, nor with buckets pinned', () => {
    const same = make();
    for (let i = 0; i < 64; i++) same.policy.requestArrived(ROUTE, 50);
    expect(same.policy.bucketFactor(ROUTE)).toBeUndefined();
    const pinned = make({ bucketByLength: 'off' });
    for (let i = 0; i < 64; i++) pinned.policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(pinned.policy.bucketFactor(ROUTE)).toBeUndefined();
  });

  it('ends the exploration after EXPLORE_CALLS calls of two inputs or more that could not tell, with no buckets', () => {
    const { policy, clock, changes } = make();
    for (let i = 0; i < 40; i++) policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    // Calls of one length: nothing to tell padding by. Calls of one input do not count.
    const call = (items: number): void => {
      // 250 ms apart (REPLAN_MS): every answer re-plans, so the exploration ends exactly at its last call.
      const startedAt = clock.now;
      clock.now += 250;
      policy.callFinished({
        route: ROUTE,
        items,
        longestBytes: 50,
        totalBytes: 50 * items,
        startedAt,
        durationMs: 250,
        inflightAtStart: 1,
        queuedAtStart: 0,
        ok: true,
      });
    };
    for (let i = 0; i < 40; i++) call(1);
    expect(policy.bucketFactor(ROUTE)).toBe(2);
    for (let i = 0; i < EXPLORE_CALLS - 1; i++) call(4);
    expect(policy.bucketFactor(ROUTE)).toBe(2);
    call(4);
    expect(policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(changes).toContainEqual(
      expect.objectContaining({ decision: 'bucketFactor', from: 2, to: null, why: 'padding not told apart after exploring; no buckets' }),
    );
    // Spent, the exploration is not looked at again: requests no longer re-plan (reading the mix) every 16.
    const mixRead = vi.spyOn(LengthProfile.prototype, 'expectedWaste');
    try {
      for (let i = 0; i < 64; i++) policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
      expect(mixRead).not.toHaveBeenCalled();
      expect(policy.bucketFactor(ROUTE)).toBeUndefined();
    } finally {
      mixRead.mockRestore();
    }
  });

  it('re-plans at requests while the exploration may still start: every 16 requests', () => {
    const { policy } = make();
    const mixRead = vi.spyOn(LengthProfile.prototype, 'expectedWaste');
    try {
      // Lengths of one band: the mix does not split, so no exploration starts and the checks go on.
      for (let i = 0; i < 64; i++) policy.requestArrived(ROUTE, 50);
      expect(policy.bucketFactor(ROUTE)).toBeUndefined();
      // Checks at requests 16, 32, 48 and 64; the mix is known from 30, so three re-plans read it,
      // each pricing the padding at stake twice (at the load, and for a full batch).
      expect(mixRead.mock.calls.length).toBe(3 * 2);
    } finally {
      mixRead.mockRestore();
    }
  });

  it('lifts the staging slots for 400 ms after the buckets change (requests under the old bands leave)', () => {
    const { policy, clock } = make();
    expect(policy.stagingSlots()).toBe(1);
    clock.now = 1000;
    for (let i = 0; i < 40; i++) policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(policy.bucketFactor(ROUTE)).toBe(2);
    expect(policy.stagingSlots()).toBe(0);
    const finish = (at: number): void =>
      policy.callFinished({
        route: ROUTE,
        items: 1,
        longestBytes: 50,
        totalBytes: 50,
        startedAt: at - 10,
        durationMs: 10,
        inflightAtStart: 1,
        queuedAtStart: 0,
        ok: true,
      });
    finish(1399);
    expect(policy.stagingSlots()).toBe(0);
    finish(1400);
    expect(policy.stagingSlots()).toBe(1);
  });

  it('halves the batch size of a route without a length plan when half batches deliver more, and says so', () => {
    const { policy, changes } = make();
    let time = 0;
    for (let i = 0; i < 600; i++) {
      const items = policy.batchSize(ROUTE);
      // Two backend slots: calls of 16 side by side deliver 2600 inputs/s, calls of 32 one at a time 2300.
      time += (1000 * items) / (items === 16 ? 2600 : 2300);
      policy.callFinished({
        route: ROUTE,
        items,
        longestBytes: 50,
        totalBytes: 50 * items,
        startedAt: time - 12,
        durationMs: 12,
        inflightAtStart: 1,
        // 32 clients: what a half batch leaves waits in the proxy, so the load is the same.
        queuedAtStart: 32 - items,
        ok: true,
      });
    }
    expect(policy.batchSize(ROUTE)).toBe(16);
    const route = policy.snapshot().routes.find((r) => r.route === ROUTE)!;
    expect(route.batchSize).toMatchObject({ value: 16, source: 'learned' });
    // The halving, checked once more from a settled window (whole batches lost), is what the account says.
    expect(route.batchSize.why).toMatch(/kept half batches: whole ones gave -\d+% throughput/);
    expect(changes).toContainEqual(expect.objectContaining({ decision: 'batchSize', from: 32, to: 16 }));
    // Pinned, the batch size is the flag's whatever the limiter found.
    expect(make({ maxBatchSize: 32 }).policy.batchSize(ROUTE)).toBe(32);
  });

  it('accounts for every decision before anything is learned', () => {
    const { policy } = make();
    policy.requestArrived(ROUTE, 50);
    expect(policy.snapshot()).toEqual({
      policy: 'adaptive',
      inflightLimit: { value: 2, source: 'default', why: 'start: one running call and one staged full batch per replica' },
      stagingSlots: 1,
      throughput: 0,
      routes: [
        {
          route: ROUTE,
          batchSize: { value: 32, source: 'default', why: 'the largest batch the upstream takes' },
          bucketFactor: { value: null, source: 'default', why: 'padding not measured yet' },
          holdMs: { value: 5, source: 'default', why: 'held only while batch-mates are on their way; a lone client never waits' },
          pads: { value: null, source: 'default', why: 'too few calls measured' },
          costFit: null,
        },
      ],
    });
  });

  it('accounts for pinned values by their flags', () => {
    const { policy } = make({ maxInflight: 3, bucketByLength: 'off', maxBatchSize: 8, maxWaitMs: 0 });
    policy.requestArrived(ROUTE, 50);
    const snapshot = policy.snapshot();
    expect(snapshot.inflightLimit).toEqual({ value: 3, source: 'pinned', why: '--max-inflight 3 per replica' });
    expect(snapshot.throughput).toBe(0);
    const route = snapshot.routes[0]!;
    expect(route.batchSize).toEqual({ value: 8, source: 'pinned', why: '--max-batch-size 8' });
    expect(route.bucketFactor).toEqual({ value: null, source: 'pinned', why: '--bucket-by-length off' });
    expect(route.holdMs).toEqual({ value: 0, source: 'pinned', why: '--max-wait-ms 0' });
    expect(make({ bucketByLength: 1.5 }).policy.snapshot().routes).toEqual([]);
  });

  it('learns that an upstream does not pad (cost by total length), and keeps no buckets', () => {
    const { policy, clock, changes } = make();
    const rand = seededRandom(7);
    for (let i = 0; i < 80; i++) {
      const lengths = Array.from({ length: 2 + Math.floor(rand() * 14) }, () =>
        rand() < 0.25 ? 700 + Math.floor(rand() * 200) : 40 + Math.floor(rand() * 40),
      );
      for (const length of lengths) policy.requestArrived(ROUTE, length);
      const total = lengths.reduce((a, b) => a + b, 0);
      const ms = 2 + 0.01 * total;
      const startedAt = clock.now;
      clock.now += ms;
      policy.callFinished({
        route: ROUTE,
        items: lengths.length,
        longestBytes: Math.max(...lengths),
        totalBytes: total,
        startedAt,
        durationMs: ms,
        inflightAtStart: 1,
        queuedAtStart: 0,
        ok: true,
      });
      clock.now += 100;
    }
    expect(policy.bucketFactor(ROUTE)).toBeUndefined();
    const route = policy.snapshot().routes[0]!;
    expect(route.pads).toMatchObject({ value: false, source: 'learned' });
    expect(route.pads.why).toMatch(/^a padding byte costs -?\d+\.\d\dx a real byte \(does not pad\)$/);
    expect(route.bucketFactor).toEqual({ value: null, source: 'learned', why: 'the upstream does not pad' });
    // 2 ms per call against about 2.5 ms per input: by 16 inputs a call's fixed cost is paid off.
    expect(route.batchSize).toMatchObject({ value: 16, source: 'learned' });
    expect(route.batchSize.why).toMatch(
      /^a call's fixed cost \(2\.0 ms\) shared by 16 inputs is about a tenth or less of an input's own cost \(2\.\d ms\)/,
    );
    // A first verdict is logged from "not known" (null), not as a flip from "pads".
    expect(changes).toContainEqual(expect.objectContaining({ decision: 'pads', route: ROUTE, from: null, to: false }));
    // Halving was probed (the calls held the whole load) and undone: probes are not logged; the amortized size is.
    expect(changes.filter((change) => change.decision === 'batchSize')).toEqual([
      expect.objectContaining({ decision: 'batchSize', route: ROUTE, from: 32, to: 16, why: expect.not.stringMatching(/length plan/) }),
    ]);
  });

  /** Calls of mixed lengths to an upstream that pads: `fixedMs` a call, `perByteMs` per padded byte. */
  function feedPadding(fixedMs: number, perByteMs: number): ReturnType<typeof make> {
    const made = make();
    feedPadded(made.policy, made.clock, 120, { fixedMs, perByteMs, sizes: 'random', gapMs: 100, seed: 11 });
    return made;
  }

  it("caps a padding plan's batch at 8 when inputs cost far more than a call (a CPU model), and not otherwise", () => {
    const slow = feedPadding(2, 0.1);
    expect(slow.policy.snapshot().routes[0]!.pads.value).toBe(true);
    expect(slow.policy.batchSize(ROUTE)).toBe(8);
    expect(slow.policy.snapshot().routes[0]!.batchSize).toMatchObject({
      value: 8,
      source: 'learned',
      why: expect.stringMatching(/^a call's fixed cost/),
    });
    const cheap = feedPadding(20, 0.001);
    expect(cheap.policy.snapshot().routes[0]!.pads.value).toBe(true);
    expect(cheap.policy.batchSize(ROUTE)).toBe(32);
    expect(cheap.policy.snapshot().routes[0]!.batchSize.why).toMatch(/^lowest predicted cost per input/);
  });

  it('times a call sent while the upstream was busy from the answer before it (its wait is not its cost)', () => {
    const { policy, clock } = make();
    for (let i = 0; i < 40; i++) policy.requestArrived(ROUTE, 50);
    // A one-slot upstream, 10 ms a call, two calls sent at once: the second is answered 20 ms after it was sent.
    for (let i = 0; i < 30; i++) {
      const sent = clock.now;
      for (const done of [10, 20]) {
        policy.callFinished({
          route: ROUTE,
          items: 4,
          longestBytes: 50,
          totalBytes: 200,
          startedAt: sent,
          durationMs: done,
          inflightAtStart: 2,
          queuedAtStart: 0,
          ok: true,
        });
      }
      clock.now += 25;
    }
    expect(policy.snapshot().routes[0]!.costFit!.fixedMs).toBeCloseTo(10, 0);
  });

  it('starts exploring at the first look after the mix is known (every 16 requests)', () => {
    const { policy } = make();
    for (let i = 0; i < 31; i++) policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(policy.bucketFactor(ROUTE)).toBeUndefined();
    policy.requestArrived(ROUTE, 50);
    expect(policy.bucketFactor(ROUTE)).toBe(2);
  });

  it('raises the in-flight limit for an upstream that merges, logs it, and scales it with the replicas', () => {
    const { policy, changes } = make();
    feedMergingCalls(policy, ROUTE);
    expect(policy.inflightLimit()).toBeGreaterThanOrEqual(4);
    expect(policy.snapshot().inflightLimit.source).toBe('learned');
    expect(policy.snapshot().throughput).toBeGreaterThan(3000);
    expect(changes).toContainEqual(expect.objectContaining({ decision: 'inflightLimit', from: 2, to: 3 }));
    const perReplica = policy.inflightLimit();
    policy.setReplicas(2);
    expect(policy.inflightLimit()).toBe(2 * perReplica);
  });

  it('with buckets pinned, never explores (nor lifts the staging slots for it)', () => {
    const { policy } = make({ bucketByLength: 'off' });
    for (let i = 0; i < 64; i++) policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(policy.stagingSlots()).toBe(1);
  });

  it('tracks at most 256 routes', () => {
    const { policy } = make();
    for (let i = 0; i < 300; i++) policy.requestArrived(`/r${i}`, 50);
    expect(policy.snapshot().routes).toHaveLength(256);
    expect(policy.snapshot().routes.at(-1)!.route).toBe('/r255');
  });
});

describe('adaptive policy: a pause in the traffic, as the limiter is told of it', () => {
  /** Calls of 32 equal inputs, 20 ms each, one after another, leaving inputs queued. */
  const calls = (made: MadePolicy, count: number, inflightAtStart = 1): void => {
    for (let i = 0; i < count; i++) finishCall(made, new Array<number>(32).fill(40), 20, { queuedAtStart: 8, inflightAtStart });
  };
  const probing = (): MadePolicy => {
    const made = makePolicy();
    calls(made, 18);
    expect(made.policy.snapshot().inflightLimit.why).toMatch(/probing 3 per replica against 2$/);
    calls(made, 8);
    made.clock.now += 1000;
    return made;
  };

  it('drops the probe a pause cut when the call after it started with nothing else in flight', () => {
    const made = probing();
    calls(made, 20);
    expect(made.policy.snapshot().inflightLimit.why).toBe(
      'start: one running call and one staged full batch per replica; probing 3 per replica against 2',
    );
  });

  it('takes no pause when another call was in flight as the next one started', () => {
    const made = probing();
    calls(made, 1, 2);
    // The probe's window ran on across the gap: measured (its throughput is the gap's), and as
    // a stall measured again rather than judged (see STALL_NOISE in inflight-limit.ts).
    calls(made, 9);
    const snapshot = made.policy.snapshot();
    expect(snapshot.throughput).toBeLessThan(1000);
    expect(snapshot.inflightLimit.why).toMatch(/probing 3 per replica against 2$/);
    calls(made, 18);
    expect(made.policy.snapshot().inflightLimit.why).toMatch(/^kept 2 per replica: 3 gave [+-]\d+% throughput/);
  });
});
