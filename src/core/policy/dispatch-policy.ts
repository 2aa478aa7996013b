/**
 * The dispatch policy's interface: what the batching core asks before it sends, and what it
 * reports after every call. Kept apart from the queues, splitting and isolation of
 * src/core/batcher.ts so that policies can be swapped and compared (bench/policy/ drives the
 * same interface on simulated time) and so that the learning can be tested without a batcher.
 *
 * A policy is pure logic on injected time: no HTTP, no timers of its own. The batcher asks it
 * on every pump (cheap: reading numbers it decided earlier) and tells it about every finished
 * call; decisions change only inside `callFinished`, so they move in steps the policy controls.
 *
 * "Route" is the batching route (e.g. "/embed"): cost and padding differ per route, the
 * in-flight limit is shared by all routes because they share the upstream's compute.
 */

/** One finished upstream call, as the batcher saw it. */
export interface CallReport {
  route: string;
  /** Inputs in the call. */
  items: number;
  /** Encoded size of the call's longest input, in bytes (the proxy has no tokenizer). */
  longestBytes: number;
  /** Encoded size of all the call's inputs together, in bytes. */
  totalBytes: number;
  /** Clock time the call was handed to the executor. */
  startedAt: number;
  /** From start to answer, on the injected clock. */
  durationMs: number;
  /** Calls in flight when this one started, itself included. */
  inflightAtStart: number;
  /**
   * Inputs in the calls in flight when this one started, its own included. Optional for callers
   * that do not count them; the policy then assumes calls of this one's size.
   */
  inflightItemsAtStart?: number;
  /** Inputs still queued in the proxy right after this call was cut (demand beyond what was sent). */
  queuedAtStart: number;
  /** False when the call failed (its duration then says little about the upstream's cost). */
  ok: boolean;
}

/** A value decided by the policy, with where it came from and why, for the operator. */
export interface Decision<T> {
  value: T;
  /** 'pinned': given by a flag; 'learned': from measurements; 'default': not enough measured yet. */
  source: 'pinned' | 'learned' | 'default';
  why: string;
}

/** Least-squares fit of call cost: ms = fixedMs + perInputMs * count + perByteMs * total + padPerByteMs * (count * longest - total). */
export interface CostFit {
  fixedMs: number;
  perInputMs: number;
  perByteMs: number;
  /** Cost of a padding byte (a byte the upstream computes only because a longer input shares the call). */
  padPerByteMs: number;
  /** Calls behind the fit (exponentially weighted). */
  samples: number;
}

export interface RoutePolicySnapshot {
  route: string;
  batchSize: Decision<number>;
  /** Length-bucket factor; null: no buckets. */
  bucketFactor: Decision<number | null>;
  holdMs: Decision<number>;
  /** Whether the upstream pads a batch to its longest input on this route; null: not known yet. */
  pads: Decision<boolean | null>;
  costFit: CostFit | null;
}

export interface PolicySnapshot {
  /** 'static' (every value pinned, today's behaviour) or 'adaptive'. */
  policy: 'static' | 'adaptive';
  /** Total calls in flight allowed (over all replicas). */
  inflightLimit: Decision<number>;
  /** Slots of the in-flight limit kept for full batches (one per replica). */
  stagingSlots: number;
  /** Recent throughput, inputs per second (what the in-flight limit is judged on). */
  throughput: number;
  routes: RoutePolicySnapshot[];
}

/** A decision that changed, for the log line (rate-limited by the policy's DecisionLog). */
export interface DecisionChange {
  /** What changed: 'inflightLimit', or 'batchSize' / 'bucketFactor' / 'pads' of a route. */
  decision: string;
  route?: string;
  from: unknown;
  to: unknown;
  why: string;
}

export interface DispatchPolicy {
  /** Most calls in flight at once, over all replicas, now. At least `stagingSlots() + 1`. */
  inflightLimit(): number;
  /** In-flight slots that only take full batches (a full batch staged behind each running call). */
  stagingSlots(): number;
  /** Most inputs in one call on this route. */
  batchSize(route: string): number;
  /** Longest a partial batch may be held for batch-mates at an idle upstream (see batcher.ts). */
  holdMs(route: string): number;
  /** Length-bucket factor for this route's batch keys (see length-bucket.ts); undefined: no buckets. */
  bucketFactor(route: string): number | undefined;
  /**
   * A request arrived on this route; its longest input is this long (feeds the length profile).
   * `inSystemItems`: inputs queued and in flight in the batcher, this request's included.
   */
  requestArrived(route: string, longestBytes: number, inSystemItems?: number): void;
  /** Every finished call, failed ones included; may change decisions. */
  callFinished(report: CallReport): void;
  /**
   * Upstream replicas joined or left (DNS discovery). In-flight limits and staging slots are per
   * replica, so they scale with the count; what was learned per replica is kept.
   */
  setReplicas(count: number): void;
  /** What the policy has learned and decided, and why. */
  snapshot(): PolicySnapshot;
}
