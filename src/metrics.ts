/**
 * Prometheus metrics served at /autobatch/metrics. A registry of its own (not prom-client's
 * global one), so several proxies in one process (tests, the library API) never collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  queuedItems(): number;
  inflight(): number;
  /** The upstream replicas as they are now (as resolved, with DNS discovery). */
  replicas?(): readonly { url: string; address?: string; healthy: boolean; outstanding: number }[];
  /** Bytes counted in the memory budget now (--max-memory-bytes). */
  memoryHeldBytes?(): number;
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
        for (const replica of sources.replicas?.() ?? []) this.set({ upstream: replica.url, address: replica.address ?? '' }, replica.healthy ? 1 : 0);
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
    collectDefaultMetrics({ register: this.registry, prefix: 'autobatch_process_' });
  }
}
