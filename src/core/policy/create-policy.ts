/**
 * The policy a proxy runs for a set of flags: static when every dispatch value is pinned (what a
 * benchmark measures as "a static setting"), adaptive otherwise, learning what is not pinned.
 * One place, so the proxy (src/proxy.ts) and the simulator (bench/policy/) build the same one.
 */
import type { Clock } from '../clock.js';
import { AdaptivePolicy, type PolicyPins } from './adaptive-policy.js';
import type { LoggedChange } from './decision-log.js';
import type { DispatchPolicy } from './dispatch-policy.js';
import { StaticPolicy } from './static-policy.js';

export interface CreatePolicySettings {
  /** Upstream replicas (in-flight limits and staging slots are per replica). */
  replicas: number;
  /** The batch size in force when not pinned: the upstream's /info max_client_batch_size, or the fallback. */
  maxBatchSize: number;
  /** What the flags pinned (absent or undefined: learned). */
  pins: PolicyPins;
  /** The hold when --max-wait-ms is not given. */
  defaultHoldMs: number;
  /** Per-replica in-flight limit to start from, and the floor of the learned one. */
  initialInflight: number;
  /** Per-replica ceiling of the learned in-flight limit. */
  maxLearnedInflight: number;
  now: () => number;
  onDecision?: (change: LoggedChange) => void;
  /** The clock's timers, for the decision log's trailing lines (decision-log.ts). */
  timers?: Pick<Clock, 'setTimer' | 'clearTimer'>;
}

export function createDispatchPolicy(settings: CreatePolicySettings): DispatchPolicy {
  const { pins, replicas } = settings;
  if (pins.maxInflight !== undefined && pins.maxBatchSize !== undefined && pins.bucketByLength !== undefined && pins.maxWaitMs !== undefined) {
    return new StaticPolicy({
      maxInflight: pins.maxInflight * replicas,
      stagingSlots: replicas,
      maxBatchSize: pins.maxBatchSize,
      maxWaitMs: pins.maxWaitMs,
      bucketByLength: pins.bucketByLength === 'off' ? undefined : pins.bucketByLength,
    });
  }
  return new AdaptivePolicy({
    replicas,
    maxBatchSize: settings.maxBatchSize,
    defaultHoldMs: settings.defaultHoldMs,
    pins,
    minInflight: settings.initialInflight,
    maxInflight: settings.maxLearnedInflight,
    now: settings.now,
    // Stryker: -> true is equivalent: an onDecision of undefined is what the adaptive policy checks for anyway.
    ...(settings.onDecision !== undefined ? { onDecision: settings.onDecision } : {}),
    ...(settings.timers !== undefined ? { timers: settings.timers } : {}),
  });
}
