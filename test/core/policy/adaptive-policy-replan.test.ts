/**
 * The adaptive policy's re-planning and its account, one rule at a time (mutation testing's third
 * pass): when a route is re-planned (answers, not requests; REPLAN_MS apart), the load estimate
 * plans are made for, a learned plan kept against a slightly cheaper one, pinned buckets, the
 * exploration's end, and what the snapshot and the decision log say meanwhile. All on made-up time.
 */
import { describe, expect, it } from 'vitest';
import { AdaptivePolicy, type PolicyPins } from '../../../src/core/policy/adaptive-policy.js';
import type { LoggedChange } from '../../../src/core/policy/decision-log.js';

const ROUTE = '/embed';

function make(pins: PolicyPins = {}, log = true) {
  const clock = { now: 0 };
  const changes: LoggedChange[] = [];
  const policy = new AdaptivePolicy({
    replicas: 1,
    maxBatchSize: 32,
    defaultHoldMs: 5,
    pins,
    now: () => clock.now,
    ...(log ? { onDecision: (change: LoggedChange) => changes.push(change) } : {}),
  });
  return { policy, clock, changes };
}

type Made = ReturnType<typeof make>;

/** A deterministic pseudo-random sequence in [0, 1). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
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
  const { policy, clock } = made;
  if (requests) for (const length of lengths) policy.requestArrived(ROUTE, length);
  const startedAt = clock.now;
  clock.now += ms;
  policy.callFinished({
    route: ROUTE,
    items: lengths.length,
    longestBytes: Math.max(...lengths),
    totalBytes: lengths.reduce((a, b) => a + b, 0),
    startedAt,
    durationMs: ms,
    inflightAtStart: 1,
    inflightItemsAtStart: load ?? lengths.length,
    queuedAtStart: 0,
    ok: true,
  });
  clock.now += gapMs;
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
    const rand = random(11);
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
    const rand = random(11);
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
    expect(made.policy.batchSize(ROUTE)).toBe(amortized);
    expect(route(made).batchSize).toMatchObject({ value: amortized, source: 'learned' });
    expect(route(made).batchSize.why).toMatch(/fixed cost/);
  });
});
