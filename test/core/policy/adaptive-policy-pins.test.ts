/**
 * The adaptive policy's edges outside the exploration (adaptive-policy.test.ts holds the main
 * account): a policy with no decision log or with its in-flight limit pinned taking every path
 * that logs or reads the limiter, each combination of pinned buckets and batch size on what is
 * still learned, the account it gives of the padding verdict and of a batch size it keeps, a
 * padded route whose mix of lengths is not known yet, and calls of routes beyond the table.
 * All on made-up time.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyPins } from '../../../src/core/policy/adaptive-policy.js';
import { feedMergingCalls } from '../../support/merging-upstream.js';
import { makePolicy, type MadePolicy } from '../../support/adaptive-policy.js';
import { seededRandom } from '../../support/seeded-random.js';

const ROUTE = '/embed';

const make = (pins: PolicyPins = {}, log = true): MadePolicy => makePolicy(pins, { log });

/**
 * `calls` one-at-a-time calls of 2 to 15 inputs of mixed lengths (one in four a paragraph), each
 * costing `cost(count, longest, total)`, 100 ms apart; `requests`: whether each input is reported
 * as a request (false: one request per call).
 */
function feed(
  made: ReturnType<typeof make>,
  calls: number,
  cost: (count: number, longest: number, total: number) => number,
  options: { requests?: boolean; lengths?: 'mixed' | 'one'; count?: number; inflightAtStart?: number } = {},
): void {
  const { policy, clock } = made;
  const rand = seededRandom(11);
  for (let i = 0; i < calls; i++) {
    const count = options.count ?? 2 + Math.floor(rand() * 14);
    const lengths = Array.from({ length: count }, () =>
      options.lengths === 'one' ? 50 : rand() < 0.25 ? 700 + Math.floor(rand() * 200) : 40 + Math.floor(rand() * 40),
    );
    if (options.requests === false) policy.requestArrived(ROUTE, Math.max(...lengths));
    else for (const length of lengths) policy.requestArrived(ROUTE, length);
    const longest = Math.max(...lengths);
    const total = lengths.reduce((a, b) => a + b, 0);
    const ms = cost(count, longest, total);
    const startedAt = clock.now;
    clock.now += ms;
    policy.callFinished({
      route: ROUTE,
      items: count,
      longestBytes: longest,
      totalBytes: total,
      startedAt,
      durationMs: ms,
      inflightAtStart: options.inflightAtStart ?? 1,
      queuedAtStart: 0,
      ok: true,
    });
    clock.now += 100;
  }
}

/** 2 ms a call and 0.01 ms per padded byte. */
const padded = (count: number, longest: number): number => 2 + 0.01 * count * longest;
/** A CPU model: 2 ms a call, 0.1 ms per padded byte (inputs cost far more than a call). */
const slowPadded = (count: number, longest: number): number => 2 + 0.1 * count * longest;

describe('adaptive policy without a decision log, or with its limit pinned', () => {
  it('learns buckets, batch sizes and the padding verdict without logging them', () => {
    for (const pins of [{}, { maxInflight: 2 }] as const) {
      const made = make(pins, false);
      feed(made, 120, slowPadded);
      const { policy } = made;
      expect(policy.bucketFactor(ROUTE)).toBeDefined();
      expect(policy.batchSize(ROUTE)).toBe(8);
      policy.setReplicas(2);
      expect(policy.inflightLimit()).toBe(4);
      expect(policy.snapshot().routes[0]!.pads.value).toBe(true);
    }
  });

  it('raises the in-flight limit without logging it, the staging slots with it', () => {
    const { policy } = make({}, false);
    feedMergingCalls(policy, ROUTE);
    expect(policy.inflightLimit()).toBeGreaterThanOrEqual(4);
    // One work slot; the rest of the limit takes full batches only.
    expect(policy.stagingSlots()).toBe(policy.inflightLimit() - 1);
  });
});

describe('adaptive policy with its in-flight limit pinned', () => {
  it("gives a route without a plan the upstream's batch size, and accounts for it", () => {
    const { policy } = make({ maxInflight: 2 });
    expect(policy.batchSize('/other')).toBe(32);
    policy.requestArrived(ROUTE, 50);
    expect(policy.snapshot().routes[0]!.batchSize).toEqual({ value: 32, source: 'default', why: 'the largest batch the upstream takes' });
  });
});

describe('adaptive policy: pinned buckets or batch size, the rest learned', () => {
  it('with the batch size pinned, still learns buckets for an upstream that pads, and logs no batch size', () => {
    const made = make({ maxBatchSize: 16 });
    feed(made, 120, slowPadded);
    expect(made.policy.bucketFactor(ROUTE)).toBeDefined();
    expect(made.policy.batchSize(ROUTE)).toBe(16);
    expect(made.changes.filter((change) => change.decision === 'batchSize')).toEqual([]);
  });

  it('with buckets pinned, still learns the batch size past which a call is paid off', () => {
    const made = make({ bucketByLength: 'off' });
    feed(made, 120, slowPadded);
    expect(made.policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(made.policy.batchSize(ROUTE)).toBe(8);
  });

  it('with both pinned, plans nothing: the staging slots are never lifted for a change of buckets', () => {
    const made = make({ bucketByLength: 2, maxBatchSize: 16 });
    const slots: number[] = [];
    for (let i = 0; i < 60; i++) {
      feed(made, 2, slowPadded);
      slots.push(made.policy.stagingSlots());
    }
    expect(new Set(slots)).toEqual(new Set([1]));
    expect(made.changes.filter((change) => change.decision !== 'pads' && change.decision !== 'inflightLimit')).toEqual([]);
  });

  it('shows a pinned factor as given', () => {
    const made = make({ bucketByLength: 1.5 });
    made.policy.requestArrived(ROUTE, 50);
    expect(made.policy.snapshot().routes[0]!.bucketFactor).toEqual({ value: 1.5, source: 'pinned', why: '--bucket-by-length 1.5' });
  });
});

describe("adaptive policy's account of a route", () => {
  it('says why the padding is not judged when calls are too alike, and by how much a padding byte costs when it is', () => {
    const alike = make({ bucketByLength: 'off' });
    feed(alike, 40, (count) => 10 + 0.1 * count, { lengths: 'one' });
    expect(alike.policy.snapshot().routes[0]!.pads).toEqual({
      value: null,
      source: 'default',
      why: 'calls too alike in length mix to tell (or padding cost between the thresholds)',
    });
    const pads = make();
    feed(pads, 120, padded);
    expect(pads.policy.snapshot().routes[0]!.pads).toEqual({ value: true, source: 'learned', why: 'a padding byte costs 1.00x a real byte (pads)' });
  });

  it('gives no ratio when real bytes cost nothing measurable (once "Infinityx a real byte")', () => {
    const made = make();
    feed(made, 120, padded);
    // The upstream's cost stops depending on length: the verdict stays, real bytes now cost nothing.
    feed(made, 600, (count) => 10 + 0.1 * count);
    const why = made.policy.snapshot().routes[0]!.pads.why;
    expect(why).not.toMatch(/Infinity|NaN/);
    expect(why).toMatch(
      /^a padding byte costs (-?\d+\.\d{3} ms per KB, a real byte nothing measurable|-?\d+\.\d\dx a real byte) \((pads|does not pad)\)$/,
    );
  });

  it('keeps the largest batch as a default, not as a learned size, when a call is not paid off before it (GPU-like)', () => {
    const made = make({ bucketByLength: 'off' });
    feed(made, 120, (count) => 10 + 0.1 * count, { lengths: 'one' });
    expect(made.policy.snapshot().routes[0]!.costFit).not.toBeNull();
    expect(made.policy.snapshot().routes[0]!.batchSize).toEqual({ value: 32, source: 'default', why: 'the largest batch the upstream takes' });
  });

  it('accounts for a padded route whose mix of lengths is not known yet (few requests of many inputs)', () => {
    const made = make();
    feed(made, 12, padded, { requests: false });
    const route = made.policy.snapshot().routes[0]!;
    expect(route.pads.value).toBe(true);
    expect(route.bucketFactor.value).toBeNull();
    expect(route.batchSize).toMatchObject({ value: 8, source: 'learned' });
  });

  it('ignores the calls of a route beyond the 256 it tracks', () => {
    const made = make();
    for (let i = 0; i < 257; i++) made.policy.requestArrived(`/r${i}`, 50);
    made.policy.callFinished({
      route: '/r256',
      items: 2,
      longestBytes: 50,
      totalBytes: 100,
      startedAt: 0,
      durationMs: 5,
      inflightAtStart: 1,
      queuedAtStart: 0,
      ok: true,
    });
    expect(made.policy.snapshot().routes.map((route) => route.route)).not.toContain('/r256');
  });
});

describe("adaptive policy's decision log", () => {
  it('logs only changes that move a value', () => {
    for (const cost of [padded, slowPadded, (count: number): number => 10 + 0.1 * count]) {
      const made = make();
      feed(made, 150, cost);
      expect(made.changes.length).toBeGreaterThan(0);
      for (const change of made.changes) expect(change.from, JSON.stringify(change)).not.toEqual(change.to);
    }
  });

  it('goes back to the largest batch when calls stop paying off before it, and says why', () => {
    // Inputs of one length (no padding to judge): 2 ms a call and 20 ms an input, then 40 ms a call and 0.01 ms an input.
    const made = make();
    feed(made, 120, (count) => 2 + 20 * count, { lengths: 'one' });
    expect(made.policy.batchSize(ROUTE)).toBe(8);
    feed(made, 600, (count) => 40 + 0.01 * count, { lengths: 'one' });
    expect(made.policy.batchSize(ROUTE)).toBe(32);
    expect(made.changes.filter((change) => change.decision === 'batchSize').at(-1)).toMatchObject({
      to: 32,
      why: 'the largest batch the upstream takes',
    });
  });

  it('plans for the inputs in flight counted from the calls in flight when their inputs are not given (16 inputs × 2 calls)', () => {
    const made = make();
    feed(made, 120, padded, { count: 16, inflightAtStart: 2 });
    expect(made.policy.snapshot().routes[0]!.bucketFactor.why).toMatch(/ at ~32 inputs in flight$/);
  });
});
