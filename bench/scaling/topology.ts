/**
 * The topology at scale, on simulated time: N proxies in front of M TEI replicas, each proxy the
 * real batching core (src/core/batcher.ts) with the dispatch policy the real proxy builds for it
 * (src/core/policy/create-policy.ts): adaptive by default, as `autobatch` runs with no tuning
 * flags, or static with `--max-inflight N` calls in flight and one staging slot per replica it
 * knows. Each proxy has its own policy, fed only its own calls, and picks the replica with the
 * least outstanding work *as it sees it* (proxies do not share what they have sent: that is the
 * point; an adaptive proxy's limiter sees the replicas slow down with the others' calls).
 * Clients arrive open-loop (seeded Poisson arrivals, spread evenly over the proxies), so the load
 * is a share of what the replicas can do with full batches, and saturation shows as latency.
 *
 * Replicas are GPU-like: one batch at a time, a fixed cost per call plus a cost per input, FIFO,
 * and no merging of concurrent calls inside the replica (as bench/policy/simulate.ts assumes).
 * Deterministic: the same scenario gives the same numbers, and a run takes seconds, no sockets.
 *
 *   npx tsx bench/scaling/topology.ts [--proxies 1,2,4,8] [--replicas 1,3,10,50] [--loads 0.2,0.5,0.8]
 *     [--topology tier|sidecar|both] [--call-ms 10] [--item-ms 0.1] [--max-inflight adaptive|2|1] [--requests 20000]
 *
 * See docs/scaling.md for the tables this prints and what they mean.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Batcher } from '../../src/core/batcher.js';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { lengthBucket } from '../../src/core/length-bucket.js';
import { createDispatchPolicy } from '../../src/core/policy/create-policy.js';
import type { DispatchPolicy } from '../../src/core/policy/dispatch-policy.js';
import { DEFAULTS } from '../../src/options.js';
import { mulberry32 as random } from '../../sim/random.js';

/**
 * `tier`: every proxy knows every replica (a proxy Deployment with DNS discovery, or a proxy per
 * client service). `sidecar`: one proxy per replica, knowing only its own (N = M).
 */
export type Topology = 'tier' | 'sidecar';

/**
 * `--max-inflight`: 'adaptive' is the flag left out (the policy learns the limit from 2 per
 * replica up); a number pins it, with the other dispatch flags pinned to the scenario's values so
 * that the proxy runs the static policy (what the tables measured before the adaptive one).
 */
export type InflightSetting = 'adaptive' | number;

export interface TopologyScenario {
  topology: Topology;
  proxies: number;
  replicas: number;
  /** Offered inputs per second as a share of the replicas' capacity with full batches. */
  load: number;
  callMs: number;
  itemMs: number;
  /** Network round trip client-proxy and proxy-replica, each. */
  rttMs: number;
  maxBatchSize: number;
  maxWaitMs: number;
  /** Calls in flight per replica, per proxy (--max-inflight), or learned. */
  maxInflight: InflightSetting;
  /** Requests (one input each) in the run; the first fifth warms up and is not measured. */
  requests: number;
  seed: number;
}

export interface TopologyResult {
  /** What the replicas can do with full batches, inputs/s. */
  capacity: number;
  offered: number;
  /** Inputs answered per second in the measured part. */
  throughput: number;
  meanBatch: number;
  /** Share of time the replicas were busy. */
  utilisation: number;
  p50: number;
  p99: number;
  /** Requests refused (queue full); none below saturation. */
  rejected: number;
  /** What the proxies' policies ended the run with, averaged over the proxies. */
  decided: DecidedDispatch;
}

/** A policy's decisions at the end of a run (static: its pins), averaged over the proxies. */
export interface DecidedDispatch {
  /** Calls in flight allowed per replica the proxy knows. */
  inflightPerReplica: number;
  /** Of those, slots that also take partial batches, per replica (the batcher's work slots). */
  workSlotsPerReplica: number;
  batchSize: number;
}

export const DEFAULT_SCENARIO: Omit<TopologyScenario, 'topology' | 'proxies' | 'replicas' | 'load'> = {
  callMs: 10,
  itemMs: 0.1,
  rttMs: 0.3,
  maxBatchSize: 32,
  maxWaitMs: 5,
  maxInflight: 'adaptive',
  requests: 20_000,
  seed: 1,
};

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * Simulated time with a binary heap of timers: a run holds thousands of them (one per call in
 * flight, one per proxy's batch timer), and scanning them all per event would be quadratic.
 */
class HeapClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private readonly cancelled = new Set<Timer>();

  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, delayMs), seq: ++this.seq, callback };
    this.heap.push(timer);
    this.up(this.heap.length - 1);
    return timer;
  }
  clearTimer(handle: TimerHandle): void {
    this.cancelled.add(handle as Timer);
  }
  defer(callback: () => void): void {
    this.setTimer(callback, 0);
  }
  /** Runs the earliest timer; false when none is left. */
  step(): boolean {
    for (;;) {
      const timer = this.pop();
      if (timer === undefined) return false;
      if (this.cancelled.delete(timer)) continue;
      this.time = timer.at;
      timer.callback();
      return true;
    }
  }
  private before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }
  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const left = 2 * i + 1;
      let least = i;
      if (left < heap.length && this.before(heap[left]!, heap[least]!)) least = left;
      if (left + 1 < heap.length && this.before(heap[left + 1]!, heap[least]!)) least = left + 1;
      if (least === i) break;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
    return top;
  }
}

interface SimReplica {
  /** When the replica finishes the calls it has been sent. */
  freeAt: number;
  busyMs: number;
}

/** The route and batch key of an /embed request of one input, as src/http/batch-handler.ts keys it. */
const ROUTE = '/embed';
const KEY = `${ROUTE}\u0000{}\u0000`;
/** Every simulated input is this long (JSON bytes): one length, so the policy has no buckets to find. */
const INPUT_BYTES = 40;

/** The policy src/proxy.ts builds for these flags, for a proxy that knows `replicas` replicas. */
function policyFor(s: TopologyScenario, replicas: number, clock: Clock): DispatchPolicy {
  const pins =
    s.maxInflight === 'adaptive'
      ? {}
      : { maxInflight: s.maxInflight, maxBatchSize: s.maxBatchSize, bucketByLength: 'off' as const, maxWaitMs: s.maxWaitMs };
  return createDispatchPolicy({
    replicas,
    // The replicas' /info max_client_batch_size.
    maxBatchSize: s.maxBatchSize,
    pins,
    defaultHoldMs: s.maxWaitMs,
    initialInflight: DEFAULTS.maxInflight,
    maxLearnedInflight: DEFAULTS.maxLearnedInflight,
    now: () => clock.now(),
  });
}

/** The policy's decisions now, per replica the proxy knows. */
function decisionsOf(policy: DispatchPolicy, replicas: number): DecidedDispatch {
  const limit = policy.inflightLimit();
  // The batcher's work slots (batcher.ts): never fewer than one, over all replicas.
  const workSlots = Math.max(1, limit - policy.stagingSlots());
  return { inflightPerReplica: limit / replicas, workSlotsPerReplica: workSlots / replicas, batchSize: policy.batchSize(ROUTE) };
}

export async function simulateTopology(s: TopologyScenario): Promise<TopologyResult> {
  if (s.topology === 'sidecar' && s.proxies !== s.replicas) throw new RangeError('a sidecar topology has one proxy per replica');
  const clock = new HeapClock();
  const next = random(s.seed);
  const replicas: SimReplica[] = Array.from({ length: s.replicas }, () => ({ freeAt: 0, busyMs: 0 }));
  const capacity = (s.replicas * 1000 * s.maxBatchSize) / (s.callMs + s.itemMs * s.maxBatchSize);
  const offered = capacity * s.load;
  const warmup = Math.floor(s.requests / 5);
  const batchSizes: number[] = [];
  const latencies: number[] = [];
  /** When answers were written, to count those inside the measured window. */
  const answeredAt: number[] = [];
  let measuredFrom = Infinity;
  let lastArrival = 0;
  let rejected = 0;

  const proxies = Array.from({ length: s.proxies }, (_, p) => {
    // The replicas this proxy knows, in the order it lists them (ties in outstanding work go to
    // the first): rotated per proxy, as DNS answers usually are, so idle proxies do not all pile
    // onto one replica.
    const known =
      s.topology === 'sidecar' ? [p] : Array.from({ length: s.replicas }, (_, i) => (i + Math.floor((p * s.replicas) / s.proxies)) % s.replicas);
    const outstanding = new Map(known.map((replica) => [replica, 0]));
    const policy = policyFor(s, known.length, clock);
    const batcher = new Batcher<string, number, number, string>({
      // In-flight, staging, batch size and hold are the policy's; these only stand in when no
      // policy is given, and are filled as src/proxy.ts fills them.
      limits: {
        maxBatchSize: s.maxBatchSize,
        maxBatchBytes: 1e12,
        maxWaitMs: s.maxWaitMs,
        maxInflight: DEFAULTS.maxInflight * known.length,
        stagingSlots: known.length,
        maxQueue: 10_000,
        queueTimeoutMs: Infinity,
      },
      policy,
      clock,
      internalFailure: (message) => message,
      executor: ({ items }) =>
        new Promise((resolve) => {
          let chosen = known[0]!;
          for (const replica of known) if (outstanding.get(replica)! < outstanding.get(chosen)!) chosen = replica;
          outstanding.set(chosen, outstanding.get(chosen)! + items.length);
          batchSizes.push(items.length);
          const replica = replicas[chosen]!;
          const start = Math.max(clock.now() + s.rttMs / 2, replica.freeAt);
          const serviceMs = s.callMs + s.itemMs * items.length;
          replica.freeAt = start + serviceMs;
          replica.busyMs += serviceMs;
          clock.setTimer(
            () => {
              outstanding.set(chosen, outstanding.get(chosen)! - items.length);
              resolve({ ok: true, answers: items });
            },
            replica.freeAt + s.rttMs / 2 - clock.now(),
          );
        }),
    });
    return { batcher, policy, replicas: known.length };
  });

  // Open-loop arrivals: each request reaches a proxy half a round trip after it is sent, and
  // its answer reaches the client half a round trip after the proxy writes it.
  let sent = 0;
  const arrive = (): void => {
    const index = sent++;
    const proxy = proxies[Math.floor(next() * s.proxies)]!;
    const arrivedAt = clock.now();
    if (index === warmup) measuredFrom = arrivedAt;
    lastArrival = arrivedAt;
    // Keyed as the HTTP handler keys it, length band included should the policy choose buckets.
    const factor = proxy.policy.bucketFactor(ROUTE);
    const key = factor === undefined ? KEY : `${KEY}\u0000len${lengthBucket(INPUT_BYTES, factor)}`;
    const job = { key, route: ROUTE, group: 'embed', items: [index], itemBytes: [INPUT_BYTES + 1], overheadBytes: 0 };
    void proxy.batcher.submit(job).then((outcome) => {
      if (outcome.status !== 'ok') {
        rejected++;
        return;
      }
      answeredAt.push(clock.now());
      if (index >= warmup) latencies.push(clock.now() - arrivedAt + s.rttMs);
    });
    if (sent < s.requests) clock.setTimer(arrive, (-Math.log(1 - next()) * 1000) / offered);
  };
  clock.setTimer(arrive, 0);
  // Each event runs to completion, promise callbacks included, before the next one.
  while (clock.step()) await new Promise((resolve) => setImmediate(resolve));

  latencies.sort((a, b) => a - b);
  // Throughput over the window arrivals were steady in (after warm-up, before they stop), so
  // neither the ramp-up nor the drain after the last arrival counts.
  const measuredMs = lastArrival - measuredFrom;
  const answeredInWindow = answeredAt.filter((at) => at >= measuredFrom && at <= lastArrival).length;
  const busyMs = replicas.reduce((sum, replica) => sum + replica.busyMs, 0);
  return {
    capacity,
    offered,
    throughput: (answeredInWindow * 1000) / measuredMs,
    meanBatch: batchSizes.reduce((a, b) => a + b, 0) / batchSizes.length,
    utilisation: busyMs / (s.replicas * Math.max(...replicas.map((replica) => replica.freeAt))),
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? Number.NaN,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
    rejected,
    decided: mean(proxies.map((proxy) => decisionsOf(proxy.policy, proxy.replicas))),
  };
}

function mean(all: DecidedDispatch[]): DecidedDispatch {
  const average = (pick: (d: DecidedDispatch) => number): number => all.reduce((sum, d) => sum + pick(d), 0) / all.length;
  return {
    inflightPerReplica: average((d) => d.inflightPerReplica),
    workSlotsPerReplica: average((d) => d.workSlotsPerReplica),
    batchSize: average((d) => d.batchSize),
  };
}

/** `--max-inflight`'s value: 'adaptive' or a whole number of at least 1. */
export function parseInflight(text: string): InflightSetting {
  if (text === 'adaptive') return 'adaptive';
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`--max-inflight takes 'adaptive' or a whole number of at least 1, got ${text}`);
  return value;
}

function list(text: string): number[] {
  return text.split(',').map(Number);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      proxies: { type: 'string', default: '1,2,4,8' },
      replicas: { type: 'string', default: '1,3,10,50' },
      loads: { type: 'string', default: '0.2,0.5,0.8' },
      topology: { type: 'string', default: 'both' },
      'call-ms': { type: 'string', default: String(DEFAULT_SCENARIO.callMs) },
      'item-ms': { type: 'string', default: String(DEFAULT_SCENARIO.itemMs) },
      'max-wait-ms': { type: 'string', default: String(DEFAULT_SCENARIO.maxWaitMs) },
      'max-inflight': { type: 'string', default: String(DEFAULT_SCENARIO.maxInflight) },
      requests: { type: 'string', default: String(DEFAULT_SCENARIO.requests) },
    },
  });
  const base = {
    ...DEFAULT_SCENARIO,
    callMs: Number(values['call-ms']),
    itemMs: Number(values['item-ms']),
    maxWaitMs: Number(values['max-wait-ms']),
    maxInflight: parseInflight(values['max-inflight']!),
    requests: Number(values.requests),
  };
  const row = (r: TopologyResult, head: string): string =>
    `| ${head} | ${r.offered.toFixed(0)} | ${r.throughput.toFixed(0)} | ${r.meanBatch.toFixed(1)} | ${(100 * r.utilisation).toFixed(0)}% | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.rejected} | ${decided(r.decided)} |`;
  // What the policies ended with: in flight / work slots per replica, batch size (means over the proxies).
  const decided = (d: DecidedDispatch): string =>
    `${d.inflightPerReplica.toFixed(1)} / ${d.workSlotsPerReplica.toFixed(2)} / ${d.batchSize.toFixed(0)}`;
  const header =
    '| offered inputs/s | answered inputs/s | mean batch | replicas busy | p50 ms | p99 ms | refused | in flight / work slots per replica, batch |';
  const inflight = base.maxInflight === 'adaptive' ? 'adaptive in-flight limit (--max-inflight unset)' : `--max-inflight ${base.maxInflight}`;
  console.log(
    `call ${base.callMs} ms + ${base.itemMs} ms/input, max batch ${base.maxBatchSize}, max wait ${base.maxWaitMs} ms, ${inflight}, ${base.requests} requests per row\n`,
  );
  if (values.topology === 'tier' || values.topology === 'both') {
    console.log(`| replicas | proxies | load ${header}`);
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const replicas of list(values.replicas!)) {
      for (const proxies of list(values.proxies!)) {
        for (const load of list(values.loads!)) {
          const r = await simulateTopology({ ...base, topology: 'tier', proxies, replicas, load });
          console.log(row(r, `${replicas} | ${proxies} | ${load}`));
        }
      }
    }
  }
  if (values.topology === 'sidecar' || values.topology === 'both') {
    console.log(`\nsidecar (one proxy per replica, knowing only its own)\n\n| replicas = proxies | load ${header}`);
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const replicas of list(values.replicas!)) {
      for (const load of list(values.loads!)) {
        const r = await simulateTopology({ ...base, topology: 'sidecar', proxies: replicas, replicas, load });
        console.log(row(r, `${replicas} | ${load}`));
      }
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
