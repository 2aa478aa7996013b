/**
 * The adaptive in-flight limit: how many calls to keep at the upstream at once, learned by
 * probing, the way BBR probes bandwidth and Netflix's concurrency limiters probe a server.
 *
 * Why probing on throughput, and not a latency gradient alone (Vegas, Gradient2): the upstreams
 * in front of which autobatch runs answer more calls in flight in opposite ways at the same
 * latency signal. A one-slot GPU-like server only queues the extra calls (latency grows,
 * throughput flat), while TEI's own queue merges them into a larger model batch (latency grows
 * too, but throughput grows more). What separates them is delivered inputs per second, so the
 * limit moves one step, the inputs delivered at the new limit are compared with those at the
 * old one, and the step is kept only if it paid: up needs a clear gain, down is kept unless it
 * loses (at equal throughput fewer calls in flight means less latency and less to cancel).
 *
 * Robustness: a window counts only calls that started after the limit last changed (calls in
 * transit, and the first round of calls after a change, describe the old limit), spans at least
 * sixteen calls and four mean call durations, so one
 * slow call is a small part of it, and opens and closes on whole bursts of completions (an
 * upstream that merges calls answers them together); a comparison whose load (inputs in the
 * system) moved by more than a third is thrown away rather than believed, and one with a stall
 * (its halves' rates far apart) is measured again; failed probes back off exponentially (to
 * about 2 s; a probe down that clearly lost starts at eight windows, and a step up that lost only
 * against the window that kept the step before, or gained within the noise, is tried again from
 * a fresh window first), and that backoff resets when the load changes, so a new level of load
 * is explored within a second or two; traffic that resumes after a pause is a new level only if
 * its load moved, and a window the pause cut is dropped. Steps are one call per replica, never more.
 *
 * The floor is one running call plus one staged full batch per replica (the staging rule of
 * batcher.ts, which is what reaches 100% of a one-slot upstream).
 *
 * The same windows judge one more probe: when the whole load fits in the calls in flight and
 * they are full, whether calls of half the batch size deliver more (see `halved`). A shape kept
 * at a level of load (a work slot more, half batches) is checked once more from a window measured
 * with it settled, since the probe that kept it may have been judged against a transient.
 */
import { BURST_MS } from './upstream-time.js';

export interface InflightLimitSettings {
  /** Upstream replicas; the limit is per replica, steps move all of them. */
  replicas: number;
  /** Lowest per-replica limit (2: one running call and one staged full batch). */
  min: number;
  /** Highest per-replica limit. */
  max: number;
  /** Per-replica limit to start from. */
  initial: number;
}

/** What one finished call tells the limiter. */
export interface LimitSample {
  startedAt: number;
  finishedAt: number;
  items: number;
  /** Inputs in the proxy and the upstream when it started (queued + in flight), a load measure. */
  load: number;
  /** True when inputs were left queued in the proxy when it was cut: demand beyond the calls in flight. */
  busy: boolean;
  /** True when the call was cut at the route's batch size (the call, not the traffic, bounded it). */
  full?: boolean;
  /** False when halving the route's batch size would have left this call as it was (it held at most half a whole batch); absent: taken as cut. */
  overHalf?: boolean;
  /**
   * False when other calls were in flight as it started (the upstream was not idle). Absent (the
   * tests of other rules): the pause rule takes the call as alone, the serial-window rule (see
   * SERIAL_SHARE) as not, so neither rule acts on what a sample did not say.
   */
  alone?: boolean;
}

export interface LimitChange {
  from: number;
  to: number;
  why: string;
}

type Phase =
  | { kind: 'baseline' }
  /** chained: the baseline is the window that kept the step before (see upRetryDue). */
  | { kind: 'probe'; direction: 1 | -1; baseline: Measurement; chained: boolean }
  | { kind: 'halve'; halve: boolean; baseline: Measurement }
  | { kind: 'widen'; widen: boolean; baseline: Measurement };

interface Measurement {
  limit: number;
  halved: boolean;
  extraWork: number;
  fullShare: number;
  /** Share of the window's calls that held more than half a whole batch (see LimitSample.overHalf). */
  overHalfShare: number;
  throughput: number;
  load: number;
  busyShare: number;
  /** Relative standard error of `throughput`, from the rates of the window's two halves. */
  noise: number;
  /** Mean inputs per call. */
  itemsPerCall: number;
  /** Share of the window's calls that started with no other call in flight (see SERIAL_SHARE). */
  aloneShare: number;
}

/** Calls counted in one window (after the first counted completion). */
const WINDOW_CALLS = 16;
/** Shortest window, so a fast upstream is not judged on a few milliseconds. */
const WINDOW_MIN_MS = 40;
/** A window spans at least this many mean call durations, so one slow call is a small part of it. */
const WINDOW_DURATIONS = 4;
/** A gap this long between the last finish and the next call's start is a pause in the traffic. */
const IDLE_MS = 250;
/**
 * A window whose halves' rates differ by more than 13 to 7 (noise above 0.3) held a stall (one
 * call twenty times slower than the rest, a pause of the process), and its throughput says
 * nothing of the limit. Judged, one such window bought a step up with +119% (halves noise 0.54,
 * which the noise test, at most two standard errors of 1, cannot exclude), and a probe window
 * with one lost 54%. Real processes: 0.28 and 0.49 in a second of TEI-like at 128 clients,
 * otherwise 0.22 at most (the ramp just after a step). Not lower: with a quarter, the noisy
 * simulator's first window (0.27, the start) was measured again, which delayed the two-slot
 * upstream's halving into the measured period at 32 clients (92% of the best static, 98% with it).
 */
const STALL_NOISE = 0.3;
/**
 * Gain an upward step must show to be kept. Not lower: at +8% (TEI-like's fourth call at 128
 * clients gains 16% on real processes, right at this threshold) the step traces gained within
 * their noise, and a one-slot upstream kept steps only the noise paid for (GPU-like at 64
 * clients on real processes: 2,203 against 2,357 inputs/s).
 */
const UP_GAIN = 1.15;
/** Share of throughput a downward step may lose and still be kept. */
const DOWN_KEEP = 0.98;
/**
 * A window in which at least this share of the calls started with no other call in flight held
 * traffic that one call at a time carries (a lone client): it says nothing of a limit above one,
 * so no step down (of the limit or of a work slot) is probed from it. Why: such a step is kept
 * unless it loses, and at that load it cannot lose, so every quiet spell used to walk the limit
 * down to its floor and undo what the last busy spell had learned. Measured: the real model behind
 * bench/upstreams in P6, whose three rounds of one client came before the level of 8: the limit
 * learned at 32 clients (4, with work slots) was back at 2 each time 8 clients came, and a call of
 * 150 ms made relearning it take a window of 2-3 s per step; the defaults measured 72-82% of the
 * best static setting at 8 and 32 clients, and 103% and 122% in a run without the one-client level.
 */
const SERIAL_SHARE = 0.9;
/** Load change that makes a comparison meaningless. */
const LOAD_SHIFT = 1 / 3;
/** Load change that makes a new level of load (probing starts afresh: backoffs reset). */
const NEW_LEVEL = 1 / 2;
/** Share of a window's calls that left inputs queued for probing upward to be worth it. */
const BUSY_SHARE = 0.25;
/** Gain halving the batch size must show to be kept (one probe per level of load, see halved). */
const HALVE_GAIN = 1.05;
/** Share of a window's calls that were full batches for halving them to be worth a probe. */
const FULL_SHARE = 0.5;
/**
 * Windows after a halving or widening verdict whose load is not read as a new level. Such a
 * probe moves the inputs the proxy holds by itself: a losing one leaves a backlog (GPU-like at an
 * open-loop load of 0.8: 40 -> 117 inputs) that drains after it is undone, and that swing, read
 * as a new level, restarted the same probe about once a second for as long as the load lasted
 * (bench/scaling/topology.ts: p99 94 ms against 31 ms with the limit pinned).
 */
const ECHO_WINDOWS = 2;
/** Halving probes whose gain the noise hid, tried again per level of load. */
const MAX_RETRIES = 2;
/** Gain one more work slot must show to be kept. */
const WIDEN_GAIN = 1.05;
/** Most work slots per replica beyond the first. */
const MAX_EXTRA_WORK = 3;
/** Longest backoff between probes in one direction, in windows (~2 s at typical window lengths). */
const MAX_BACKOFF_WINDOWS = 32;
/**
 * A probe down that lost this much, and beyond twice the windows' noise, lost for certain, and
 * the backoff starts at CLEAR_LOSS_BACKOFF windows rather than one: probing it
 * again sooner at the same load only pays the loss again (TEI-like at 128 clients, 3 -> 2 lost
 * 19-30% every time, five probes in 3 s).
 */
const CLEAR_LOSS = 0.1;
const CLEAR_LOSS_BACKOFF = 8;

/** The work slots' account before any was probed. */
const WORK_SLOTS_NOT_TRIED = 'one work slot per replica (more not tried)';

export class InflightLimit {
  private readonly settings: InflightLimitSettings;
  private perReplica: number;
  private phase: Phase = { kind: 'baseline' };
  private why = 'start: one running call and one staged full batch per replica';
  /** Calls that started before this did not see the current limit. */
  private changedAt = -Infinity;
  /** Mean duration of the last window's calls. */
  private meanCallMs = 0;
  // The current window.
  private firstFinish: number | undefined;
  private lastFinish = 0;
  /** The latest finish of any call recorded, counted or not (see IDLE_MS). */
  private seenFinish = -Infinity;
  private windowItems = 0;
  private windowCalls = 0;
  private windowLoad = 0;
  private windowBusy = 0;
  private windowDuration = 0;
  // Probe scheduling: windows to wait before probing up / down again, and the current backoffs.
  private upWait = 0;
  private downWait = 0;
  private upBackoff = 1;
  private downBackoff = 1;
  private lastLoad: number | undefined;
  private lastThroughput = 0;
  /** Probes concluded (kept or not). */
  private decisions = 0;
  private halvedNow = false;
  /** A halving (or undoing one) was judged at this level of load: not again until the load moves. */
  private halveTried = false;
  private halveRetries = 0;
  private windowFull = 0;
  private windowOverHalf = 0;
  private windowAlone = 0;
  /** The window's first half: completions counted, and when its last one finished. */
  private midItems = 0;
  private midFinish: number | undefined;
  private halveWhy = 'whole batches (halving not tried)';
  /** Work slots per replica beyond the first (slots that take partial batches too). */
  private extraWork = 0;
  private widenTried = false;
  /** A work slot more is probed from the next baseline window: a staging slot did not pay while calls were partial, or the noise hid a work slot's gain. */
  private widenDue = false;
  private widenRetries = 0;
  /**
   * The tries of one more work slot at this level of load, pooled: the sum of their throughput
   * ratios and of their noises squared. Each retry measures the same question again, so the
   * verdict is on their mean, whose noise shrinks as the tries add up. Why: judged one at a time,
   * three tries of the simulated padded CPU at 32 clients (clients 3 ms away, as on real
   * processes) gained +9%, +24% and +40%, each within its own windows' noise (windows of banded
   * calls, a paragraph call ten times a query call), and the slot, worth 20% there, was never kept.
   */
  private widenTrials = NO_TRIALS();
  /**
   * The last work slot was kept at this level on the mean of several tries. Its recheck (one
   * fewer, see workRecheckDue) is then kept only on a gain clear of its windows' noise, not on
   * "no loss", as elsewhere: one window's noise, which hid the slot's gain in each try, would
   * otherwise undo what the tries together showed (padded CPU, 3 ms away: "+5% with one fewer"
   * right after three tries had averaged +24%).
   */
  private pooledWork = false;
  /**
   * A work slot kept at this level of load is probed away once more, from a window measured with
   * it settled. Why: a work slot splits the clients into groups that no longer
   * wait for each other, and its probe can be judged against a baseline that was itself briefly
   * split. GPU-like on real processes, 128 -> 8 clients: one work slot ran at 400-480 inputs/s for
   * the first 0.4 s after the step (the static setting did too, then 640), the probe of a second
   * one caught the healing (+26%, +37%), and the two groups of four then alternated at 400 inputs/s
   * to the end of the phase in 2 traces of 4.
   */
  private workRecheckDue = false;
  /**
   * The same for a halving kept at this level: whole batches are probed once more from a settled
   * window. A halving is kept on +5% beyond twice the noise, and the noise still let a loss
   * through: TEI-like at 32 clients on real processes, batch 16 kept at 1,380 inputs/s where whole
   * batches gave 1,726 (one run of two).
   */
  private halvingRecheckDue = false;
  /** A step up is probed again from the next window: it lost against the window that kept the one before, or the noise hid its gain (see closeWindow). */
  private upRetryDue = false;
  /** A chained step was probed again at this level of load (once per level). */
  private chainRetried = false;
  /** Retries of a hidden gain at this level of load. */
  private upRetries = 0;
  /** Windows left in a shape probe's echo (see ECHO_WINDOWS), any kind of window counted; lastLoad keeps the load before it. */
  private echoWindows = 0;
  private widenWhy = WORK_SLOTS_NOT_TRIED;

  constructor(settings: InflightLimitSettings) {
    this.settings = { ...settings };
    this.perReplica = clamp(settings.initial, settings.min, settings.max);
  }

  /** Calls in flight allowed now, over all replicas. */
  get limit(): number {
    return this.perReplica * this.settings.replicas;
  }

  /** Replicas joined or left: the per-replica limit learned so far holds for the new count. */
  setReplicas(count: number): void {
    this.settings.replicas = count;
  }

  get reason(): string {
    const phase = this.phase;
    // The work slots are part of the limit's account (GET /autobatch/policy) once one more was
    // tried, kept or not: "one more gave +0%" says why the limit holds one work slot.
    const why = this.widenWhy === WORK_SLOTS_NOT_TRIED ? this.why : `${this.why}; ${this.widenWhy}`;
    if (phase.kind === 'probe') return `${why}; probing ${this.perReplica} per replica against ${phase.baseline.limit}`;
    return why;
  }

  /**
   * True when calls are to be cut at half the route's batch size. Probed when the whole load fits
   * in the calls in flight (nothing left queued) and those calls are full: an upstream that runs
   * two batches at once then gains from two half batches side by side (simulated two-slot
   * upstream at 32 clients: 2616 inputs/s against 2320 with one call of 32), while a one-slot
   * one only pays the fixed cost per call twice (GPU-like: -40%), which the probe sees and undoes.
   * Probed (and undone) at most once per level of load, so a one-slot upstream pays one probe.
   */
  get halved(): boolean {
    return this.halvedNow;
  }

  /** The halving decided (a probe under way is not a decision yet): what the decision log reports. */
  get halvingDecided(): boolean {
    const phase = this.phase;
    return phase.kind === 'halve' ? phase.baseline.halved : this.halvedNow;
  }

  /** Why the batch size is halved or whole. */
  get halvingReason(): string {
    return this.halveWhy;
  }

  /**
   * Slots per replica that take partial batches too (the rest of the limit takes full batches
   * only). One by default; probed up when the calls in flight hold the whole load and are not
   * full: an upstream that merges concurrent calls (TEI's queue) then gains from partial batches
   * side by side, as on a real machine where the proxy's CPU spreads a burst of requests over
   * milliseconds (simulated with 0.5 ms per request, TEI-like at 32 clients: static 4/32/off
   * 1176/s against 1072 for 2/32/off), while a one-slot upstream loses (GPU-like: 881), which the
   * probe sees and undoes. Each extra work slot raises the limit by one, so the staging slots stay.
   */
  get workSlotsPerReplica(): number {
    return 1 + this.extraWork;
  }

  /** Why the work slots are what they are. */
  get workSlotsReason(): string {
    return this.widenWhy;
  }

  /** True until the first decision (the limit is still the starting one). */
  get initial(): boolean {
    return this.decisions === 0;
  }

  /** Inputs per second delivered over the last complete window. */
  get throughput(): number {
    return this.lastThroughput;
  }

  /**
   * What calls cost changed under the limiter (a route's length buckets or batch size moved):
   * throughput measured before says nothing about after, so the current window is dropped and a
   * probe under way is abandoned (back to its baseline limit, with no verdict), and only calls
   * sent from `now` on count. Without it a window spanning the change compares two policies,
   * not two limits (simulated padded CPU at 128 clients: +86% "gained" by a probe whose
   * baseline held the slow calls before the buckets).
   */
  restart(now: number): void {
    const phase = this.phase;
    if (phase.kind !== 'baseline') {
      this.perReplica = phase.baseline.limit;
      this.halvedNow = phase.baseline.halved;
      this.extraWork = phase.baseline.extraWork;
    }
    this.phase = { kind: 'baseline' };
    this.resetWindow();
    this.changedAt = Math.max(this.changedAt, now);
  }

  /**
   * The route's length bands changed to new ones: as restart, and the work slots are judged
   * afresh at this level. Why: their verdict was made on calls cut from the old bands (or from
   * none), and bands are what a work slot pays for (each band's partial calls wait their turn at
   * the one work slot). On the simulated padded CPU at 8 clients 3 ms away, one try measured
   * while the exploration's bands gave way to the plan's lost 4%, and the level stayed at one
   * work slot, 76% of the best static setting.
   */
  bandsChanged(now: number): void {
    this.restart(now);
    // Only the question of one more: a work slot in place stays. Its check right after the change
    // would be judged while the old bands drain through every slot (adaptive-policy.ts, DRAIN_MS):
    // on real processes that read "+33% with one fewer" and undid a slot worth 13% at 8 clients.
    if (this.extraWork > 0) return;
    this.workTriesAfresh();
  }

  /** One more work slot may be tried again: no verdict, retry or try of it stands. */
  private workTriesAfresh(): void {
    this.widenTried = false;
    this.widenRetries = 0;
    this.widenTrials = NO_TRIALS();
    this.widenDue = false;
  }

  /** Records a finished call; returns the change when it moved the limit. */
  record(sample: LimitSample): LimitChange | undefined {
    // The traffic paused (no call finished for IDLE_MS before this one started, and none was in
    // flight: a slow upstream's calls may start far apart while others run). A window
    // already complete closes on its own completions, which end before the pause; an unfinished
    // one would measure the pause, not the limit (a proxy idle between two loads once read a
    // probe down as +2695% across one, and kept it), so it is dropped with any probe under way.
    // The pause is not a new level by itself: the traffic that resumes is compared with the load
    // before it, as any window is (closeWindow), and only a load that moved starts afresh. Why:
    // read as a new level, every pause re-probed what the same load had just settled, at the
    // cost of the probes that lose (TEI-like at 128 clients on real processes: a step down to 3
    // lost 15-29% each time, about 3% of the first 4 s after each pause; the real model behind
    // bench/upstreams, in P6's turns after pauses of half a minute: its extra work slots probed
    // away at each turn, on windows of 2-3 s).
    let change: LimitChange | undefined;
    if (sample.startedAt - this.seenFinish > IDLE_MS && sample.alone !== false && this.seenFinish > -Infinity) {
      if (this.windowComplete()) change = this.closeWindow();
      else this.restart(sample.startedAt);
      this.wholeAgain(sample.finishedAt, 'after a pause');
    }
    this.seenFinish = Math.max(this.seenFinish, sample.finishedAt);
    if (sample.startedAt < this.changedAt) return change;
    const first = this.firstFinish;
    if (first === undefined) {
      // The first counted completion opens the window: throughput is measured between completions.
      this.firstFinish = sample.finishedAt;
      this.lastFinish = sample.finishedAt;
      return change;
    }
    // Calls answered together (an upstream that merged them) are one burst: the window opens
    // after a whole burst and closes after a whole burst, or bursts would bias it.
    if (sample.finishedAt - first <= BURST_MS) return undefined;
    if (sample.finishedAt > this.lastFinish + BURST_MS && this.windowComplete()) {
      const change = this.closeWindow();
      return change;
    }
    this.lastFinish = Math.max(this.lastFinish, sample.finishedAt);
    this.windowItems += sample.items;
    this.windowCalls++;
    this.windowDuration += sample.finishedAt - sample.startedAt;
    this.windowLoad += sample.load;
    if (sample.busy) this.windowBusy++;
    if (sample.full === true) this.windowFull++;
    if (sample.overHalf !== false) this.windowOverHalf++;
    if (sample.alone === true) this.windowAlone++;
    if (this.windowCalls === WINDOW_CALLS / 2) {
      this.midItems = this.windowItems;
      this.midFinish = this.lastFinish;
    }
    return undefined;
  }

  /** Enough calls, over several call durations, for a throughput worth comparing. */
  private windowComplete(): boolean {
    if (this.windowCalls < WINDOW_CALLS) return false;
    const span = this.lastFinish - this.firstFinish!;
    return span >= Math.max(WINDOW_MIN_MS, (WINDOW_DURATIONS * this.windowDuration) / this.windowCalls);
  }

  /**
   * |r1 − r2| / (r1 + r2) for the rates of the window's two halves: the standard error of their
   * mean, relative to it. On simulated time it is a few percent; on a real machine (jitter, the
   * proxy's CPU shared with the load) it can exceed the gains probed for, and a probe is then
   * kept only if it beats the noise too (see gained).
   */
  private halvesNoise(): number {
    const mid = this.midFinish!;
    const first = this.midItems / Math.max(1e-3, mid - this.firstFinish!);
    const second = (this.windowItems - this.midItems) / Math.max(1e-3, this.lastFinish - mid);
    return Math.abs(first - second) / Math.max(1e-9, first + second);
  }

  private closeWindow(): LimitChange | undefined {
    const measured: Measurement = {
      limit: this.perReplica,
      halved: this.halvedNow,
      extraWork: this.extraWork,
      fullShare: this.windowFull / this.windowCalls,
      overHalfShare: this.windowOverHalf / this.windowCalls,
      throughput: (1000 * this.windowItems) / Math.max(1e-3, this.lastFinish - this.firstFinish!),
      load: this.windowLoad / this.windowCalls,
      busyShare: this.windowBusy / this.windowCalls,
      noise: this.halvesNoise(),
      itemsPerCall: this.windowItems / this.windowCalls,
      aloneShare: this.windowAlone / this.windowCalls,
    };
    this.meanCallMs = this.windowDuration / this.windowCalls;
    this.lastThroughput = measured.throughput;
    this.resetWindow();
    // During a shape probe and its echo the load is its effect, not a new level: it is compared
    // afterwards with the load before the probe, which lastLoad keeps meanwhile.
    const echo = this.phase.kind === 'halve' || this.phase.kind === 'widen' || this.echoWindows > 0;
    // Stryker: `> 0` -> `>= 0` or true is equivalent: below zero is as over as zero (echo reads `> 0`; a verdict sets it anew).
    if (this.echoWindows > 0) this.echoWindows--;
    // Stryker: ConditionalExpression equivalent: `lastLoad !== undefined` -> true gives shifted(undefined, ...), whose Math.max is NaN, and NaN > 0 is false.
    const moved =
      !echo &&
      this.lastLoad !== undefined &&
      shifted(this.lastLoad, measured.load, NEW_LEVEL) &&
      this.newLevel(this.lastFinish + this.meanCallMs, `a new level of load (${this.lastLoad.toFixed(0)} -> ${measured.load.toFixed(0)} inputs)`);
    if (!echo) this.lastLoad = measured.load;
    if (moved) return undefined;
    // A stall, not a rate: the window is measured again, in the same phase (see STALL_NOISE).
    if (measured.noise > STALL_NOISE) return undefined;

    const phase = this.phase;
    if (phase.kind === 'halve') return this.judgeHalving(phase.halve, phase.baseline, measured);
    if (phase.kind === 'widen') return this.judgeWidening(phase.widen, phase.baseline, measured);
    if (phase.kind === 'probe') {
      this.phase = { kind: 'baseline' };
      this.decisions++;
      const base = phase.baseline;
      if (shifted(base.load, measured.load, LOAD_SHIFT)) {
        // The load moved under the probe: neither reading can be trusted. Back off as if it had
        // failed (a burst of traffic moves the load all the time, and probing costs), and start over.
        this.backOff(phase.direction);
        return this.move(
          base.limit,
          `probe to ${measured.limit} inconclusive: load moved from ${base.load.toFixed(0)} to ${measured.load.toFixed(0)} inputs`,
        );
      }
      const ratio = measured.throughput / base.throughput;
      const pct = `${(100 * (ratio - 1)).toFixed(0)}%`;
      if (phase.direction === 1) {
        if (gained(ratio, UP_GAIN, base, measured)) {
          this.upBackoff = 1;
          this.upWait = 0;
          this.why = `raised to ${measured.limit} per replica: throughput ${sign(pct)} (${fmt(base.throughput)} -> ${fmt(measured.throughput)} inputs/s)`;
          const change = { from: base.limit * this.settings.replicas, to: this.limit, why: this.why };
          // A step that paid: the next one is tried at once, against this window (no new baseline).
          if (this.perReplica < this.settings.max && this.saturated(measured)) {
            this.probeLimit(1, measured, true);
          }
          return change;
        }
        // Judged against the window that kept the step before, a window picked for having
        // gained: on a noisy machine a lucky one, and the step after it then looks like a loss
        // (TEI-like, 1 -> 128 clients on real processes: 3 -> 4 "lost" 11%, 18%, 35% in three
        // traces right after a raise, and gained 15% to 37% when probed from a fresh window).
        // Such a step is probed once more, from the next window, before any backoff or probe
        // down; once per level of load, or a one-slot upstream with an occasional slow call
        // ratchets up (a slow call in the fresh window, a "gain", a chained probe that lost
        // against it, and again). A gain the noise hid is no verdict either, as for halving.
        const chained = phase.chained && !this.chainRetried;
        const hidden = !chained && ratio >= UP_GAIN && this.upRetries < MAX_RETRIES;
        if (chained || hidden) {
          if (chained) this.chainRetried = true;
          else this.upRetries++;
          this.upRetryDue = true;
          const against = chained ? 'against the window that raised it' : 'within the noise';
          return this.move(
            base.limit,
            `kept ${base.limit} per replica: ${measured.limit} gave ${sign(pct)} throughput ${against} (probed again from a fresh window)`,
          );
        }
        this.backOff(1);
        // Inputs were left queued, yet most calls were partial (length buckets: each band waits
        // its turn at the one work slot), and the slot just probed, a staging slot, which takes
        // full batches only, gained nothing worth a work slot. A work slot takes the partial
        // calls, so it is probed next, from the next baseline window. On real processes the
        // upstream idles between one call's answer and the next call's arrival (the hop both
        // ways, the proxy's and the upstream's parsing): padded CPU at 8 clients, 216 inputs/s
        // with one work slot against 294 with the limit pinned at 4. Staging first, as before:
        // where some bands fill (the short texts at 128 clients), a staging slot gains on the
        // simulator and a work slot, which cuts partial calls sooner, does not.
        this.widenDue = base.fullShare < FULL_SHARE && ratio < WIDEN_GAIN;
        return this.move(base.limit, `kept ${base.limit} per replica: ${measured.limit} gave ${sign(pct)} throughput (calls only queued upstream)`);
      }
      if (ratio >= DOWN_KEEP) {
        this.downBackoff = 1;
        this.downWait = 0;
        this.why = `lowered to ${measured.limit} per replica: throughput ${sign(pct)} with one call fewer in flight`;
        const change = { from: base.limit * this.settings.replicas, to: this.limit, why: this.why };
        // The next step down against this window, as far as the first may go: one staging slot
        // stays above the work slots (without it a probe to 2 with two work slots left none).
        if (this.perReplica > this.downFloor()) {
          this.probeLimit(-1, measured);
        }
        return change;
      }
      if (lost(ratio, CLEAR_LOSS, base, measured)) this.downBackoff = Math.max(this.downBackoff, CLEAR_LOSS_BACKOFF);
      this.backOff(-1);
      return this.move(base.limit, `kept ${base.limit} per replica: ${measured.limit} lost ${pct} of throughput`);
    }

    // A baseline window: probe from it when due.
    if (this.upWait > 0) this.upWait--;
    if (this.downWait > 0) this.downWait--;
    // Traffic one call at a time carries cannot judge a step down (see SERIAL_SHARE).
    // Stryker: EqualityOperator (`>`) differs only at exactly nine calls in ten (a window of 20 or 30 calls), a tie either side may take.
    const serial = measured.aloneShare >= SERIAL_SHARE;
    // At least one staging slot stays above the work slots.
    const canDown = this.perReplica > this.downFloor() && this.downWait === 0 && !serial;
    // Raising only pays when the calls in flight were the bottleneck (see saturated).
    const canUp = this.perReplica < this.settings.max && this.upWait === 0 && this.saturated(measured);
    const retry = this.upRetryDue;
    this.upRetryDue = false;
    if (retry && canUp) return this.probeLimit(1, measured);
    if (canDown) return this.probeLimit(-1, measured);
    const widenDue = this.widenDue;
    this.widenDue = false;
    // No test of the highest limit: a work slot is only due just after the limit came back down
    // from a step up (a staging slot's, or a work slot's hidden gain), so there is room for one.
    if (widenDue && !this.widenTried && this.extraWork < MAX_EXTRA_WORK) return this.shapeWork(true, measured);
    if (canUp) return this.probeLimit(1, measured);
    // Halved at an earlier level of load: see whether whole batches pay again. Not halved: try
    // halving when the calls in flight hold the whole load (full calls: two halves may run side
    // by side; partial ones, cut when the hold ran out: a half batch fills sooner and is staged
    // while the proxy still reads requests, which pays once the proxy's CPU spreads them out).
    // Only when most calls held more than half a batch: halving leaves smaller calls as they
    // were, so its probe would measure noise alone, and on a real machine noise was kept as a
    // gain (one client, calls of one input: halved to 16 in most runs of P6 and P7, and after
    // the step to 128 clients the half batches held the throughput at half for a second).
    if (!this.halveTried && (this.halvedNow || (measured.busyShare < BUSY_SHARE && measured.overHalfShare >= FULL_SHARE))) {
      return this.shapeHalving(!this.halvedNow, measured);
    }
    // A halving kept at this level, checked once from a settled window (not in its echo). Still
    // due until the check's verdict, so a check abandoned by a restart is made again.
    if (this.halvingRecheckDue && this.echoWindows === 0) return this.shapeHalving(false, measured);
    // Widened at an earlier level: see whether fewer work slots do as well. Else widen when the
    // calls in flight hold the whole load and are partial (see workSlotsPerReplica).
    // A work slot kept at this level, checked once from a settled window (not in its echo). Due
    // only while the kept slot is in place (its check, or a new level, clears it).
    if (this.widenTried && this.workRecheckDue && this.echoWindows === 0 && !serial) {
      this.workRecheckDue = false;
      return this.shapeWork(false, measured);
    }
    if (this.widenTried) return undefined;
    if (this.extraWork > 0) return serial ? undefined : this.shapeWork(false, measured);
    const partial = measured.busyShare < BUSY_SHARE && measured.fullShare < FULL_SHARE;
    if (partial && this.perReplica < this.settings.max) return this.shapeWork(true, measured);
    return undefined;
  }

  /**
   * The calls in flight were the bottleneck, so one more may pay: inputs were left queued in the
   * proxy as calls were cut, or the calls were full and the load exceeded what the slots carry
   * (inputs waited on average). The second counts because a closed loop never has all its clients
   * in the proxy: on real processes 128 clients kept about 100 inputs in the proxy and the
   * upstream (the rest were answers and requests on their way), so at 3 calls of 32 in flight
   * only 12-19% of calls left inputs queued, though the load was above 96 and every call full,
   * and the limit never probed the fourth call that gives TEI-like 15-25% more (it stayed at 3
   * for the whole phase in 4 traces of 6). Full calls that hold the whole load with none waiting
   * (GPU-like at 64 clients: two calls of 32) are the halving's case instead: probing up from
   * there as well (at 90% of the slots filled) delayed the halving's probe at each level by a
   * window or two, into the simulator's measured period (95% of the limit at 64 clients).
   */
  private saturated(m: Measurement): boolean {
    return m.busyShare >= BUSY_SHARE || (m.fullShare >= FULL_SHARE && m.load > m.limit * this.settings.replicas * m.itemsPerCall);
  }

  /** The lowest per-replica limit a probe down may reach: the floor, and one staging slot above the work slots. */
  private downFloor(): number {
    return Math.max(this.settings.min, this.extraWork + 2);
  }

  /** Starts a probe of the limit one step up or down from the window just measured (chained: one that kept the step before). */
  private probeLimit(direction: 1 | -1, measured: Measurement, chained = false): undefined {
    this.phase = { kind: 'probe', direction, baseline: measured, chained };
    return this.step(this.perReplica + direction);
  }

  /** Starts a probe of one work slot more (widen) or fewer, the limit moving with it. */
  private shapeWork(widen: boolean, measured: Measurement): undefined {
    this.phase = { kind: 'widen', widen, baseline: measured };
    this.extraWork += widen ? 1 : -1;
    return this.step(this.perReplica + (widen ? 1 : -1));
  }

  /** Starts a probe of half batches (halve) or whole ones again. */
  private shapeHalving(halve: boolean, measured: Measurement): undefined {
    this.phase = { kind: 'halve', halve, baseline: measured };
    this.halvedNow = halve;
    this.changedAt = this.lastFinish + this.meanCallMs;
    return undefined;
  }

  /** The verdict on one more work slot (or one fewer): kept when it paid, else undone. */
  private judgeWidening(widen: boolean, base: Measurement, measured: Measurement): LimitChange | undefined {
    this.phase = { kind: 'baseline' };
    this.echoWindows = ECHO_WINDOWS;
    this.decisions++;
    const ratio = measured.throughput / base.throughput;
    const pct = sign(`${(100 * (ratio - 1)).toFixed(0)}%`);
    // No load-shift test: as for halving, the shape moves the inputs the proxy holds.
    const noise = combinedNoise(base, measured);
    // Stryker: EqualityOperator (the noise test's `>`) equivalent: a ratio exactly 1 + 2 × the noise is a measure-zero tie of two measured rates.
    const kept = widen ? this.widenPaid(ratio, noise) : ratio >= DOWN_KEEP && (!this.pooledWork || ratio >= 1 + NOISE_SIGMAS * noise);
    if (kept) {
      // Read only by a narrowing's verdict; after a narrowing is kept the shape is settled until a new level, which clears it.
      this.pooledWork = widen && this.widenTrials.count > 1;
      this.widenRetries = 0;
      this.widenTrials = NO_TRIALS();
      this.workRecheckDue = widen;
      this.widenWhy = `${workSlots(this.extraWork)} per replica: throughput ${pct} with ${widen ? 'one more' : 'one fewer'}`;
      // A decision, as a step of the limit is: the limit moved with the work slot (logged, as any).
      const change = { from: base.limit * this.settings.replicas, to: measured.limit * this.settings.replicas, why: this.widenWhy };
      // A widening that paid is followed at once by the next, against this window (up to
      // MAX_EXTRA_WORK); after that, or after a narrowing, the shape is settled for this load.
      if (widen && this.extraWork < MAX_EXTRA_WORK && this.perReplica < this.settings.max) this.shapeWork(true, measured);
      else this.widenTried = true;
      return change;
    }
    // As for halving: a gain the noise hid is no verdict, and the work slot is probed again from
    // the next baseline window, at most MAX_RETRIES times per level of load. Windows of small
    // calls are short and noisy: padded CPU at 8 clients on real processes, 16 calls in 150 ms,
    // the halves of a window 14-25% apart, and a work slot that gained 32% was not kept.
    const hidden = widen && ratio >= WIDEN_GAIN && this.widenRetries++ < MAX_RETRIES;
    this.widenTried = !hidden;
    this.widenDue = hidden;
    this.extraWork = base.extraWork;
    this.widenWhy = `${workSlots(base.extraWork)} per replica: ${widen ? 'one more' : 'one fewer'} gave ${pct} throughput`;
    return this.move(base.limit, this.why);
  }

  /**
   * One more work slot paid: the mean of this level's tries (this one included) clears the gain
   * and twice its noise (see widenTrials). One try alone is judged as gained() judges it.
   */
  private widenPaid(ratio: number, noise: number): boolean {
    const trials = this.widenTrials;
    trials.count++;
    trials.ratios += ratio;
    trials.noiseSquares += noise ** 2;
    const mean = trials.ratios / trials.count;
    // Stryker: EqualityOperator (the noise test's `>`) equivalent: a mean exactly 1 + 2 × the pooled noise is a measure-zero tie of measured rates.
    return mean >= WIDEN_GAIN && mean >= 1 + (NOISE_SIGMAS * Math.sqrt(trials.noiseSquares)) / trials.count;
  }

  /** The verdict on halving the batch size (or undoing it): kept when it paid, else undone. */
  private judgeHalving(halve: boolean, base: Measurement, measured: Measurement): undefined {
    this.phase = { kind: 'baseline' };
    this.echoWindows = ECHO_WINDOWS;
    this.decisions++;
    const ratio = measured.throughput / base.throughput;
    const pct = sign(`${(100 * (ratio - 1)).toFixed(0)}%`);
    // Halving must gain; whole batches are kept back unless they lose (fewer calls, less overhead).
    // No load-shift test here, unlike the limit's probes: the shape itself moves the inputs the
    // proxy holds (half batches staged while the proxy reads the next requests: 18 -> 32 inputs
    // at 32 clients with the proxy's CPU modelled), so a moved load is the effect, not a cause.
    const kept = halve ? gained(ratio, HALVE_GAIN, base, measured) : ratio >= DOWN_KEEP;
    // A gain the noise hid is no verdict: tried again from the next baseline window (a window
    // just after another probe holds that probe's transient), at most MAX_RETRIES times per level
    // of load. Any other verdict holds until the load moves.
    const hidden = !kept && halve && ratio >= HALVE_GAIN && this.halveRetries++ < MAX_RETRIES;
    this.halveTried = !hidden;
    this.halvingRecheckDue = kept && halve;
    if (kept) {
      this.halveWhy = halve ? `halved the batch size: throughput ${pct} with two calls side by side` : `whole batches again: throughput ${pct}`;
    } else {
      this.halvedNow = base.halved;
      this.changedAt = this.lastFinish + this.meanCallMs;
      this.halveWhy = halve ? `kept whole batches: halving gave ${pct} throughput` : `kept half batches: whole ones gave ${pct} throughput`;
    }
    return undefined;
  }

  /**
   * A new level of load: what was learned about probing before
   * no longer holds. Half batches go back to whole ones, to be probed afresh: a halving kept at
   * one level (32 clients, where two halves pipeline) was otherwise undone at the next only if
   * whole batches measured no worse, and on a real machine the noise kept it about half the time
   * (TEI-like at 128 clients with calls of 16: 0.75x direct, against 0.99x with calls of 32).
   * A probe under way is abandoned (measured across the change of load, it would be
   * inconclusive anyway). Returns true when the limit or the batch size moved (the window just
   * measured then describes neither).
   */
  private newLevel(now: number, cause: string): boolean {
    const phase = this.phase;
    const probing = phase.kind !== 'baseline';
    if (phase.kind === 'probe') this.why = `probe to ${this.perReplica} per replica abandoned: ${cause}`;
    if (probing) this.restart(now);
    this.upBackoff = 1;
    this.downBackoff = 1;
    this.upWait = 0;
    this.downWait = 0;
    this.workTriesAfresh();
    this.pooledWork = false;
    this.workRecheckDue = false;
    this.upRetryDue = false;
    this.chainRetried = false;
    this.upRetries = 0;
    return this.wholeAgain(now, 'at a new level of load') || probing;
  }

  /**
   * Half batches go back to whole ones, halving to be probed afresh (see newLevel); true when they
   * were halved. Also after a pause at the same load: a halving kept on a noisy window otherwise
   * held for as long as that load came back in turns (GPU-like at 32 clients on real processes, in
   * P6's rounds after pauses: batch 16 at 87-88% of the best static, where whole batches served it).
   */
  private wholeAgain(now: number, cause: string): boolean {
    this.halveTried = false;
    this.halveRetries = 0;
    this.halvingRecheckDue = false;
    if (!this.halvedNow) return false;
    this.halvedNow = false;
    this.halveWhy = `whole batches again ${cause} (halving is probed afresh)`;
    this.changedAt = Math.max(this.changedAt, now);
    return true;
  }

  private backOff(direction: 1 | -1): void {
    if (direction === 1) {
      this.upWait = this.upBackoff;
      this.upBackoff = Math.min(MAX_BACKOFF_WINDOWS, this.upBackoff * 2);
    } else {
      this.downWait = this.downBackoff;
      this.downBackoff = Math.min(MAX_BACKOFF_WINDOWS, this.downBackoff * 2);
    }
  }

  /** A probe: moves the limit without claiming it as a decision yet. */
  private step(perReplica: number): undefined {
    this.perReplica = perReplica;
    this.changedAt = this.lastFinish + this.meanCallMs;
    return undefined;
  }

  /** Back to the decided limit after a probe that did not pay (not a change of decision). */
  private move(perReplica: number, why: string): undefined {
    this.perReplica = perReplica;
    this.changedAt = this.lastFinish + this.meanCallMs;
    this.why = why;
    return undefined;
  }

  private resetWindow(): void {
    this.firstFinish = undefined;
    this.windowItems = 0;
    this.windowCalls = 0;
    this.windowLoad = 0;
    this.windowBusy = 0;
    this.windowFull = 0;
    this.windowOverHalf = 0;
    this.windowAlone = 0;
    this.midItems = 0;
    this.midFinish = undefined;
    this.windowDuration = 0;
  }
}

/**
 * A gain is kept when it clears the step's threshold and the two windows' noise (two combined
 * standard errors): on a noisy machine a lucky window must not buy a step. Going back down needs
 * no such proof (fewer calls in flight is the safer side), so only gains are tested this way.
 */
function gained(ratio: number, threshold: number, base: Measurement, measured: Measurement): boolean {
  return ratio >= threshold && ratio >= 1 + NOISE_SIGMAS * combinedNoise(base, measured);
}

/** A loss of at least `share` and beyond the two windows' noise (as gained, mirrored). */
function lost(ratio: number, share: number, base: Measurement, measured: Measurement): boolean {
  return ratio <= 1 - share && ratio <= 1 - NOISE_SIGMAS * combinedNoise(base, measured);
}

/** The relative standard error of the ratio of two windows' throughputs. */
function combinedNoise(base: Measurement, measured: Measurement): number {
  return Math.sqrt(base.noise ** 2 + measured.noise ** 2);
}

/** No tries of a work slot pooled yet (see widenTrials). */
const NO_TRIALS = (): { count: number; ratios: number; noiseSquares: number } => ({ count: 0, ratios: 0, noiseSquares: 0 });

/** Standard errors a gain must stand clear of. */
const NOISE_SIGMAS = 2;

function workSlots(extra: number): string {
  return extra === 0 ? '1 work slot' : `${1 + extra} work slots`;
}

function shifted(before: number, after: number, share: number): boolean {
  const high = Math.max(before, after);
  // Stryker: ConditionalExpression, EqualityOperator equivalent: `high > 0` -> true or `high >= 0` only differ when both loads are 0 (loads are not negative), and then 0 / 0 is NaN, not above the share.
  return high > 0 && Math.abs(after - before) / high > share;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function fmt(value: number): string {
  return value.toFixed(0);
}

function sign(pct: string): string {
  return pct.startsWith('-') ? pct : `+${pct}`;
}
