/**
 * Prometheus metrics served at /autobatch/metrics. A registry of its own (not prom-client's
 * global one), so several proxies in one process (tests, the library API) never collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PolicySnapshot } from './core/policy/dispatch-policy.js';

export interface MetricsSources {
  queuedItems(): number;
  inflight(): number;
  /** Bytes counted in the memory budget now (--max-memory-bytes). */
  memoryHeldBytes?(): number;
  /** The upstream replicas as they are now (as resolved, with DNS discovery). */
  replicas?(): readonly { url: string; address?: string; healthy: boolean; outstanding: number }[];
  /** The dispatch policy's decisions (the same as GET /autobatch/policy). */
  policy?(): PolicySnapshot;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status'>;
  readonly batchSize: Histogram;
  readonly queueWait: Histogram<'route'>;
  readonly upstreamDuration: Histogram<'outcome'>;
  readonly sentAlone: Counter<'route' | 'result'>;
  readonly memoryRefused: Counter<'reason'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'autobatch_requests_total',
      help: 'Client requests answered, by route ("passthrough" for forwarded ones) and HTTP status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'autobatch_batch_size',
      help: 'Inputs per upstream call',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'autobatch_queue_wait_seconds',
      help: 'Time a batched request waited in the proxy before its call was sent',
      labelNames: ['route'],
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'autobatch_upstream_call_duration_seconds',
      help: 'Duration of batched upstream calls, by outcome',
      labelNames: ['outcome'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.sentAlone = new Counter({
      name: 'autobatch_sent_alone_total',
      help:
        'Bodies the proxy could not batch (or whose upstream error quotes the merged body), sent to the upstream alone: ' +
        'result "answered", or answered by the proxy because of the replay limit ("over_limit") or an unreachable upstream ("unreachable")',
      labelNames: ['route', 'result'],
      registers,
    });
    this.memoryRefused = new Counter({
      name: 'autobatch_memory_refused_total',
      help: 'Batched requests refused for memory: reason "budget" (429, past --max-memory-bytes) or "heap" (503, V8 heap near its limit)',
      labelNames: ['reason'],
      registers,
    });
    // Both series exist from the start at 0, so a rate() over them reads 0 rather than nothing.
    for (const reason of ['budget', 'heap']) this.memoryRefused.inc({ reason }, 0);
    new Gauge({
      name: 'autobatch_memory_held_bytes',
      help: 'Bytes the proxy holds for clients, counted in the memory budget (--max-memory-bytes): bodies, and answers being read and written',
      registers,
      collect() {
        this.set(sources.memoryHeldBytes?.() ?? 0);
      },
    });
    new Gauge({
      name: 'autobatch_queue_depth',
      help: 'Inputs queued in the proxy, not yet sent upstream',
      registers,
      collect() {
        this.set(sources.queuedItems());
      },
    });
    new Gauge({
      name: 'autobatch_inflight_calls',
      help: 'Batched upstream calls in flight',
      registers,
      collect() {
        this.set(sources.inflight());
      },
    });
    // One series per replica; series of replicas that left are dropped at the next scrape.
    new Gauge({
      name: 'autobatch_upstream_replica_healthy',
      help: 'Upstream replicas (each address a name resolved to, with DNS discovery): 1 taking calls, 0 taken out',
      labelNames: ['upstream', 'address'],
      registers,
      collect() {
        this.reset();
        for (const replica of sources.replicas?.() ?? [])
          this.set({ upstream: replica.url, address: replica.address ?? '' }, replica.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: 'autobatch_upstream_replica_outstanding_inputs',
      help: 'Inputs in calls sent to each upstream replica and not answered yet',
      labelNames: ['upstream', 'address'],
      registers,
      collect() {
        this.reset();
        for (const replica of sources.replicas?.() ?? []) this.set({ upstream: replica.url, address: replica.address ?? '' }, replica.outstanding);
      },
    });
    if (sources.policy !== undefined) addPolicyGauges(registers, sources.policy);
    collectDefaultMetrics({ register: this.registry, prefix: 'autobatch_process_' });
  }
}

/**
 * The dispatch policy's decisions as gauges, read from one snapshot per scrape (each gauge's
 * collect takes a fresh one: a snapshot is a few numbers per route, cheaper than caching it).
 */
function addPolicyGauges(registers: Registry[], policy: () => PolicySnapshot): void {
  new Gauge({
    name: 'autobatch_policy_inflight_limit',
    help: 'Upstream calls the dispatch policy allows in flight now (over all replicas)',
    registers,
    collect() {
      this.set(policy().inflightLimit.value);
    },
  });
  new Gauge({
    name: 'autobatch_policy_throughput_inputs_per_second',
    help: 'Inputs per second delivered in the last window the in-flight limit was judged on',
    registers,
    collect() {
      this.set(policy().throughput);
    },
  });
  const perRoute = (name: string, help: string, value: (route: PolicySnapshot['routes'][number]) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['route'],
      registers,
      collect() {
        this.reset();
        for (const route of policy().routes) this.set({ route: route.route }, value(route));
      },
    });
  };
  perRoute('autobatch_policy_batch_size', 'Most inputs per upstream call the dispatch policy allows, by route', (route) => route.batchSize.value);
  perRoute('autobatch_policy_bucket_factor', 'Length-bucket factor in force, by route (0: no buckets)', (route) => route.bucketFactor.value ?? 0);
  perRoute('autobatch_policy_hold_seconds', 'Longest a partial batch is held for batch-mates, by route', (route) => route.holdMs.value / 1000);
  perRoute('autobatch_policy_pads', 'Whether the upstream pads a batch to its longest input, by route (1 yes, 0 no, -1 not known)', (route) =>
    route.pads.value === null ? -1 : route.pads.value ? 1 : 0,
  );
  new Gauge({
    name: 'autobatch_policy_cost_seconds',
    help:
      'Fitted upstream cost of a call, by route and term: fixed per call, per input, per byte of input, per padding byte ' +
      '(seconds = fixed + per_input*count + per_byte*total + per_pad_byte*(count*longest - total))',
    labelNames: ['route', 'term'],
    registers,
    collect() {
      this.reset();
      for (const route of policy().routes) {
        const fit = route.costFit;
        if (fit === null) continue;
        this.set({ route: route.route, term: 'fixed' }, fit.fixedMs / 1000);
        this.set({ route: route.route, term: 'per_input' }, fit.perInputMs / 1000);
        this.set({ route: route.route, term: 'per_byte' }, fit.perByteMs / 1000);
        this.set({ route: route.route, term: 'per_pad_byte' }, fit.padPerByteMs / 1000);
      }
    },
  });
}
