/**
 * The topology at scale, on simulated time: N proxies in front of M TEI replicas, each proxy the
 * real batching core (src/core/batcher.ts) with the limits the real proxy gives it (two calls in
 * flight and one staging slot per replica it knows), picking the replica with the least
 * outstanding work *as it sees it* (proxies do not share what they have sent: that is the point).
 * Clients arrive open-loop (seeded Poisson arrivals, spread evenly over the proxies), so the load
 * is a share of what the replicas can do with full batches, and saturation shows as latency.
 *
 * Replicas are GPU-like: one batch at a time, a fixed cost per call plus a cost per input, FIFO,
 * and no merging of concurrent calls inside the replica (as bench/policy/simulate.ts assumes).
 * Deterministic: the same scenario gives the same numbers, and a run takes seconds, no sockets.
 *
 *   npx tsx bench/scaling/topology.ts [--proxies 1,2,4,8] [--replicas 1,3,10,50] [--loads 0.2,0.5,0.8]
 *     [--topology tier|sidecar|both] [--call-ms 10] [--item-ms 0.1] [--max-inflight 2] [--requests 20000]
 *
 * See docs/scaling.md for the tables this prints and what they mean.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Batcher } from '../../src/core/batcher.js';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { mulberry32 as random } from '../../sim/random.js';

/**
 * `tier`: every proxy knows every replica (a proxy Deployment with DNS discovery, or a proxy per
 * client service). `sidecar`: one proxy per replica, knowing only its own (N = M).
 */
export type Topology = 'tier' | 'sidecar';

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
  /** Calls in flight per replica, per proxy (--max-inflight). */
  maxInflight: number;
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
}

export const DEFAULT_SCENARIO: Omit<TopologyScenario, 'topology' | 'proxies' | 'replicas' | 'load'> = {
  callMs: 10,
  itemMs: 0.1,
  rttMs: 0.3,
  maxBatchSize: 32,
  maxWaitMs: 5,
  maxInflight: 2,
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
    return new Batcher<string, number, number, string>({
      limits: {
        maxBatchSize: s.maxBatchSize,
        maxBatchBytes: 1e12,
        maxWaitMs: s.maxWaitMs,
        maxInflight: s.maxInflight * known.length,
        stagingSlots: known.length,
        maxQueue: 10_000,
        queueTimeoutMs: Infinity,
      },
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
    void proxy.submit({ key: 'embed', group: 'embed', items: [index], itemBytes: [1], overheadBytes: 0 }).then((outcome) => {
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
  };
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
    maxInflight: Number(values['max-inflight']),
    requests: Number(values.requests),
  };
  const row = (r: TopologyResult, head: string): string =>
    `| ${head} | ${r.offered.toFixed(0)} | ${r.throughput.toFixed(0)} | ${r.meanBatch.toFixed(1)} | ${(100 * r.utilisation).toFixed(0)}% | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.rejected} |`;
  const header = '| offered inputs/s | answered inputs/s | mean batch | replicas busy | p50 ms | p99 ms | refused |';
  console.log(
    `call ${base.callMs} ms + ${base.itemMs} ms/input, max batch ${base.maxBatchSize}, max wait ${base.maxWaitMs} ms, ${base.maxInflight} in flight per replica per proxy, ${base.requests} requests per row\n`,
  );
  if (values.topology === 'tier' || values.topology === 'both') {
    console.log(`| replicas | proxies | load ${header}`);
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
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
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const replicas of list(values.replicas!)) {
      for (const load of list(values.loads!)) {
        const r = await simulateTopology({ ...base, topology: 'sidecar', proxies: replicas, replicas, load });
        console.log(row(r, `${replicas} | ${load}`));
      }
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
