/**
 * The batcher and its policy: what the batcher asks (per route) and what it reports. A stub
 * policy with values set by the test, so each answer's effect is explicit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type CallOutcome, type CallRequest } from '../../../src/core/batcher.js';
import { systemClock } from '../../../src/core/clock.js';
import type { CallReport, DispatchPolicy, PolicySnapshot } from '../../../src/core/policy/dispatch-policy.js';

class StubPolicy implements DispatchPolicy {
  limit = 2;
  staging = 1;
  sizes: Record<string, number> = {};
  reports: CallReport[] = [];
  arrivals: [string, number, number | undefined][] = [];
  inflightLimit(): number {
    return this.limit;
  }
  stagingSlots(): number {
    return this.staging;
  }
  batchSize(route: string): number {
    return this.sizes[route] ?? 4;
  }
  holdMs(): number {
    return 0;
  }
  bucketFactor(): number | undefined {
    return undefined;
  }
  replicas = 1;
  setReplicas(count: number): void {
    this.replicas = count;
  }
  requestArrived(route: string, longestBytes: number, inSystemItems?: number): void {
    this.arrivals.push([route, longestBytes, inSystemItems]);
  }
  callFinished(report: CallReport): void {
    this.reports.push(report);
  }
  snapshot(): PolicySnapshot {
    throw new Error('not used');
  }
}

function setup(policy: StubPolicy) {
  const calls: { request: CallRequest<string, string>; answer(outcome?: CallOutcome<string, string>): void }[] = [];
  const batcher = new Batcher<string, string, string, string>({
    limits: { maxBatchSize: 100, maxBatchBytes: 1e6, maxWaitMs: 0, maxInflight: 100, maxQueue: 1000, queueTimeoutMs: Infinity },
    policy,
    clock: systemClock,
    internalFailure: (message) => message,
    executor: (request) =>
      new Promise((resolve) => {
        calls.push({ request, answer: (outcome) => resolve(outcome ?? { ok: true, answers: request.items.map((item) => `a:${item}`) }) });
      }),
  });
  const submit = (items: string[], route: string) =>
    batcher.submit({ key: route, group: route, route, items, itemBytes: items.map((item) => item.length + 1), overheadBytes: 2 });
  return { batcher, calls, submit };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('batcher with a dispatch policy', () => {
  it('cuts batches at the size the policy gives for each route', async () => {
    const policy = new StubPolicy();
    policy.sizes = { '/a': 2, '/b': 3 };
    policy.limit = 10;
    policy.staging = 0;
    const { calls, submit } = setup(policy);
    void submit(['1', '2', '3', '4', '5'], '/a');
    void submit(['x', 'y', 'z', 'w'], '/b');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((call) => call.request.items.length)).toEqual([2, 2, 1, 3, 1]);
    // With the inputs queued and in flight at each arrival, its own included (the first five still queued).
    expect(policy.arrivals).toEqual([
      ['/a', 2, 5],
      ['/b', 2, 9],
    ]);
  });

  it('tells the policy at each arrival how many inputs are queued and in flight, the new ones included', async () => {
    const policy = new StubPolicy();
    policy.limit = 1;
    policy.staging = 0;
    const { calls, submit } = setup(policy);
    void submit(['1', '2', '3', '4', '5'], '/a');
    await vi.advanceTimersByTimeAsync(0);
    // A call of 4 in flight, 1 queued: 4 + 1 + the 2 arriving.
    expect(calls).toHaveLength(1);
    void submit(['x', 'y'], '/a');
    expect(policy.arrivals.at(-1)).toEqual(['/a', 2, 7]);
    calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    // The first call answered: its 4 left, the other 3 went as the next call.
    void submit(['z'], '/b');
    expect(policy.arrivals.at(-1)).toEqual(['/b', 2, 4]);
  });

  it('keeps to the in-flight limit the policy gives now, and reports each call with its lengths and the load', async () => {
    const policy = new StubPolicy();
    policy.limit = 1;
    policy.staging = 0;
    const { calls, submit } = setup(policy);
    const first = submit(['aaa', 'b', 'dd', 'e', 'f'], '/a');
    void submit(['cc'], '/b');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    // Raised by the policy: the next pump (when a call ends) may send more.
    policy.limit = 3;
    await vi.advanceTimersByTimeAsync(7);
    calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    // The rest of '/a' and all of '/b' go at once, side by side.
    expect(calls).toHaveLength(3);
    expect(policy.reports[0]).toMatchObject({
      route: '/a',
      items: 4,
      longestBytes: 4,
      totalBytes: 11,
      durationMs: 7,
      inflightAtStart: 1,
      inflightItemsAtStart: 4,
      queuedAtStart: 2,
      ok: true,
    });
    calls[1]!.answer();
    calls[2]!.answer();
    expect(await first).toMatchObject({ status: 'ok', answers: ['a:aaa', 'a:b', 'a:dd', 'a:e', 'a:f'] });
  });

  it('reports the inputs in flight when a call starts, counted (calls differ in size)', async () => {
    const policy = new StubPolicy();
    policy.limit = 3;
    policy.staging = 0;
    const { calls, submit } = setup(policy);
    void submit(['1', '2', '3', '4'], '/a');
    await vi.advanceTimersByTimeAsync(0);
    void submit(['5'], '/b');
    await vi.advanceTimersByTimeAsync(0);
    calls[1]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    // The call of one started while the call of four was in flight: 5 inputs, 2 calls.
    expect(policy.reports.map((r) => [r.items, r.inflightAtStart, r.inflightItemsAtStart])).toEqual([
      [1, 2, 5],
      [4, 1, 4],
    ]);
  });

  it('keeps the staging slots the policy gives for full batches only', async () => {
    const policy = new StubPolicy();
    policy.limit = 3;
    policy.staging = 2;
    const { calls, submit } = setup(policy);
    void submit(['1'], '/a');
    await vi.advanceTimersByTimeAsync(0);
    void submit(['2'], '/a');
    void submit(['3', '4', '5', '6'], '/b');
    await vi.advanceTimersByTimeAsync(0);
    // One work slot (busy with '1'): the partial '/a' batch waits, the full '/b' batch is staged.
    expect(calls.map((call) => call.request.items)).toEqual([['1'], ['3', '4', '5', '6']]);
  });
});
