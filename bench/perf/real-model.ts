/**
 * P4, a real model: the Universal Sentence Encoder upstream (bench/upstreams/use-tei-main.ts,
 * TF.js wasm on this machine's CPU, one model call per HTTP call, one at a time), 32 clients
 * sending one input each, through autobatch (defaults) and direct, side by side.
 *
 *   node --import tsx bench/perf/real-model.ts
 */
import { runBench } from '../../src/bench/index.js';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy, useModelUpstream } from '../service-specs.js';
import { fixed, isMain, proxyCommand, runStandalone, say, times, type PerfResult, type PerfTiming } from './perf-services.js';

const CLIENTS = 32;
// A loaded CPU makes a batch of 32 take seconds: short windows would hold a handful of batches.
const MIN_TIMING: PerfTiming = { durationSeconds: 15, warmupSeconds: 5 };

export async function measureRealModel(services: ServiceGroup, requested: PerfTiming): Promise<PerfResult> {
  const timing: PerfTiming = {
    durationSeconds: Math.max(requested.durationSeconds, MIN_TIMING.durationSeconds),
    warmupSeconds: Math.max(requested.warmupSeconds, MIN_TIMING.warmupSeconds),
  };
  say('P4: loading the Universal Sentence Encoder…');
  const upstream = await services.start(useModelUpstream());
  const proxy = await services.start(autobatchProxy(upstream.url));
  try {
    say(`P4: ${CLIENTS} clients, autobatch ${proxy.url} vs direct ${upstream.url}`);
    const report = await runBench({ url: proxy.url, baseline: upstream.url, concurrency: [CLIENTS], inputsPerRequest: 1, ...timing });
    const level = report.levels[0]!;
    const ratio = level.ratios?.requestsPerSecond ?? null;
    const errors = level.target.errorCount + (level.baseline?.errorCount ?? 0);
    const b = level.baseline;
    const t = level.target;
    const details = [
      '### P4 real model',
      '',
      `Upstream \`npx tsx bench/upstreams/use-tei-main.ts --port 8081\` (Universal Sentence Encoder, TF.js wasm, CPU); proxy \`${proxyCommand()}\`; ` +
        `${CLIENTS} clients, one input each, ${timing.durationSeconds} s measured per side. The model shares the machine's cores with the proxy and the load generator.`,
      '',
      '| | inputs/s | p50 / p99 ms | mean upstream batch | errors |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| direct | ${fixed(b?.inputsPerSecond ?? 0)} | ${fixed(b?.latencyMs?.p50 ?? 0, 1)} / ${fixed(b?.latencyMs?.p99 ?? 0, 1)} | 1 | ${b?.errorCount ?? '?'} |`,
      `| autobatch | ${fixed(t.inputsPerSecond)} | ${fixed(t.latencyMs?.p50 ?? 0, 1)} / ${fixed(t.latencyMs?.p99 ?? 0, 1)} | ${fixed(t.batchSize?.mean ?? 0, 1)} | ${t.errorCount} |`,
    ].join('\n');
    return {
      rows: [
        {
          id: 'P4',
          what: `real model (USE, CPU), ${CLIENTS} clients: autobatch ÷ direct, inputs/s`,
          target: '≥ 1.6×',
          measured: `${times(ratio)} (${fixed(t.inputsPerSecond, 0)} vs ${fixed(b?.inputsPerSecond ?? 0, 0)} inputs/s)${errors > 0 ? `, ${errors} errors` : ''}`,
          met: ratio !== null && ratio >= 1.6 && errors === 0,
        },
      ],
      details,
    };
  } finally {
    await proxy.stop();
    await upstream.stop();
  }
}

if (isMain(import.meta.url)) await runStandalone(measureRealModel);
