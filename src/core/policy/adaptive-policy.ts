/**
 * The adaptive dispatch policy: learns the upstream from the calls the proxy already makes and
 * decides what the static policy takes from flags. Values given explicitly (pins) are never
 * learned: a flag means exactly its value.
 *
 * - In-flight limit (shared by all routes: they share the upstream): probed one step at a time
 *   and kept only when it delivered more inputs per second (inflight-limit.ts).
 * - Per route, the cost of a call (cost-model.ts): whether the upstream pads a batch to its
 *   longest input. If it does, the length-bucket factor and batch size with the lowest cost per
 *   input for the route's mix of lengths (length-plan.ts); if not, no buckets and the largest
 *   batch the upstream takes.
 * - Hold: the batcher's rule (hold a partial batch only while batch-mates are on their way, never
 *   a lone client) bounded by the default or pinned --max-wait-ms; it works on every upstream
 *   modelled, so it is not learned.
 *
 * Until enough is measured every value is today's default (2 calls in flight per replica, no
 * buckets, the upstream's batch size), so a fresh proxy behaves exactly like before.
 */
import { CostModel } from './cost-model.js';
import { DecisionLog, type LoggedChange } from './decision-log.js';
import type { CallReport, Decision, DispatchPolicy, PolicySnapshot, RoutePolicySnapshot } from './dispatch-policy.js';
import { InflightLimit } from './inflight-limit.js';
import { LengthProfile, type LengthPlan } from './length-plan.js';

/** Values given by flags; each one present is used as is and never learned. */
export interface PolicyPins {
  /** Calls in flight per replica (--max-inflight). */
  maxInflight?: number | undefined;
  /** --max-batch-size */
  maxBatchSize?: number | undefined;
  /** --bucket-by-length: a factor, or 'off'. */
  bucketByLength?: number | 'off' | undefined;
  /** --max-wait-ms */
  maxWaitMs?: number | undefined;
}

export interface AdaptivePolicySettings {
  /** Upstream replicas (the in-flight limit and staging slots are per replica). */
  replicas: number;
  /** Largest batch the upstream takes (its /info max_client_batch_size, or the fallback). */
  maxBatchSize: number;
  /** Hold when --max-wait-ms is not pinned. */
  defaultHoldMs: number;
  pins?: PolicyPins;
  /** Per-replica bounds of the learned in-flight limit; default 2 (one running, one staged) to 16. */
  minInflight?: number;
  maxInflight?: number;
  /** The clock's now(), for rate-limiting decision lines and pacing re-plans. */
  now: () => number;
  /** Called (at most once a second per decision) when a decision changes. */
  onDecision?: (change: LoggedChange) => void;
}

/** The default per-replica in-flight limit before anything is learned (today's default). */
export const DEFAULT_INFLIGHT = 2;
/** Most distinct routes tracked (the route table is small; this only bounds memory by design). */
const MAX_ROUTES = 256;
/** Shortest time between two re-plans of one route's buckets and batch size. */
const REPLAN_MS = 250;
/** A new plan must be this much cheaper per input than the current one (hysteresis). */
const REPLAN_GAIN = 0.95;
/** Smoothing of the inputs-in-system estimate per call. */
const LOAD_SMOOTHING = 0.1;

interface RouteState {
  readonly route: string;
  readonly cost: CostModel;
  readonly lengths: LengthProfile;
  plan: LengthPlan | undefined;
  planWhy: string;
  plannedAt: number;
  /** Inputs in the proxy and upstream at once, smoothed (what batches are cut from). */
  inSystem: number;
}

/**
 * When the upstream could have started on a call: a call sent while the upstream was still busy
 * with earlier answers (any route) waited inside it, and that wait is not its cost. Calls
 * answered within half a millisecond of each other are one burst (one merged batch upstream).
 */
class UpstreamTime {
  private previousEnd = -Infinity;
  private burstEnd = -Infinity;

  startOf(startedAt: number, finishedAt: number): number {
    if (finishedAt - this.burstEnd > BURST_MS) {
      this.previousEnd = this.burstEnd;
      this.burstEnd = finishedAt;
    } else {
      this.burstEnd = Math.max(this.burstEnd, finishedAt);
    }
    return Math.max(startedAt, Math.min(this.previousEnd, finishedAt));
  }
}

const BURST_MS = 0.5;

export class AdaptivePolicy implements DispatchPolicy {
  private readonly settings: AdaptivePolicySettings;
  private readonly pins: PolicyPins;
  private readonly limiter: InflightLimit | undefined;
  private readonly routes = new Map<string, RouteState>();
  private readonly log: DecisionLog | undefined;
  private readonly upstreamTime = new UpstreamTime();

  constructor(settings: AdaptivePolicySettings) {
    this.settings = { ...settings };
    this.pins = settings.pins ?? {};
    if (this.pins.maxInflight === undefined) {
      const min = settings.minInflight ?? 2;
      this.limiter = new InflightLimit({
        replicas: settings.replicas,
        min,
        max: Math.max(min, settings.maxInflight ?? 16),
        initial: DEFAULT_INFLIGHT,
      });
    }
    if (settings.onDecision !== undefined) this.log = new DecisionLog(settings.now, settings.onDecision);
  }

  inflightLimit(): number {
    return this.limiter?.limit ?? this.pins.maxInflight! * this.settings.replicas;
  }

  setReplicas(count: number): void {
    this.settings.replicas = count;
    this.limiter?.setReplicas(count);
  }

  /**
   * Pinned: one slot per replica (the last of --max-inflight takes full batches only, as before).
   * Learned: every slot above one work slot per replica is a staging slot. The learned limit thus
   * only ever adds room for full batches: partial batches sent side by side split the clients
   * into smaller groups that never merge again (73% of a one-slot upstream instead of 100%),
   * while full batches staged are what a merging or multi-slot upstream gains from (and on a
   * one-slot upstream they only wait, so a probe costs latency, not throughput).
   */
  stagingSlots(): number {
    if (this.limiter === undefined) return this.settings.replicas;
    return this.limiter.limit - this.settings.replicas;
  }

  batchSize(route: string): number {
    if (this.pins.maxBatchSize !== undefined) return this.pins.maxBatchSize;
    return this.routes.get(route)?.plan?.batchSize ?? this.settings.maxBatchSize;
  }

  holdMs(): number {
    return this.pins.maxWaitMs ?? this.settings.defaultHoldMs;
  }

  bucketFactor(route: string): number | undefined {
    const pinned = this.pins.bucketByLength;
    if (pinned !== undefined) return pinned === 'off' ? undefined : pinned;
    return this.routes.get(route)?.plan?.factor;
  }

  requestArrived(route: string, longestBytes: number): void {
    this.stateOf(route)?.lengths.add(longestBytes);
  }

  callFinished(report: CallReport): void {
    if (!report.ok) return; // a failure's duration says nothing about the upstream's cost
    const finishedAt = report.startedAt + report.durationMs;
    const load = report.queuedAtStart + report.items * report.inflightAtStart;
    if (this.limiter !== undefined) {
      const change = this.limiter.record({
        startedAt: report.startedAt,
        finishedAt,
        items: report.items,
        load,
        busy: report.queuedAtStart > 0,
      });
      if (change !== undefined && change.to !== change.from) {
        this.log?.note({ decision: 'inflightLimit', from: change.from, to: change.to, why: change.why });
      }
    }
    const upstreamStart = this.upstreamTime.startOf(report.startedAt, finishedAt);
    const state = this.stateOf(report.route);
    if (state === undefined) return;
    state.inSystem += LOAD_SMOOTHING * (Math.min(load, 1e6) - state.inSystem);
    const verdictChanged = state.cost.observe({
      startedAt: upstreamStart,
      finishedAt,
      items: report.items,
      longestBytes: report.longestBytes,
      totalBytes: report.totalBytes,
    });
    if (verdictChanged) {
      this.log?.note({ decision: 'pads', route: state.route, from: !state.cost.pads, to: state.cost.pads, why: this.padsWhy(state) });
    }
    if (verdictChanged || finishedAt - state.plannedAt >= REPLAN_MS) this.replan(state, finishedAt);
  }

  snapshot(): PolicySnapshot {
    const limiter = this.limiter;
    const inflightLimit: Decision<number> =
      limiter === undefined
        ? { value: this.inflightLimit(), source: 'pinned', why: `--max-inflight ${this.pins.maxInflight} per replica` }
        : { value: limiter.limit, source: limiter.initial ? 'default' : 'learned', why: limiter.reason };
    return {
      policy: 'adaptive',
      inflightLimit,
      stagingSlots: this.stagingSlots(),
      throughput: limiter?.throughput ?? 0,
      routes: [...this.routes.values()].map((state) => this.routeSnapshot(state)),
    };
  }

  private routeSnapshot(state: RouteState): RoutePolicySnapshot {
    const pins = this.pins;
    const pads = state.cost.pads;
    const learned = pads === true && state.plan !== undefined;
    const batchSize: Decision<number> =
      pins.maxBatchSize !== undefined
        ? { value: pins.maxBatchSize, source: 'pinned', why: `--max-batch-size ${pins.maxBatchSize}` }
        : learned
          ? { value: state.plan!.batchSize, source: 'learned', why: state.planWhy }
          : { value: this.settings.maxBatchSize, source: pads === false ? 'learned' : 'default', why: 'the largest batch the upstream takes' };
    const bucketFactor: Decision<number | null> =
      pins.bucketByLength !== undefined
        ? { value: pins.bucketByLength === 'off' ? null : pins.bucketByLength, source: 'pinned', why: `--bucket-by-length ${pins.bucketByLength}` }
        : learned
          ? { value: state.plan!.factor ?? null, source: 'learned', why: state.planWhy }
          : {
              value: null,
              source: pads === false ? 'learned' : 'default',
              why: pads === false ? 'the upstream does not pad' : 'padding not measured yet',
            };
    const holdMs: Decision<number> =
      pins.maxWaitMs !== undefined
        ? { value: pins.maxWaitMs, source: 'pinned', why: `--max-wait-ms ${pins.maxWaitMs}` }
        : { value: this.settings.defaultHoldMs, source: 'default', why: 'held only while batch-mates are on their way; a lone client never waits' };
    return {
      route: state.route,
      batchSize,
      bucketFactor,
      holdMs,
      pads: { value: pads, source: pads === null ? 'default' : 'learned', why: this.padsWhy(state) },
      costFit: state.cost.costFit,
    };
  }

  private padsWhy(state: RouteState): string {
    const fit = state.cost.costFit;
    if (fit === null) return 'too few calls measured';
    const verdict = state.cost.pads;
    if (verdict === null) return 'calls too alike in length mix to tell (or padding cost between the thresholds)';
    const ratio = fit.perByteMs > 0 ? fit.padPerByteMs / fit.perByteMs : Infinity;
    return `a padding byte costs ${ratio.toFixed(2)}x a real byte (${verdict ? 'pads' : 'does not pad'})`;
  }

  /** Re-decides buckets and batch size for a route that pads (only while nothing pins both). */
  private replan(state: RouteState, now: number): void {
    state.plannedAt = now;
    const pins = this.pins;
    if (pins.bucketByLength !== undefined && pins.maxBatchSize !== undefined) return;
    const fit = state.cost.costFit;
    if (state.cost.pads !== true || fit === null || !state.lengths.known) {
      if (state.plan !== undefined && state.cost.pads === false) {
        this.noteChange(state, state.plan, undefined, 'the upstream does not pad');
        state.plan = undefined;
      }
      return;
    }
    const maxBatch = pins.maxBatchSize ?? this.settings.maxBatchSize;
    const factors = pins.bucketByLength !== undefined ? [pins.bucketByLength === 'off' ? undefined : pins.bucketByLength] : undefined;
    const best = state.lengths.bestPlan(fit, maxBatch, Math.max(1, state.inSystem), factors);
    if (pins.maxBatchSize !== undefined) best.batchSize = pins.maxBatchSize;
    const current = state.plan;
    if (current !== undefined) {
      const currentCost = state.lengths.costPerInput(fit, current.factor, current.batchSize, Math.max(1, state.inSystem));
      if (best.costPerInputMs >= currentCost * REPLAN_GAIN) return;
      if (best.factor === current.factor && best.batchSize === current.batchSize) return;
    }
    const why =
      `lowest predicted cost per input (${best.costPerInputMs.toFixed(3)} ms) for this route's lengths ` +
      `at ~${state.inSystem.toFixed(0)} inputs in flight`;
    this.noteChange(state, current, best, why);
    state.plan = best;
    state.planWhy = why;
  }

  private noteChange(state: RouteState, from: LengthPlan | undefined, to: LengthPlan | undefined, why: string): void {
    const factor = (plan: LengthPlan | undefined): number | null => plan?.factor ?? null;
    const size = (plan: LengthPlan | undefined): number => plan?.batchSize ?? this.settings.maxBatchSize;
    if (factor(from) !== factor(to)) this.log?.note({ decision: 'bucketFactor', route: state.route, from: factor(from), to: factor(to), why });
    if (size(from) !== size(to)) this.log?.note({ decision: 'batchSize', route: state.route, from: size(from), to: size(to), why });
  }

  private stateOf(route: string): RouteState | undefined {
    let state = this.routes.get(route);
    if (state === undefined) {
      if (this.routes.size >= MAX_ROUTES) return undefined;
      state = { route, cost: new CostModel(), lengths: new LengthProfile(), plan: undefined, planWhy: '', plannedAt: -Infinity, inSystem: 1 };
      this.routes.set(route, state);
    }
    return state;
  }
}
