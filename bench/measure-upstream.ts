/**
 * One upstream's measurement, shared by the demo and the results benchmark: start the upstream
 * and the proxy as processes, warm both up, then measure individual requests through autobatch
 * and direct side by side, and client-side batches direct (the upper bound), and stop both.
 */
import { runBench, type BenchHooks, type BenchReport } from '../src/loadgen/index.js';
import type { Comparison } from './comparison-table.js';
import { primeServers } from './prime.js';
import type { RunningService, ServiceGroup } from './service-process.js';
import { autobatchProxy } from './service-specs.js';
import type { UpstreamCase } from './upstream-cases.js';

export interface MeasurePlan {
  /** Clients sending one input per request. */
  concurrency: readonly number[];
  /** Inputs per client-side batch. */
  batchSize: number;
  /** Clients sending client-side batches; none to skip them. */
  batchClients: readonly number[];
  durationSeconds: number;
  warmupSeconds: number;
  /** Unmeasured seconds of load on each side before the first level; 0 for none. */
  primeSeconds: number;
}

export interface UpstreamResult {
  upstream: UpstreamCase;
  comparison: Comparison;
}

function progressHooks(prefix: string, say: (line: string) => void): BenchHooks {
  return {
    onRunComplete: (run, level) => {
      const clients = level.mode === 'closed' ? `${level.concurrency} client(s)` : `${level.ratePerSecond}/s`;
      const side = run.role === 'baseline' ? 'direct' : prefix;
      say(`  ${clients}, ${side}: ${run.inputsPerSecond.toFixed(1)} inputs/s, ${run.errorCount} error(s)`);
    },
  };
}

export async function measureUpstream(
  upstreamCase: UpstreamCase,
  plan: MeasurePlan,
  services: ServiceGroup,
  say: (line: string) => void,
): Promise<UpstreamResult> {
  let upstream: RunningService | undefined;
  let proxy: RunningService | undefined;
  try {
    say(`starting ${upstreamCase.spec.name}…`);
    upstream = await services.start(upstreamCase.spec);
    say(`upstream: ${upstream.url} (pid ${upstream.pid})`);
    proxy = await services.start(autobatchProxy(upstream.url, upstreamCase.proxyArgs));
    say(`autobatch: ${proxy.url} (pid ${proxy.pid})`);
    const texts = upstreamCase.texts;
    if (plan.primeSeconds > 0) {
      say(`warming up the upstream and the proxy (${plan.primeSeconds * 2} s, not measured)…`);
      await primeServers({
        proxyUrl: proxy.url,
        upstreamUrl: upstream.url,
        texts: texts.texts,
        clients: Math.max(...plan.concurrency),
        seconds: plan.primeSeconds,
      });
    }
    say('measuring…');
    const common = {
      route: '/embed',
      texts: texts.texts,
      textsSource: texts.description,
      durationSeconds: plan.durationSeconds,
      warmupSeconds: plan.warmupSeconds,
    };
    const individual = await runBench(
      { ...common, url: proxy.url, baseline: upstream.url, inputsPerRequest: 1, concurrency: plan.concurrency },
      progressHooks('through autobatch', say),
    );
    let clientBatches: BenchReport | undefined;
    if (plan.batchClients.length > 0) {
      // A case with its own batch size keeps the plan's inputs in flight, with more clients.
      const batchSize = upstreamCase.clientBatchSize ?? plan.batchSize;
      const clients = plan.batchClients.map((count) => Math.max(1, Math.round((count * plan.batchSize) / batchSize)));
      clientBatches = await runBench(
        { ...common, url: upstream.url, inputsPerRequest: batchSize, concurrency: clients },
        progressHooks(`client batches of ${batchSize}, direct`, say),
      );
    }
    return { upstream: upstreamCase, comparison: { individual, clientBatches } };
  } finally {
    await proxy?.stop();
    await upstream?.stop();
  }
}
