/**
 * Feeds a dispatch policy the calls of an upstream that merges concurrent calls (TEI's queue):
 * full calls of 32 inputs that take 20 ms whatever the limit, so the more in flight (up to 5),
 * the more inputs per second. Shared by the policy's tests of a raised in-flight limit.
 */
import type { DispatchPolicy } from '../../src/core/policy/dispatch-policy.js';

export function feedMergingCalls(policy: DispatchPolicy, route: string, calls = 400): void {
  let time = 0;
  for (let i = 0; i < calls; i++) {
    const limit = policy.inflightLimit();
    time += (1000 * 32) / (1000 * Math.min(limit, 5));
    policy.callFinished({
      route,
      items: 32,
      longestBytes: 50,
      totalBytes: 1600,
      startedAt: time - 20,
      durationMs: 20,
      inflightAtStart: limit,
      inflightItemsAtStart: 32 * limit,
      queuedAtStart: 64,
      ok: true,
    });
  }
}
