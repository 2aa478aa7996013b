/**
 * An adaptive policy on made-up time for the policy's unit tests: one replica, batches of 32, a
 * 5-ms hold, and the decision log collected (unless `log` is false, for the paths that must work
 * without one). The tests move `clock.now` themselves.
 */
import { AdaptivePolicy, type PolicyPins } from '../../src/core/policy/adaptive-policy.js';
import type { LoggedChange } from '../../src/core/policy/decision-log.js';

export interface MadePolicy {
  policy: AdaptivePolicy;
  clock: { now: number };
  changes: LoggedChange[];
}

export function makePolicy(pins: PolicyPins = {}, { log = true, replicas = 1 }: { log?: boolean; replicas?: number } = {}): MadePolicy {
  const clock = { now: 0 };
  const changes: LoggedChange[] = [];
  const policy = new AdaptivePolicy({
    replicas,
    maxBatchSize: 32,
    defaultHoldMs: 5,
    pins,
    now: () => clock.now,
    ...(log ? { onDecision: (change: LoggedChange) => changes.push(change) } : {}),
  });
  return { policy, clock, changes };
}
