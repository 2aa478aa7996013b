/**
 * An adaptive policy on made-up time for the policy's unit tests: one replica, batches of 32, a
 * 5-ms hold, and the decision log collected (unless `log` is false, for the paths that must work
 * without one). The tests move `clock.now` themselves.
 */
import { AdaptivePolicy, type PolicyPins } from '../../src/core/policy/adaptive-policy.js';
import type { LoggedChange } from '../../src/core/policy/decision-log.js';
import type { CallReport } from '../../src/core/policy/dispatch-policy.js';

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

/**
 * One call of these input lengths that starts now and takes `ms` (the clock moves by it), one in
 * flight and nothing queued unless `report` says otherwise; its inputs are reported as requests
 * first unless `requests` is false.
 */
export function finishCall(
  made: Pick<MadePolicy, 'policy' | 'clock'>,
  lengths: readonly number[],
  ms: number,
  { requests = true, route = '/embed', ...report }: Partial<CallReport> & { requests?: boolean } = {},
): void {
  const { policy, clock } = made;
  if (requests) for (const length of lengths) policy.requestArrived(route, length);
  const startedAt = clock.now;
  clock.now += ms;
  reportCall(policy, lengths, startedAt, ms, { route, ...report });
}

/**
 * One call of these input lengths that started at `startedAt` and took `ms`, to /embed, one in
 * flight and nothing queued unless `report` says otherwise; the clock is left as it is (for tests
 * that keep their own time line).
 */
export function reportCall(
  policy: AdaptivePolicy,
  lengths: readonly number[],
  startedAt: number,
  ms: number,
  report: Partial<CallReport> = {},
): void {
  policy.callFinished({
    route: '/embed',
    items: lengths.length,
    longestBytes: Math.max(...lengths),
    totalBytes: lengths.reduce((a, b) => a + b, 0),
    startedAt,
    durationMs: ms,
    inflightAtStart: 1,
    queuedAtStart: 0,
    ok: true,
    ...report,
  });
}
