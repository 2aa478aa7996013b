/**
 * The batching core: per-key FIFO queues, the dispatch policy, the in-flight limit, splitting of
 * jobs larger than one call, and isolation of inputs that make a merged call fail.
 *
 * It knows nothing of HTTP or JSON. A job is a list of opaque items plus the key that says which
 * jobs may share an upstream call; an injected executor turns a list of items into one call and
 * returns one answer per item. Time comes from an injected Clock so tests run on fake timers.
 *
 * How many calls may be in flight, how large a batch may be and how long a partial batch may be
 * held are the dispatch policy's to say (src/core/policy/: static, or learned from the calls);
 * the rules below are how the core uses those numbers (docs/dispatch.md has the measurements):
 * - Work-conserving: when the upstream would otherwise idle (a work slot is free: all in-flight
 *   slots but the staging ones), what is queued goes at once, so a lone request at low load is
 *   never held back...
 * - ...unless a batch-mate is known to be on its way: the key usually has more inputs in the
 *   proxy (time average) than it has now, e.g. clients that were just answered and send again.
 *   A partial batch is then held for them, never longer than `maxWaitMs`. A lone client averages
 *   under one input in the proxy, so nothing waits for batch-mates that are not coming.
 * - While the upstream is busy, batches grow by themselves. The staging slots take full batches
 *   only: a full batch staged behind the running call keeps the upstream busy, while partial
 *   batches staged early would split the clients into more, smaller groups that never merge
 *   again (modelled: 73% of a GPU-like upstream's capacity instead of 100%).
 * - No key starves: a partial batch passed over for younger requests of other keys eight times
 *   (OVERTAKES), with nothing of its own on its way, goes in any slot, as a full batch does.
 * - The wait is anchored at the request's arrival, or at the moment a work slot freed if it
 *   arrived while the upstream was busy; later arrivals never push it out.
 */
import type { CancelSignal } from './cancel-signal.js';
import type { Clock, TimerHandle } from './clock.js';
import type { DispatchPolicy } from './policy/dispatch-policy.js';
import { StaticPolicy } from './policy/static-policy.js';

/**
 * The core's fixed limits. maxBatchSize, maxWaitMs, maxInflight and stagingSlots make the static
 * policy used when no `policy` is given; with a policy, the policy decides them.
 */
export interface BatcherLimits {
  /** Most items in one upstream call. */
  maxBatchSize: number;
  /** Most bytes in one upstream call body, envelope included. */
  maxBatchBytes: number;
  /**
   * Longest a partial batch is held for batch-mates at an idle upstream, from its oldest
   * request's arrival (or from when a work slot freed, if that is later). 0: never hold.
   */
  maxWaitMs: number;
  /** Most upstream calls in flight at once. */
  maxInflight: number;
  /**
   * In-flight slots kept for full batches (one per upstream replica: a full batch staged behind
   * each running call). The other slots take any batch. Default 1.
   */
  stagingSlots?: number;
  /** Most items queued (not yet sent) across all keys; beyond it new jobs are refused. */
  maxQueue: number;
  /**
   * A job none of whose items was sent this long after its arrival is dropped before any
   * upstream work is spent on it (its client has likely given up). Infinity: never.
   */
  queueTimeoutMs: number;
}

export interface JobRequest<Group, Item> {
  /** Jobs with equal keys may share a call; different keys never do. */
  key: string;
  /** What the executor needs to make a call for this key (equal for every job of a key). */
  group: Group;
  items: readonly Item[];
  /** Encoded size of each item in a call body, separator included. */
  itemBytes: readonly number[];
  /** Size of a call body for this key with no items in it. */
  overheadBytes: number;
  /** Cancels the job (an AbortSignal will do). */
  signal?: CancelSignal | undefined;
  /**
   * Opaque to the core: handed to the executor with every call that carries some of this job, so
   * the layer that makes calls can relate a call to the requests in it (the HTTP layer passes the
   * client request's trace span, and each call's span links to the spans of the requests it carries).
   */
  tag?: unknown;
  /** The route the policy learns under (cost and padding differ per route); default ''. */
  route?: string | undefined;
}

export interface CallRequest<Group, Item> {
  group: Group;
  items: readonly Item[];
  /** Aborted when every job riding on this call has been cancelled. */
  signal: AbortSignal;
  /** The `tag` of each job with items in this call, once per job; empty when no job has one. */
  tags: readonly unknown[];
}

/**
 * `blame: 'inputs'` says the call failed because of what some of its inputs contain (TEI fails
 * a whole call for one bad input): the core then retries the jobs apart so only the culprits fail.
 */
export type CallOutcome<Answer, Failure> = { ok: true; answers: readonly Answer[] } | { ok: false; failure: Failure; blame: 'inputs' | 'call' };

export type Executor<Group, Item, Answer, Failure> = (call: CallRequest<Group, Item>) => Promise<CallOutcome<Answer, Failure>>;

export interface JobStats {
  /** From arrival until the job's first item was handed to a call. */
  queueMs: number;
  /** Items in the largest upstream call that carried some of this job. */
  batchSize: number;
  /** Upstream calls that carried some of this job (more than one when it was split). */
  calls: number;
}

export type RejectReason = 'queue-full' | 'item-too-large' | 'cancelled' | 'closed' | 'expired';

export type JobOutcome<Answer, Failure> =
  | { status: 'ok'; answers: Answer[]; stats: JobStats }
  | { status: 'failed'; failure: Failure; stats: JobStats }
  | { status: 'rejected'; reason: RejectReason };

export interface BatcherObserver {
  callStarted?(items: number): void;
  callFinished?(items: number, durationMs: number, ok: boolean): void;
}

export interface BatcherOptions<Group, Item, Answer, Failure> {
  limits: BatcherLimits;
  executor: Executor<Group, Item, Answer, Failure>;
  /** Builds the failure handed to jobs when the executor throws or miscounts its answers. */
  internalFailure: (message: string) => Failure;
  clock: Clock;
  observer?: BatcherObserver;
  /** Decides in-flight limit, batch size and hold; default: the static policy of `limits`. */
  policy?: DispatchPolicy;
}

interface Job<Group, Item, Answer, Failure> {
  readonly request: JobRequest<Group, Item>;
  readonly queue: KeyQueue<Group, Item, Answer, Failure>;
  readonly arrivedAt: number;
  readonly answers: Answer[];
  readonly resolve: (outcome: JobOutcome<Answer, Failure>) => void;
  /** Index of the first item not yet handed to a call. */
  next: number;
  /** Slices of this job in calls that have not finished. */
  pendingSlices: number;
  /** The failure of the earliest failed slice, by input position (TEI reports the first). */
  failure: { from: number; failure: Failure } | undefined;
  cancelled: boolean;
  /** Dropped unsent at the queue timeout. */
  expired: boolean;
  settled: boolean;
  firstSentAt: number | undefined;
  batchSize: number;
  calls: number;
  readonly liveCalls: Set<Call<Group, Item, Answer, Failure>>;
  onAbort: (() => void) | undefined;
}

/** A contiguous run of one job's items inside one call. */
interface Slice<Group, Item, Answer, Failure> {
  readonly job: Job<Group, Item, Answer, Failure>;
  readonly from: number;
  readonly to: number;
}

interface Call<Group, Item, Answer, Failure> {
  readonly slices: Slice<Group, Item, Answer, Failure>[];
  readonly controller: AbortController;
}

/**
 * How many of one key's inputs are in the proxy (queued or in a running call), now and on a
 * time average over roughly the last 100 ms. It outlives the key's queue, which is dropped
 * whenever it empties (at low load, after nearly every request).
 */
class KeyTraffic {
  /** Inputs of this key in the proxy now. */
  present = 0;
  private average = 0;
  private averageAt = 0;

  /** Exponentially weighted time average of `present`. */
  averageUntil(now: number): number {
    const keep = Math.exp(-(now - this.averageAt) / TRAFFIC_WINDOW_MS);
    return this.average * keep + this.present * (1 - keep);
  }

  change(now: number, delta: number): void {
    this.average = this.averageUntil(now);
    this.averageAt = now;
    this.present += delta;
  }
}

const TRAFFIC_WINDOW_MS = 100;

/**
 * A partial batch passed over this many times for younger requests of other keys, while no
 * batch-mate of its own was on its way, goes in any slot, as a full one does. Why: staging slots
 * take full batches only, so while another key keeps filling full batches the work slot never
 * frees, and a key that does not fill (a client with another `truncate`, a band of long texts
 * with fewer clients than a batch) would wait out the queue timeout. Why eight, not one: under
 * length bands a band of fewer clients is routinely passed over a few times before it is sent
 * with the work slot, and sending it early in a staging slot costs throughput (two passes: 86% of
 * the best static setting on the TEI-like model at 32 clients with noise, four: slower settling
 * on the padding one; eight: the same throughput figures as without the rule, and two settling
 * times 200 ms longer, within the 2 s target). Eight calls are tens to hundreds of milliseconds,
 * not the 30 s timeout.
 */
const OVERTAKES = 8;

const NO_TAGS: readonly unknown[] = Object.freeze([]);

/** Keys whose traffic is remembered; beyond it the longest-unused are forgotten. */
const REMEMBERED_KEYS = 1024;

class KeyQueue<Group, Item, Answer, Failure> {
  readonly jobs: Job<Group, Item, Answer, Failure>[] = [];
  head = 0;
  /** Items and bytes still to send, over live jobs only. */
  items = 0;
  bytes = 0;
  /** Calls of younger requests (other keys) that left while this queue's head waited; reset when it sends. */
  overtaken = 0;

  constructor(
    readonly key: string,
    readonly route: string,
    readonly group: Group,
    /** Bytes of items one call may carry. */
    readonly capacity: number,
    readonly traffic: KeyTraffic,
  ) {}

  /** The oldest job with items still to send, skipping the cancelled, failed and fully sent. */
  headJob(): Job<Group, Item, Answer, Failure> | undefined {
    while (this.head < this.jobs.length) {
      const job = this.jobs[this.head]!;
      if (!isDead(job) && job.next < job.request.items.length) return job;
      this.head++;
    }
    return undefined;
  }

  // Stryker disable all: equivalent, compaction only frees the consumed prefix's memory; no outcome depends on when it runs.
  compact(): void {
    // Amortised: drop the consumed prefix once it dominates the array.
    if (this.head > 64 && this.head * 2 > this.jobs.length) {
      this.jobs.splice(0, this.head);
      this.head = 0;
    }
  }
}

// Stryker restore all
function isDead<G, I, A, F>(job: Job<G, I, A, F>): boolean {
  return job.cancelled || job.expired || job.failure !== undefined;
}

function unsentBytes<G, I, A, F>(job: Job<G, I, A, F>): number {
  let bytes = 0;
  const sizes = job.request.itemBytes;
  for (let i = job.next; i < sizes.length; i++) bytes += sizes[i]!;
  return bytes;
}

export class Batcher<Group, Item, Answer, Failure> {
  private readonly limits: BatcherLimits;
  private readonly executor: Executor<Group, Item, Answer, Failure>;
  private readonly internalFailure: (message: string) => Failure;
  private readonly clock: Clock;
  private readonly observer: BatcherObserver;
  private readonly policy: DispatchPolicy;
  private readonly queues = new Map<string, KeyQueue<Group, Item, Answer, Failure>>();
  private readonly traffic = new Map<string, KeyTraffic>();
  private queuedItemCount = 0;
  private inflightCount = 0;
  /** Inputs in calls in flight (what the policy's load measure counts; calls vary in size). */
  private inflightItemCount = 0;
  private pumpScheduled = false;
  /** When a work slot last became free (time queued behind a busy upstream is not a hold). */
  private workSlotFreeSince = -Infinity;
  private timer: TimerHandle | undefined;
  private timerDueAt = Infinity;
  /** pickReadyQueue's scratch list of the queues it passed over (reused: it runs at every pump). */
  private readonly passed: KeyQueue<Group, Item, Answer, Failure>[] = [];
  private closing = false;
  private drainWaiters: (() => void)[] = [];

  constructor(options: BatcherOptions<Group, Item, Answer, Failure>) {
    validateLimits(options.limits);
    this.limits = { ...options.limits };
    this.executor = options.executor;
    this.internalFailure = options.internalFailure;
    this.clock = options.clock;
    this.observer = options.observer ?? {};
    this.policy =
      options.policy ??
      new StaticPolicy({
        maxInflight: this.limits.maxInflight,
        stagingSlots: this.limits.stagingSlots ?? 1,
        maxBatchSize: this.limits.maxBatchSize,
        maxWaitMs: this.limits.maxWaitMs,
      });
  }

  /** Calls that may run before the staging slots are touched (the policy may move it). */
  private get workSlots(): number {
    return Math.max(1, this.policy.inflightLimit() - this.policy.stagingSlots());
  }

  /**
   * Upstream replicas joined or left (DNS discovery): the policy's in-flight limit and staging
   * slots are per replica. Calls already running over a lowered limit finish; a raised one is
   * used at once.
   */
  setReplicas(count: number): void {
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`replicas must be a whole number of at least 1, got ${count}`);
    this.policy.setReplicas(count);
    this.schedulePump();
  }

  /** Items waiting to be sent, across all keys. */
  get queuedItems(): number {
    return this.queuedItemCount;
  }

  /** Upstream calls running now. */
  get inflight(): number {
    return this.inflightCount;
  }

  /**
   * Queues a job. The promise never rejects: refusals, cancellations and upstream failures are
   * outcomes, so a caller can never leave a client unanswered by forgetting a catch.
   */
  submit(request: JobRequest<Group, Item>): Promise<JobOutcome<Answer, Failure>> {
    if (this.closing) return Promise.resolve({ status: 'rejected', reason: 'closed' });
    if (request.signal?.aborted) return Promise.resolve({ status: 'rejected', reason: 'cancelled' });
    const count = request.items.length;
    if (count === 0) {
      return Promise.resolve({ status: 'ok', answers: [], stats: { queueMs: 0, batchSize: 0, calls: 0 } });
    }
    if (request.itemBytes.length !== count) {
      throw new TypeError('itemBytes must give one size per item');
    }
    const capacity = this.limits.maxBatchBytes - request.overheadBytes;
    let bytes = 0;
    let longest = 0;
    for (const size of request.itemBytes) {
      if (size > capacity) return Promise.resolve({ status: 'rejected', reason: 'item-too-large' });
      bytes += size;
      if (size > longest) longest = size;
    }
    if (this.queuedItemCount + count > this.limits.maxQueue) {
      return Promise.resolve({ status: 'rejected', reason: 'queue-full' });
    }

    const route = request.route ?? '';
    this.policy.requestArrived(route, longest, this.queuedItemCount + this.inflightItemCount + count);
    let queue = this.queues.get(request.key);
    if (queue === undefined) {
      queue = new KeyQueue(request.key, route, request.group, capacity, this.trafficOf(request.key));
      this.queues.set(request.key, queue);
    }
    return new Promise((resolve) => {
      const job: Job<Group, Item, Answer, Failure> = {
        request,
        queue: queue,
        arrivedAt: this.clock.now(),
        // Stryker disable next-line ArrayDeclaration: equivalent, preallocation only; every position is written before the job settles ok
        answers: new Array<Answer>(count),
        resolve,
        next: 0,
        pendingSlices: 0,
        failure: undefined,
        cancelled: false,
        expired: false,
        settled: false,
        firstSentAt: undefined,
        batchSize: 0,
        calls: 0,
        liveCalls: new Set(),
        onAbort: undefined,
      };
      if (request.signal) {
        const onAbort = (): void => this.cancel(job);
        job.onAbort = onAbort;
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, an abort fires once and the listener is removed at settle anyway
        request.signal.addEventListener('abort', onAbort, { once: true });
      }
      queue.jobs.push(job);
      queue.traffic.change(job.arrivedAt, count);
      queue.items += count;
      queue.bytes += bytes;
      this.queuedItemCount += count;
      this.schedulePump();
    });
  }

  /**
   * Stops taking jobs, sends everything queued without waiting for batch-mates, and resolves
   * once no call is in flight.
   */
  close(): Promise<void> {
    this.closing = true;
    this.pump();
    // Stryker: 'queuedItemCount === 0' -> true is equivalent: after pump() items stay queued only while every slot is in flight.
    if (this.queuedItemCount === 0 && this.inflightCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private trafficOf(key: string): KeyTraffic {
    let traffic = this.traffic.get(key);
    if (traffic === undefined) {
      traffic = new KeyTraffic();
      if (this.traffic.size >= REMEMBERED_KEYS) {
        // Maps iterate in insertion order and each use re-inserts: the first key is the stalest.
        const stalest = this.traffic.keys().next().value;
        // Stryker: -> true is equivalent: the map is full here, so it has a first key; the test is for the type checker.
        if (stalest !== undefined) this.traffic.delete(stalest);
      }
    } else {
      this.traffic.delete(key);
    }
    this.traffic.set(key, traffic);
    return traffic;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.clock.defer(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    // Stryker: -> true is equivalent: with no timeout nothing expires; the guard only skips the scan.
    if (this.limits.queueTimeoutMs !== Infinity) this.expireOverdue(this.clock.now());
    while (this.inflightCount < this.policy.inflightLimit()) {
      const queue = this.pickReadyQueue(this.clock.now());
      if (queue === undefined) break;
      this.dispatch(queue);
    }
    this.armTimer();
    // Stryker: 'queuedItemCount === 0' -> true and 'closing && queued' -> true or '||' are equivalent: only close() adds waiters,
    // and after the loop above items stay queued only while every slot is in flight.
    if (this.closing && this.queuedItemCount === 0 && this.inflightCount === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * Drops jobs that waited past the queue timeout without any item sent. Queues are FIFO and the
   * timeout is the same for all, so only heads need looking at.
   */
  private expireOverdue(now: number): void {
    for (const queue of this.queues.values()) {
      for (let head = queue.headJob(); head !== undefined; head = queue.headJob()) {
        if (head.next > 0 || now < head.arrivedAt + this.limits.queueTimeoutMs) break;
        this.dropUnsent(head);
        head.expired = true;
        this.maybeSettle(head);
      }
    }
  }

  /**
   * The queue whose oldest request is oldest among those allowed to go now. Queues passed over
   * for a younger one count it (see OVERTAKES).
   */
  private pickReadyQueue(now: number): KeyQueue<Group, Item, Answer, Failure> | undefined {
    const workSlotFree = this.inflightCount < this.workSlots;
    let best: KeyQueue<Group, Item, Answer, Failure> | undefined;
    let bestArrival = Infinity;
    const passed = this.passed;
    for (const queue of this.queues.values()) {
      const head = queue.headJob();
      if (head === undefined) {
        this.queues.delete(queue.key);
        continue;
      }
      if (head.arrivedAt >= bestArrival) continue;
      let ready: boolean;
      if (this.closing || this.isFull(queue) || queue.overtaken >= OVERTAKES) ready = true;
      else if (!workSlotFree) ready = false;
      // Written as the timer's due time is, so a timer firing exactly on time finds it due.
      else ready = now >= this.holdDeadline(head) || !this.waitingPaysOff(queue, now);
      if (ready) {
        best = queue;
        bestArrival = head.arrivedAt;
      } else {
        passed.push(queue);
      }
    }
    if (best !== undefined) {
      for (const queue of passed) if (queue.headJob()!.arrivedAt < bestArrival && !this.waitingPaysOff(queue, now)) queue.overtaken++;
    }
    passed.length = 0;
    return best;
  }

  /**
   * True when this key usually has more inputs in the proxy than it has now: some of its
   * clients are between an answer and their next request (or arrive steadily), so a batch-mate
   * is on its way and a short wait fills the call. A lone client averages just under one input
   * in the proxy, so it never waits for batch-mates that are not coming (the half-input margin).
   */
  private waitingPaysOff(queue: KeyQueue<Group, Item, Answer, Failure>, now: number): boolean {
    const traffic = queue.traffic;
    // Stryker: '>=' -> '>' is equivalent in practice: a float time average landing exactly on present + 0.5 is a measure-zero tie.
    return traffic.averageUntil(now) >= traffic.present + 0.5;
  }

  /**
   * The latest a job may be held back for batch-mates: max-wait after its arrival, or after a
   * work slot freed if it arrived while the upstream was busy. Anchored at those moments, so
   * later arrivals never move it.
   */
  private holdDeadline(head: Job<Group, Item, Answer, Failure>): number {
    return Math.max(head.arrivedAt, this.workSlotFreeSince) + this.policy.holdMs(head.queue.route);
  }

  private isFull(queue: KeyQueue<Group, Item, Answer, Failure>): boolean {
    return queue.items >= this.policy.batchSize(queue.route) || queue.bytes > queue.capacity;
  }

  /**
   * One timer for the earliest moment a waiting batch becomes due. It is anchored at the oldest
   * request's arrival, so new arrivals never move it later.
   */
  private armTimer(): void {
    let dueAt = Infinity;
    // Only a free work slot can take a partial batch; a busy upstream re-pumps when a call ends.
    const slotFree = this.inflightCount < this.workSlots;
    for (const queue of this.queues.values()) {
      const head = queue.headJob();
      if (head === undefined) continue;
      if (slotFree) dueAt = Math.min(dueAt, this.holdDeadline(head));
      // Expiry runs whatever the upstream is doing; a head already partly sent never expires.
      if (head.next === 0) dueAt = Math.min(dueAt, head.arrivedAt + this.limits.queueTimeoutMs);
    }
    if (dueAt === this.timerDueAt) return;
    if (this.timer !== undefined) {
      this.clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    this.timerDueAt = dueAt;
    if (dueAt === Infinity) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.timerDueAt = Infinity;
      this.pump();
    }, dueAt - this.clock.now());
  }

  /** Cuts the next batch from a queue and starts its call. */
  private dispatch(queue: KeyQueue<Group, Item, Answer, Failure>): void {
    const now = this.clock.now();
    const maxBatchSize = this.policy.batchSize(queue.route);
    const slices: Slice<Group, Item, Answer, Failure>[] = [];
    let count = 0;
    let bytes = 0;
    fill: for (let job = queue.headJob(); job !== undefined; job = queue.headJob()) {
      const sizes = job.request.itemBytes;
      const from = job.next;
      let to = from;
      while (to < sizes.length && count < maxBatchSize) {
        const size = sizes[to]!;
        // The first item always fits: submit() refused any item larger than a call.
        // Stryker: 'count > 0' -> true or '>=' is equivalent for that reason: the guard only skips a comparison.
        if (count > 0 && bytes + size > queue.capacity) break;
        bytes += size;
        count++;
        to++;
      }
      if (to > from) {
        slices.push({ job, from, to });
        job.next = to;
        job.pendingSlices++;
        job.firstSentAt ??= now;
        queue.items -= to - from;
        this.queuedItemCount -= to - from;
      }
      if (to < sizes.length) break fill;
    }
    queue.bytes -= bytes;
    queue.overtaken = 0;
    queue.compact();
    // Stryker: -> false is equivalent: dispatch() gets a queue with a head job, whose first item always fits.
    if (slices.length === 0) return;

    const call: Call<Group, Item, Answer, Failure> = {
      slices,
      controller: new AbortController(),
    };
    for (const slice of slices) slice.job.liveCalls.add(call);
    this.inflightCount++;
    void this.runCall(queue.route, queue.group, call);
  }

  private async runCall(route: string, group: Group, call: Call<Group, Item, Answer, Failure>): Promise<void> {
    try {
      await this.execute(route, group, call.slices, call);
    } finally {
      for (const slice of call.slices) slice.job.liveCalls.delete(call);
      if (this.inflightCount === this.workSlots) this.workSlotFreeSince = this.clock.now();
      this.inflightCount--;
      this.pump();
    }
  }

  /**
   * Runs one call for the given slices. A failure blamed on the inputs is retried as two halves
   * (bisection), so one bad input costs about 2·log2(n) extra calls and fails only its own job.
   * The halves run one after the other inside the same in-flight slot, so isolation never
   * exceeds maxInflight.
   */
  private async execute(
    route: string,
    group: Group,
    slices: Slice<Group, Item, Answer, Failure>[],
    call: Call<Group, Item, Answer, Failure>,
  ): Promise<void> {
    const live: Slice<Group, Item, Answer, Failure>[] = [];
    for (const slice of slices) {
      if (isDead(slice.job)) this.finishSlice(slice);
      else live.push(slice);
    }
    if (live.length === 0) return;

    const items: Item[] = [];
    // A call holds at most one slice of each job, so each tag comes once. Without tags (tracing
    // off) nothing is allocated.
    let tags: unknown[] | undefined;
    let longestBytes = 0;
    let totalBytes = 0;
    for (const slice of live) {
      const source = slice.job.request.items;
      const sizes = slice.job.request.itemBytes;
      for (let i = slice.from; i < slice.to; i++) {
        items.push(source[i]!);
        const size = sizes[i]!;
        totalBytes += size;
        if (size > longestBytes) longestBytes = size;
      }
      const tag = slice.job.request.tag;
      if (tag !== undefined) (tags ??= []).push(tag);
    }
    const inflightAtStart = this.inflightCount;
    const queuedAtStart = this.queuedItemCount;
    this.inflightItemCount += items.length;
    const inflightItemsAtStart = this.inflightItemCount;

    this.observer.callStarted?.(items.length);
    const started = this.clock.now();
    let outcome: CallOutcome<Answer, Failure>;
    try {
      outcome = await this.executor({ group, items, signal: call.controller.signal, tags: tags ?? NO_TAGS });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Stryker disable next-line StringLiteral: equivalent, only blame 'inputs' is ever tested for
      outcome = { ok: false, failure: this.internalFailure(message), blame: 'call' };
    }
    if (outcome.ok && outcome.answers.length !== items.length) {
      // Never hand out answers by position when the positions cannot be trusted.
      const message = `upstream answered ${outcome.answers.length} elements for ${items.length} inputs`;
      // Stryker disable next-line StringLiteral: equivalent, only blame 'inputs' is ever tested for
      outcome = { ok: false, failure: this.internalFailure(message), blame: 'call' };
    }
    this.inflightItemCount -= items.length;
    const durationMs = this.clock.now() - started;
    this.observer.callFinished?.(items.length, durationMs, outcome.ok);
    this.policy.callFinished({
      route,
      items: items.length,
      longestBytes,
      totalBytes,
      startedAt: started,
      durationMs,
      inflightAtStart,
      inflightItemsAtStart,
      queuedAtStart,
      ok: outcome.ok,
    });

    if (outcome.ok) {
      let offset = 0;
      for (const slice of live) {
        const job = slice.job;
        for (let i = slice.from; i < slice.to; i++) job.answers[i] = outcome.answers[offset++]!;
        this.noteCall(job, items.length);
        this.finishSlice(slice);
      }
      return;
    }
    if (outcome.blame === 'inputs' && live.length > 1) {
      const middle = live.length >> 1;
      await this.execute(route, group, live.slice(0, middle), call);
      await this.execute(route, group, live.slice(middle), call);
      return;
    }
    for (const slice of live) {
      this.noteCall(slice.job, items.length);
      this.fail(slice, outcome.failure);
    }
  }

  private noteCall(job: Job<Group, Item, Answer, Failure>, size: number): void {
    job.calls++;
    // Stryker: '>' -> '>=' is equivalent: on a tie it stores the same value.
    if (size > job.batchSize) job.batchSize = size;
  }

  private fail(slice: Slice<Group, Item, Answer, Failure>, failure: Failure): void {
    const job = slice.job;
    if (job.failure === undefined) {
      // The rest of a failed job is never sent: its answer is already decided.
      this.dropUnsent(job);
      job.failure = { from: slice.from, failure };
      // Stryker: '<' -> '<=' is equivalent: two slices of one job never start at the same input.
    } else if (slice.from < job.failure.from) {
      job.failure = { from: slice.from, failure };
    }
    this.finishSlice(slice);
  }

  private finishSlice(slice: Slice<Group, Item, Answer, Failure>): void {
    slice.job.pendingSlices--;
    this.maybeSettle(slice.job);
  }

  private cancel(job: Job<Group, Item, Answer, Failure>): void {
    // Stryker: -> false or '&&' is equivalent: a second cancel() finds nothing unsent or to abort, and maybeSettle() does nothing.
    if (job.settled || job.cancelled) return;
    // Stryker: -> true is equivalent: a failed job's unsent items were dropped when it failed.
    if (job.failure === undefined) this.dropUnsent(job);
    job.cancelled = true;
    for (const call of job.liveCalls) {
      if (call.slices.every((slice) => slice.job.cancelled)) call.controller.abort();
    }
    this.maybeSettle(job);
    this.schedulePump();
  }

  /** Takes a job's unsent items out of the queue counters (the job itself is skipped later). */
  private dropUnsent(job: Job<Group, Item, Answer, Failure>): void {
    const remaining = job.request.items.length - job.next;
    // Stryker: -> false is equivalent: with nothing unsent the lines below change nothing.
    if (remaining === 0) return;
    job.queue.items -= remaining;
    job.queue.bytes -= unsentBytes(job);
    this.queuedItemCount -= remaining;
    job.next = job.request.items.length;
  }

  private maybeSettle(job: Job<Group, Item, Answer, Failure>): void {
    if (job.settled || job.pendingSlices > 0) return;
    const complete = job.next === job.request.items.length;
    let outcome: JobOutcome<Answer, Failure>;
    if (job.cancelled) {
      outcome = { status: 'rejected', reason: 'cancelled' };
    } else if (job.expired) {
      outcome = { status: 'rejected', reason: 'expired' };
    } else if (job.failure !== undefined) {
      outcome = { status: 'failed', failure: job.failure.failure, stats: this.statsOf(job) };
    } else if (complete) {
      outcome = { status: 'ok', answers: job.answers, stats: this.statsOf(job) };
    } else {
      return;
    }
    job.settled = true;
    job.queue.traffic.change(this.clock.now(), -job.request.items.length);
    // Stryker: 'job.onAbort' -> true is equivalent: onAbort is set exactly when there is a signal.
    // Stryker disable next-line OptionalChaining: equivalent, for the same reason
    if (job.onAbort) job.request.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(outcome);
  }

  private statsOf(job: Job<Group, Item, Answer, Failure>): JobStats {
    const sentAt = job.firstSentAt ?? job.arrivedAt;
    return { queueMs: sentAt - job.arrivedAt, batchSize: job.batchSize, calls: job.calls };
  }
}

function validateLimits(limits: BatcherLimits): void {
  const positiveInteger = (name: keyof BatcherLimits): void => {
    const value = limits[name];
    // Stryker: 'value === undefined' -> false is equivalent: Number.isInteger(undefined) is false; the test is for the type checker.
    if (value === undefined || !Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  };
  positiveInteger('maxBatchSize');
  positiveInteger('maxBatchBytes');
  positiveInteger('maxInflight');
  if (!(limits.maxWaitMs >= 0)) throw new RangeError('maxWaitMs must be zero or more');
  if (!(limits.maxQueue >= 1)) throw new RangeError('maxQueue must be at least 1');
  if (!(limits.queueTimeoutMs > 0)) throw new RangeError('queueTimeoutMs must be more than zero');
}
