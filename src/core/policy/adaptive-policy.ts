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
 *   batch the upstream takes, or half of it when the limiter's probe found two half batches side
 *   by side deliver more (an upstream running two batches at once). While the padding is not
 *   known, the route is briefly bucketed to learn it (see EXPLORE_FACTOR).
 * - Hold: the batcher's rule (hold a partial batch only while batch-mates are on their way, never
 *   a lone client) bounded by the default or pinned --max-wait-ms; it works on every upstream
 *   modelled, so it is not learned.
 *
 * Until enough is measured every value is today's default (2 calls in flight per replica, no
 * buckets, the upstream's batch size), so a fresh proxy behaves exactly like before.
 */
import { CostModel } from './cost-model.js';
import type { Clock } from '../clock.js';
import { DecisionLog, type LoggedChange } from './decision-log.js';
import type { CallReport, CostFit, Decision, DispatchPolicy, PolicySnapshot, RoutePolicySnapshot } from './dispatch-policy.js';
import { InflightLimit } from './inflight-limit.js';
import { LengthProfile, type LengthPlan } from './length-plan.js';
import { MIN_BATCH, nextAmortizedSize } from './amortized-batch.js';
import { UpstreamTime } from './upstream-time.js';
import { Gathering } from './gathering.js';

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
  /** The clock's timers: with them, the last change of a burst is logged at the end of its second (decision-log.ts). */
  timers?: Pick<Clock, 'setTimer' | 'clearTimer'>;
}

/** The default per-replica in-flight limit before anything is learned (today's default). */
export const DEFAULT_INFLIGHT = 2;
/** Most distinct routes tracked (the route table is small; this only bounds memory by design). */
const MAX_ROUTES = 256;
/** Shortest time between two re-plans of one route's buckets and batch size. */
const REPLAN_MS = 250;
/** A new plan must be this much cheaper per input than the current one (hysteresis). */
const REPLAN_GAIN = 0.97;
/**
 * For this long after a route's length buckets change, every slot may take a partial batch (no
 * staging slots). Why: requests queued under the old bands keep their batch keys, and no new
 * request joins them; under full-batch load the work slot never frees (a staging slot takes each
 * full batch first), so those partial batches would wait out the queue timeout, their closed-loop
 * clients stalled (simulated TEI-like at 128 clients: a quarter of the clients for 30 s after the
 * exploration's buckets ended). Oldest first, they leave within a few calls once the batcher has
 * stopped holding them for batch-mates (its traffic average fades in about 100 ms per step).
 */
const DRAIN_MS = 400;
/** Smoothing of the inputs-in-system estimate per call. */
const LOAD_SMOOTHING = 0.25;
/**
 * An arrival that finds more than this many times the estimate of inputs in the system sets the
 * estimate to what it found, and re-plans at once. Why: the estimate moves per answered call, and
 * on a slow upstream calls take seconds (simulated USE-like, 32 -> 128 clients: calls of 32
 * paragraphs take 3 s, and the plan stayed made for 17 inputs, buckets of factor 3, for 6 s after
 * the step, where 1.5 serves more). A step down needs no haste: calls then come faster, and a plan
 * made for more load than there is errs on the side of narrower bands for a few calls. At a steady
 * load an arrival finds at most the clients present, and the smoothed estimate stands at three
 * quarters of that or more (it also counts the moments between a client's requests): no doubling.
 */
const LOAD_STEP = 2;
/**
 * While padding is not known: buckets of this factor, for at most EXPLORE_CALLS calls of two
 * inputs or more, when they split the route's mix (no band holds more than EXPLORE_SPLIT of it).
 * Why: calls of a full batch of mixed lengths all hold a paragraph, so their padded size
 * (count × longest) moves with their real size and the fit cannot tell padding from real work
 * (simulated padded CPU at 128 clients: 7 calls of 32, 2 s, before the verdict). Calls cut from
 * bands differ in longest input, which is what separates the two; on an upstream that does not
 * pad the verdict then comes within a few calls, so the detour is short.
 *
 * EXPLORE_CALLS bounds the detour where no verdict comes: banded calls are smaller than full ones
 * (a band holding a twentieth of the mix gets a twentieth of the queue), so exploring costs about
 * a third of a GPU-like upstream's throughput while it lasts, and on a real machine the timing
 * noise keeps "length costs nothing" out of reach (GPU-like, 1 -> 128 clients: the cap was hit,
 * 1.5 s, in every run of bench:perf P7). Simulated, "pads" came within 6 banded calls on every
 * padded model and load without jitter, and within 5 with 4 ms of it but at 8 clients, where the
 * padded CPU and TEI-CPU models took 75 and 69; with the cap at 32 the four-term fit told it from
 * the unbanded calls that followed, at the same throughput (226 and 224 inputs/s against 225 and
 * 221). So 32.
 */
const EXPLORE_FACTOR = 2;
/** Exported for the tests. */
export const EXPLORE_CALLS = 32;
const EXPLORE_SPLIT = 0.9;
const EXPLORE_CHECK = 16;

interface RouteState {
  readonly route: string;
  readonly cost: CostModel;
  readonly lengths: LengthProfile;
  plan: LengthPlan | undefined;
  planWhy: string;
  plannedAt: number;
  /** Inputs in the proxy and upstream at once, smoothed (what batches are cut from). */
  inSystem: number | undefined;
  /** What the plan's banded calls held against its estimate (gathering.ts): the plan is made for inSystem times it. */
  readonly gathering: Gathering;
  /** The plan is the exploration's buckets (padding not known yet), not a learned one. */
  exploring: boolean;
  /** Calls of two inputs or more answered while exploring. */
  explored: number;
  /** Requests since the last look at whether to explore. */
  sinceCheck: number;
  /** Without a length plan: the batch size past which the fixed cost is paid off (amortized-batch.ts). */
  amortized: number | undefined;
  amortizedWhy: string;
}

export class AdaptivePolicy implements DispatchPolicy {
  private readonly settings: AdaptivePolicySettings;
  private readonly pins: PolicyPins;
  private readonly limiter: InflightLimit | undefined;
  private readonly routes = new Map<string, RouteState>();
  private readonly log: DecisionLog | undefined;
  private readonly upstreamTime = new UpstreamTime();
  /** Staging slots are lifted until a call finishes at or after drainUntil (see DRAIN_MS). */
  private draining = false;
  private drainUntil = -Infinity;

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
    if (settings.onDecision !== undefined) this.log = new DecisionLog(settings.now, settings.onDecision, undefined, settings.timers);
    this.upstreamTime.setLanes(settings.replicas);
  }

  inflightLimit(): number {
    return this.limiter?.limit ?? this.pins.maxInflight! * this.settings.replicas;
  }

  setReplicas(count: number): void {
    this.settings.replicas = count;
    this.limiter?.setReplicas(count);
    this.upstreamTime.setLanes(count);
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
    if (this.draining) return 0;
    if (this.limiter === undefined) return this.settings.replicas;
    return this.limiter.limit - this.settings.replicas * this.limiter.workSlotsPerReplica;
  }

  batchSize(route: string): number {
    if (this.pins.maxBatchSize !== undefined) return this.pins.maxBatchSize;
    const state = this.routes.get(route);
    const size = this.sizeFor(state, state?.plan);
    if (state?.plan !== undefined) return size;
    // Halving is the limiter's probe (see InflightLimit.halved), for routes without a length plan.
    return this.limiter?.halved === true ? Math.max(1, Math.floor(size / 2)) : size;
  }

  /**
   * The batch size in force before halving: the amortized size (amortized-batch.ts), or a length
   * plan's. A learned plan chooses among sizes on its own model, which knows the padding; the
   * amortized size caps it only at its floor, where a call's fixed cost is under a tenth of an
   * input's own cost even shared by 8, so the plan's larger batch (chosen on a cost linear in the
   * batch, blind to a cost per input that grows with it) can gain nothing measurable. Measured:
   * the real model behind bench/upstreams, judged to pad, kept batches of 32 at 0.50x direct;
   * the simulated padded CPU (2 ms a call, about 2 ms an input) keeps its plan's 32 at 128 clients.
   * `plan` is explicit, the route's own or another (noteChange prices the outgoing and incoming ones).
   */
  private sizeFor(state: RouteState | undefined, plan: LengthPlan | undefined): number {
    const amortized = state?.amortized ?? this.settings.maxBatchSize;
    if (plan === undefined || state!.exploring || amortized <= MIN_BATCH) return Math.min(plan?.batchSize ?? Infinity, amortized);
    return plan.batchSize;
  }

  holdMs(): number {
    return this.pins.maxWaitMs ?? this.settings.defaultHoldMs;
  }

  bucketFactor(route: string): number | undefined {
    const pinned = this.pins.bucketByLength;
    if (pinned !== undefined) return pinned === 'off' ? undefined : pinned;
    return this.routes.get(route)?.plan?.factor;
  }

  requestArrived(route: string, longestBytes: number, inSystemItems?: number): void {
    const state = this.stateOf(route);
    if (state === undefined) return;
    state.lengths.add(longestBytes);
    // A step up in load is taken at once (see LOAD_STEP), and the length plan re-made for it. Only
    // a learned plan is made for a load; elsewhere the estimate sets the padding at stake for the
    // verdict, which keeps its pace (moved at arrivals, the simulated two-slot upstream was left
    // with no verdict at 32 and 128 clients where it had "does not pad").
    // Stryker: ConditionalExpression (`inSystemItems !== undefined`, `state.inSystem !== undefined` -> true) equivalent: without a count
    // or an estimate the comparison is of undefined or against NaN, never true (the tests are there for the types).
    if (state.cost.pads === true && inSystemItems !== undefined && state.inSystem !== undefined && inSystemItems > LOAD_STEP * state.inSystem) {
      state.inSystem = inSystemItems;
      this.replan(state, this.settings.now());
    }
    // The exploration starts as soon as the mix is known, not at the next answer: at a load step
    // the requests queued meanwhile would otherwise all go as unbucketed calls (padded CPU at
    // 128 clients: two calls of 32 paragraphs-and-queries, 0.5 s, before the first banded one).
    // Checked every EXPLORE_CHECK requests only, as splits() reads the whole histogram; and never
    // once the exploration is spent (or buckets are pinned): a route whose padding was not told
    // apart stays without a plan and without a verdict, and re-planned every 16 requests for
    // nothing (profiled: 3% of the proxy's CPU in front of the TEI-like simulator at 128 clients).
    // Stryker: ConditionalExpression (`state.plan === undefined` -> true) not equivalent, not killed: it re-plans an exploring route at requests too, which
    // returns early but refreshes the amortized size and the padding at stake from the new lengths before the next answer does (a detail of timing).
    if (state.plan === undefined && state.cost.pads === null && this.mayExplore(state) && ++state.sinceCheck >= EXPLORE_CHECK) {
      state.sinceCheck = 0;
      this.replan(state, state.plannedAt);
    }
  }

  callFinished(report: CallReport): void {
    this.draining = report.startedAt + report.durationMs < this.drainUntil;
    if (!report.ok) return; // a failure's duration says nothing about the upstream's cost
    const finishedAt = report.startedAt + report.durationMs;
    // Inputs in the proxy and the upstream: queued plus in flight (counted, as calls cut from
    // length bands differ in size; the estimate from this call's size undercounted the padded
    // CPU upstream's load by half at 32 clients, and the length plan then chose too wide bands).
    const load = report.queuedAtStart + (report.inflightItemsAtStart ?? report.items * report.inflightAtStart);
    if (this.limiter !== undefined) {
      const halvedBefore = this.limiter.halvingDecided;
      // Only calls the halving would cut smaller count as full: a route with a length plan keeps its size.
      // (The halving no longer reads `full`; the widening does: adaptive-policy-replan.test.ts.)
      const known = this.routes.get(report.route);
      const halvable = this.pins.maxBatchSize === undefined && known?.plan === undefined;
      const change = this.limiter.record({
        startedAt: report.startedAt,
        finishedAt,
        items: report.items,
        load,
        busy: report.queuedAtStart > 0,
        full: halvable && report.items >= this.batchSize(report.route),
        // Halving cuts only calls over half the whole batch (the size before halving; a halvable route has no plan).
        overHalf: halvable && report.items > Math.floor(this.sizeFor(known, undefined) / 2),
        // inflightAtStart counts the call itself.
        alone: report.inflightAtStart <= 1,
      });
      // Logged when decided, not when probed (as the limit: a probe is no decision).
      if (this.limiter.halvingDecided !== halvedBefore) {
        const whole = this.settings.maxBatchSize;
        const half = Math.max(1, Math.floor(whole / 2));
        const [from, to] = halvedBefore ? [half, whole] : [whole, half];
        this.log?.note({ decision: 'batchSize', from, to, why: this.limiter.halvingReason });
      }
      // Stryker: 'change.to !== change.from' -> true is equivalent: a change the limiter returns always moves the limit.
      if (change !== undefined && change.to !== change.from) {
        this.log?.note({ decision: 'inflightLimit', from: change.from, to: change.to, why: change.why });
      }
    }
    const upstreamStart = this.upstreamTime.startOf(report.startedAt, finishedAt);
    const state = this.stateOf(report.route);
    if (state === undefined) return;
    // The first call sets it: ramping up from nothing, a plan made over the first calls saw a
    // fraction of the load (padded CPU, 32 clients: planned for 14 inputs, too few for narrow bands).
    const bounded = Math.min(load, 1e6);
    state.inSystem = state.inSystem === undefined ? bounded : state.inSystem + LOAD_SMOOTHING * (bounded - state.inSystem);
    this.observeGathering(state, report, bounded);
    // A call of one input has no padding to tell (Stryker: >= 2 and > 1 are the same on integers).
    const explored = state.exploring && report.items > 1;
    if (explored) state.explored++;
    // Cut from length bands (the exploration's, a learned plan's or pinned ones): whether length costs anything at all (cost-model.ts).
    // Stryker: `report.items > 1` -> true or `>= 1` not killed: a call of one input holds no padding, but one would still say
    // whether length costs at all; its count·longest varies little against the padding at stake, and no test found a verdict it moves.
    const banded = report.items > 1 && this.bucketFactor(report.route) !== undefined;
    // What the log says it changed from: null while not known (a first verdict is not a flip).
    const padsBefore = state.cost.pads;
    const verdictChanged = state.cost.observe({
      startedAt: upstreamStart,
      finishedAt,
      items: report.items,
      longestBytes: report.longestBytes,
      totalBytes: report.totalBytes,
      banded,
    });
    if (verdictChanged) {
      this.log?.note({ decision: 'pads', route: state.route, from: padsBefore, to: state.cost.pads, why: this.padsWhy(state) });
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
    const size = this.sizeFor(state, state.plan);
    const batchSize: Decision<number> =
      pins.maxBatchSize !== undefined
        ? { value: pins.maxBatchSize, source: 'pinned', why: `--max-batch-size ${pins.maxBatchSize}` }
        : learned
          ? size < state.plan!.batchSize
            ? { value: size, source: 'learned', why: state.amortizedWhy }
            : { value: state.plan!.batchSize, source: 'learned', why: state.planWhy }
          : this.limiter?.halved === true && state.plan === undefined
            ? { value: this.batchSize(state.route), source: 'learned', why: this.limiter.halvingReason }
            : // Also while exploring: the exploration's buckets take the largest batch, capped by the amortized size.
              state.amortized !== undefined
              ? { value: state.amortized, source: 'learned', why: state.amortizedWhy }
              : { value: this.settings.maxBatchSize, source: pads === false ? 'learned' : 'default', why: 'the largest batch the upstream takes' };
    const bucketFactor: Decision<number | null> =
      pins.bucketByLength !== undefined
        ? { value: pins.bucketByLength === 'off' ? null : pins.bucketByLength, source: 'pinned', why: `--bucket-by-length ${pins.bucketByLength}` }
        : learned
          ? { value: state.plan!.factor ?? null, source: 'learned', why: state.planWhy }
          : state.exploring
            ? { value: state.plan!.factor ?? null, source: 'default', why: state.planWhy }
            : {
                value: null,
                source: pads === false ? 'learned' : 'default',
                // After an exploration without a verdict, how it ended.
                why: pads === false ? 'the upstream does not pad' : state.explored >= EXPLORE_CALLS ? state.planWhy : 'padding not measured yet',
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
    if (state.cost.lengthFree) return 'the length bands’ calls cost alike whatever their length (does not pad)';
    const said = verdict ? 'pads' : 'does not pad';
    // A fit whose real bytes cost nothing (length paid only as padding) has no ratio to give.
    // Stryker: EqualityOperator (`>=`) equivalent: only a real byte fitted at exactly 0.0 differs (a measure-zero tie of a ridged fit).
    if (!(fit.perByteMs > 0))
      return `a padding byte costs ${(fit.padPerByteMs * 1024).toFixed(3)} ms per KB, a real byte nothing measurable (${said})`;
    return `a padding byte costs ${(fit.padPerByteMs / fit.perByteMs).toFixed(2)}x a real byte (${said})`;
  }

  /** Re-decides buckets and batch size for a route that pads (only while nothing pins both). */
  private replan(state: RouteState, now: number): void {
    state.plannedAt = now;
    const pins = this.pins;
    // Stryker: ConditionalExpression (-> false) not equivalent, not killed: every decision is pinned, and noteChange compares pinned values, so planning
    // changes nothing but the padding at stake handed to the cost model (only the route's `pads` account), which the mutant arguably gets right.
    if (pins.bucketByLength !== undefined && pins.maxBatchSize !== undefined) return;
    const maxBatch = pins.maxBatchSize ?? this.settings.maxBatchSize;
    const fit = state.cost.costFit;
    this.amortize(state, fit);
    // What padding would cost without buckets is what "does not pad" must rule out (cost-model.ts).
    // Stryker: ConditionalExpression (-> true) not equivalent, not killed: a mix of under 30 requests would set the padding at stake too; "does not pad"
    // needs 32 calls that held padding, each with its requests, so only the "pads" and length-blind rules could see it early.
    if (state.lengths.known) {
      // The load's batch, but at least MIN_BATCH inputs: a lone client's calls put no padding at
      // stake, and against none any length cost is "nothing", so the banded calls of a busy spell
      // before it were judged not to pad (the real model behind bench/upstreams, 128 clients then
      // one: "does not pad" at one client, then 8 clients served with no buckets at half the rate).
      const batch = Math.min(maxBatch, Math.max(MIN_BATCH, Math.round(state.inSystem ?? 1)));
      state.cost.setUnbucketedWaste(state.lengths.expectedWaste(batch), state.lengths.expectedWaste(maxBatch));
    }
    // An exploration whose remaining calls could not give a verdict either is spent now (cost-model.ts).
    let cutShort = false;
    if (state.exploring && state.cost.lengthVerdictOutOfReach(EXPLORE_CALLS)) {
      state.explored = EXPLORE_CALLS;
      cutShort = true;
    }
    // Stryker: ConditionalExpression equivalent for `fit === null` -> false: a verdict of "pads" is only given with a fit.
    if (state.cost.pads !== true || fit === null || !state.lengths.known) {
      if (state.cost.pads === null && this.explores(state)) {
        // Stryker: ConditionalExpression (-> false) equivalent: the same exploration plan is made again (noteChange sees the same factor and size), with the same reason.
        if (state.exploring) return;
        const plan = { factor: EXPLORE_FACTOR, batchSize: maxBatch, costPerInputMs: NaN };
        const why = `exploring: buckets of factor ${EXPLORE_FACTOR} while padding is measured (calls of mixed lengths cannot tell)`;
        // Flagged first: noteChange prices the new plan as the exploration's (capped by the amortized size), not as a learned one.
        state.exploring = true;
        this.noteChange(state, state.plan, plan, why);
        state.plan = plan;
        state.planWhy = why;
        return;
      }
      // Stryker: ConditionalExpression, LogicalOperator (-> true, `||`, either test -> true) equivalent: with no plan the block changes nothing (noteChange
      // from none to none), and a plan with "pads" never reaches here: it needs a fit (never lost) and a known mix (once 30 requests, never under 57 again).
      if (state.plan !== undefined && state.cost.pads !== true) {
        const why =
          state.cost.pads === false
            ? 'the upstream does not pad'
            : cutShort
              ? 'padding not told apart: the calls vary too much in time for a verdict within the exploration; no buckets'
              : 'padding not told apart after exploring; no buckets';
        this.noteChange(state, state.plan, undefined, why);
        state.plan = undefined;
        state.planWhy = why;
        state.exploring = false;
      }
      return;
    }
    // Stryker: ConditionalExpression, StringLiteral (`=== 'off'` -> false, `''`) equivalent: 'off' as a factor puts every length in one band (lengthBucket
    // gives NaN, one Map key), the cost of no buckets; and the plan's factor is read only where the pin wins (bucketFactor, snapshot, noteChange).
    const factors = pins.bucketByLength !== undefined ? [pins.bucketByLength === 'off' ? undefined : pins.bucketByLength] : undefined;
    const load = this.planLoad(state);
    const best = state.lengths.bestPlan(fit, maxBatch, load, factors);
    // Stryker: ConditionalExpression (-> false) equivalent: bestPlan was given the pinned size as the only size, so best.batchSize is it already.
    if (pins.maxBatchSize !== undefined) best.batchSize = pins.maxBatchSize;
    // The exploration's buckets were no decision: the first learned plan replaces them whatever it costs.
    const current = state.exploring ? undefined : state.plan;
    state.exploring = false;
    if (current !== undefined) {
      const currentCost = state.lengths.costPerInput(fit, current.factor, current.batchSize, load);
      // Stryker: EqualityOperator (`>`) equivalent: a predicted cost exactly 0.97 of the current plan's is a measure-zero tie.
      if (best.costPerInputMs >= currentCost * REPLAN_GAIN) return;
      // Stryker: ConditionalExpression, EqualityOperator (-> false; the batch size test -> true, `!==`) equivalent: the same factor and batch size give the same
      // predicted cost (same fit, mix and load), which the line above returned on, so this line never returns; the others here are killed.
      if (best.factor === current.factor && best.batchSize === current.batchSize) return;
    }
    const why =
      `lowest predicted cost per input (${best.costPerInputMs.toFixed(3)} ms) for this route's lengths ` +
      `at ~${(state.inSystem ?? 1).toFixed(0)} inputs in flight` +
      (state.gathering.ratio === 1 ? '' : `, calls gathering ${state.gathering.ratio.toFixed(2)}x their band's share of them`);
    this.noteChange(state, state.plan, best, why);
    state.plan = best;
    state.planWhy = why;
  }

  /**
   * A call of a learned plan's band (its factor, or a pinned one): how many inputs it held against
   * the plan's estimate, its band's share of the `load` it was cut from (gathering.ts). Not the
   * exploration's calls, which precede any plan, nor calls before a plan: the ratio is read on
   * the plan in force. Only bands the plan prices below the batch size and at one input or more:
   * a full call says only "at least", and a band of under one input is priced at one whatever the
   * load. (A learned plan exists only while the route is found to pad: replan() drops it with the
   * verdict, in the same answer.)
   */
  private observeGathering(state: RouteState, report: CallReport, load: number): void {
    const factor = this.bucketFactor(report.route);
    // Stryker: ConditionalExpression (`factor === undefined` -> false) equivalent: lengthBucket(length, undefined) is NaN, no band equals NaN, so the share is 0 and so is `expected`.
    if (state.plan === undefined || state.exploring || factor === undefined) return;
    const expected = state.lengths.bandShare(report.longestBytes, factor) * load;
    // Stryker: EqualityOperator (`<= 1`, `> batch`) equivalent: a share of faded weights times a count landing on exactly 1 or the batch size is a measure-zero tie.
    if (expected < 1 || expected >= this.batchSize(report.route)) return;
    state.gathering.observe(report.items, expected);
  }

  /** The load a length plan is made for: the inputs in the system, as many as the calls gather. */
  private planLoad(state: RouteState): number {
    return Math.max(1, (state.inSystem ?? 1) * state.gathering.ratio);
  }

  /**
   * The batch size for a route without a length plan: the largest, or smaller once the fit shows
   * a call's fixed cost paid off well before it (amortized-batch.ts). Not while --max-batch-size
   * pins it; re-decided with the plan (every REPLAN_MS).
   */
  private amortize(state: RouteState, fit: CostFit | null): void {
    if (this.pins.maxBatchSize !== undefined || fit === null) return;
    const decided = nextAmortizedSize(fit, state.lengths.meanBytes, this.settings.maxBatchSize, state.amortized ?? this.settings.maxBatchSize);
    const size = decided === undefined || decided.size >= this.settings.maxBatchSize ? undefined : decided.size;
    // Stryker: ConditionalExpression (-> false) not equivalent, not killed: it would refresh the reason's numbers of an unchanged size, which are kept from
    // the last change (docs/mutation-testing.md, "Noticed"); no test wants stale numbers.
    if (size === state.amortized) return;
    const why =
      // Stryker: ConditionalExpression (`decided === undefined` -> false) equivalent: size is undefined whenever decided is.
      decided === undefined || size === undefined
        ? 'the largest batch the upstream takes'
        : `a call's fixed cost (${decided.fixedMs.toFixed(1)} ms) shared by ${size} inputs is about a tenth or less of an input's own cost (${decided.perInputMs.toFixed(1)} ms): larger batches gain little`;
    const before = this.sizeFor(state, state.plan);
    state.amortized = size;
    state.amortizedWhy = why;
    const after = this.sizeFor(state, state.plan);
    if (after === before) return;
    // Above the floor a learned plan's size stands (sizeFor), so the rule only lifted its cap: said
    // so, as the log read "shared by 16 inputs ... larger batches gain little" for a move to 32.
    // A size in force other than the rule's own is always the plan's (sizeFor gives one or the other).
    const planStands = size !== undefined && after !== size;
    this.log?.note({
      decision: 'batchSize',
      route: state.route,
      from: before,
      to: after,
      why: planStands ? `${why}; above ${MIN_BATCH} the length plan's ${after} stands (${state.planWhy})` : why,
    });
  }

  /** Whether buckets are worth trying to learn the padding (see EXPLORE_FACTOR). */
  private explores(state: RouteState): boolean {
    return this.mayExplore(state) && state.lengths.known && state.lengths.splits(EXPLORE_FACTOR, EXPLORE_SPLIT);
  }

  /** Buckets are not pinned and the exploration is not spent: what explores() asks before reading the mix. */
  private mayExplore(state: RouteState): boolean {
    return this.pins.bucketByLength === undefined && state.explored < EXPLORE_CALLS;
  }

  private noteChange(state: RouteState, from: LengthPlan | undefined, to: LengthPlan | undefined, why: string): void {
    // A pinned factor never changes either (the plan's is the learned one: it would log null -> 2, lift the staging slots and
    // restart the limiter for --bucket-by-length 2 when the padding is first learned).
    const factor = (plan: LengthPlan | undefined): number | null => (this.pins.bucketByLength !== undefined ? null : (plan?.factor ?? null));
    // A pinned batch size never changes (sizeFor is the learned one: it would log 32 -> 16 for --max-batch-size 16).
    // sizeFor takes the plan explicitly: when it defaulted to the route's plan, "no plan" priced as the current one (a learned plan
    // of no buckets given up for "does not pad" then moved the batch size 32 -> 16 with no line and no restart).
    const size = (plan: LengthPlan | undefined): number => this.pins.maxBatchSize ?? this.sizeFor(state, plan);
    if (factor(from) !== factor(to)) {
      this.drainUntil = this.settings.now() + DRAIN_MS;
      this.draining = true;
    }
    // Stryker: ConditionalExpression, EqualityOperator (-> true; the size test -> false, `===`) not killed: a restart shows only through a probe under way
    // at that moment, and no test has one under way at a change of batch size alone (the change of buckets is killed: adaptive-policy-replan.test.ts).
    // Stryker: ConditionalExpression (the factor test -> true) not equivalent, not killed: a change of batch size alone under the same bands would clear
    // the work-slot verdict too, which shows only in a later probe; replan() offers one size, so such a change comes only from the exploration's capped size.
    if (factor(from) !== factor(to) && factor(to) !== null) this.limiter?.bandsChanged(this.settings.now());
    else if (factor(from) !== factor(to) || size(from) !== size(to)) this.limiter?.restart(this.settings.now());
    if (factor(from) !== factor(to)) this.log?.note({ decision: 'bucketFactor', route: state.route, from: factor(from), to: factor(to), why });
    if (size(from) !== size(to)) this.log?.note({ decision: 'batchSize', route: state.route, from: size(from), to: size(to), why });
  }

  private stateOf(route: string): RouteState | undefined {
    let state = this.routes.get(route);
    if (state === undefined) {
      if (this.routes.size >= MAX_ROUTES) return undefined;
      state = {
        route,
        cost: new CostModel(),
        lengths: new LengthProfile(),
        plan: undefined,
        // Stryker: the string is equivalent: planWhy is read only with a plan, and is set with it.
        planWhy: '',
        plannedAt: -Infinity,
        inSystem: undefined,
        gathering: new Gathering(),
        exploring: false,
        explored: 0,
        sinceCheck: 0,
        amortized: undefined,
        // Stryker: the string is equivalent: amortizedWhy is read only with an amortized size, and is set with it.
        amortizedWhy: '',
      };
      this.routes.set(route, state);
    }
    return state;
  }
}
