/**
 * Which policy a set of flags builds (static only when every dispatch value is pinned), and the
 * static policy's account of itself: what GET /autobatch/policy shows for a static setting.
 */
import { describe, expect, it } from 'vitest';
import { createDispatchPolicy, type CreatePolicySettings } from '../../../src/core/policy/create-policy.js';
import type { LoggedChange } from '../../../src/core/policy/decision-log.js';

const ROUTE = '/embed';

function settings(pins: CreatePolicySettings['pins'], replicas = 2, onDecision?: (change: LoggedChange) => void): CreatePolicySettings {
  return {
    replicas,
    maxBatchSize: 32,
    pins,
    defaultHoldMs: 5,
    initialInflight: 2,
    maxLearnedInflight: 16,
    now: () => 0,
    ...(onDecision === undefined ? {} : { onDecision }),
  };
}

const ALL = { maxInflight: 3, maxBatchSize: 8, bucketByLength: 'off' as const, maxWaitMs: 1 };

describe('createDispatchPolicy', () => {
  it('builds the static policy when every dispatch value is pinned, per replica', () => {
    const policy = createDispatchPolicy(settings(ALL));
    expect(policy.inflightLimit()).toBe(6);
    expect(policy.stagingSlots()).toBe(2);
    expect(policy.batchSize(ROUTE)).toBe(8);
    expect(policy.holdMs(ROUTE)).toBe(1);
    expect(policy.bucketFactor(ROUTE)).toBeUndefined();
    expect(policy.snapshot().policy).toBe('static');
    expect(createDispatchPolicy(settings({ ...ALL, bucketByLength: 1.5 })).bucketFactor(ROUTE)).toBe(1.5);
  });

  it('builds the adaptive policy when any one value is left to learn', () => {
    for (const left of ['maxInflight', 'maxBatchSize', 'bucketByLength', 'maxWaitMs'] as const) {
      const pins = { ...ALL, [left]: undefined };
      expect(createDispatchPolicy(settings(pins)).snapshot().policy, left).toBe('adaptive');
    }
    const policy = createDispatchPolicy(settings({}));
    // The learned limit starts at initialInflight per replica.
    expect(policy.inflightLimit()).toBe(4);
    expect(policy.batchSize(ROUTE)).toBe(32);
    expect(policy.holdMs(ROUTE)).toBe(5);
  });

  it("passes the decision log's callback to the adaptive policy", () => {
    const changes: LoggedChange[] = [];
    const policy = createDispatchPolicy(settings({}, 1, (change) => changes.push(change)));
    for (let i = 0; i < 40; i++) policy.requestArrived(ROUTE, i % 4 === 3 ? 800 : 50);
    expect(changes.some((change) => change.decision === 'bucketFactor')).toBe(true);
  });
});

describe('static policy', () => {
  it('lists the routes in use, every value pinned', () => {
    const policy = createDispatchPolicy(settings({ ...ALL, bucketByLength: 2 }, 1));
    policy.requestArrived(ROUTE, 10);
    policy.requestArrived(ROUTE, 20);
    policy.requestArrived('/embed_sparse', 10);
    const pinned = { source: 'pinned', why: 'static policy' };
    expect(policy.snapshot()).toEqual({
      policy: 'static',
      inflightLimit: { value: 3, ...pinned },
      stagingSlots: 1,
      throughput: 0,
      routes: [ROUTE, '/embed_sparse'].map((route) => ({
        route,
        batchSize: { value: 8, ...pinned },
        bucketFactor: { value: 2, ...pinned },
        holdMs: { value: 1, ...pinned },
        pads: { value: null, ...pinned },
        costFit: null,
      })),
    });
    expect(createDispatchPolicy(settings(ALL, 1)).snapshot().routes).toEqual([]);
  });

  it('remembers at most 256 routes', () => {
    const policy = createDispatchPolicy(settings(ALL, 1));
    for (let i = 0; i < 300; i++) policy.requestArrived(`/r${i}`, 10);
    const routes = policy.snapshot().routes;
    expect(routes).toHaveLength(256);
    expect(routes.at(-1)!.route).toBe('/r255');
  });

  it('scales its limit with the replicas, keeping one staging slot each and at least one work slot', () => {
    const policy = createDispatchPolicy(settings(ALL, 2));
    policy.setReplicas(3);
    expect(policy.inflightLimit()).toBe(9);
    expect(policy.stagingSlots()).toBe(3);
    // --max-inflight 1 per replica would leave no work slot: one more than the staging slots.
    const one = createDispatchPolicy(settings({ ...ALL, maxInflight: 1 }, 1));
    one.setReplicas(4);
    expect(one.inflightLimit()).toBe(5);
  });
});
