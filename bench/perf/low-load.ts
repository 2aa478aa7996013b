/**
 * P2, low load: what the proxy adds to a request's latency when there is little to batch. The
 * GPU-like simulator, one client (and 8 and 16), through autobatch with its defaults and with
 * --max-wait-ms 10, each measured side by side with direct. The figure is the median latency
 * through autobatch minus the median direct, in the same run.
 *
 * The same figure for a plain http-proxy-3 pass-through (bench/perf/plain-proxy.ts) at one
 * client, and for both proxies in front of a zero-cost upstream, says how much of it is the extra
 * HTTP hop (which any proxy pays) and how much is autobatch's own.
 *
 *   node --import tsx bench/perf/low-load.ts
 */
import { runBench, type LevelReport } from '../../src/loadgen/index.js';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy, simulatorFlags, teiSimulator } from '../service-specs.js';
import {
  GPU_LIKE,
  fixed,
  isMain,
  plainProxy,
  proxyCommand,
  runStandalone,
  say,
  times,
  zeroCostSimulator,
  type PerfResult,
  type PerfTiming,
  type TargetRow,
} from './perf-services.js';
import type { ServiceSpec } from '../service-process.js';

const LEVELS = [1, 8, 16];
const MAX_ADDED_MS = 1;
const ZERO_COST_DIMENSIONS = 768;

interface ProxyConfig {
  label: string;
  spec(upstreamUrl: string): ServiceSpec;
  levels: readonly number[];
  /** Whether the P2 target applies (autobatch) or the row is context (the plain proxy). */
  target: boolean;
}

const GPU_CONFIGS: readonly ProxyConfig[] = [
  { label: 'autobatch, defaults', spec: (url) => autobatchProxy(url), levels: LEVELS, target: true },
  { label: 'autobatch, --max-wait-ms 10', spec: (url) => autobatchProxy(url, ['--max-wait-ms', '10']), levels: LEVELS, target: true },
  { label: 'plain http-proxy-3', spec: plainProxy, levels: [1], target: false },
];
const ZERO_COST_CONFIGS: readonly ProxyConfig[] = [
  { label: 'autobatch, defaults', spec: (url) => autobatchProxy(url), levels: [1], target: false },
  { label: 'plain http-proxy-3', spec: plainProxy, levels: [1], target: false },
];

function addedP50(level: LevelReport): number | null {
  const through = level.target.latencyMs?.p50;
  const direct = level.baseline?.latencyMs?.p50;
  return through === undefined || direct === undefined ? null : through - direct;
}

const signed = (ms: number | null): string => (ms === null ? '?' : `${ms >= 0 ? '+' : ''}${fixed(ms, 2)} ms`);

export async function measureLowLoad(services: ServiceGroup, timing: PerfTiming): Promise<PerfResult> {
  const rows: TargetRow[] = [];
  const table = [
    '| upstream | proxy | clients | direct p50 ms | proxied p50 ms | added p50 ms | proxied ÷ direct p99 | proxied ÷ direct inputs/s | mean batch | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const upstreams: ReadonlyArray<{ name: string; spec: ServiceSpec; configs: readonly ProxyConfig[] }> = [
    { name: 'GPU-like', spec: teiSimulator(GPU_LIKE), configs: GPU_CONFIGS },
    { name: 'zero-cost', spec: zeroCostSimulator(ZERO_COST_DIMENSIONS), configs: ZERO_COST_CONFIGS },
  ];
  for (const { name, spec, configs } of upstreams) {
    const upstream = await services.start(spec);
    try {
      for (const config of configs) {
        const proxy = await services.start(config.spec(upstream.url));
        try {
          say(`P2: ${name} upstream, ${config.label} vs direct at ${config.levels.join(', ')} client(s)`);
          const report = await runBench({ url: proxy.url, baseline: upstream.url, concurrency: [...config.levels], inputsPerRequest: 1, ...timing });
          for (const level of report.levels) {
            const clients = level.level.mode === 'closed' ? level.level.concurrency : 0;
            const added = addedP50(level);
            const errors = level.target.errorCount + (level.baseline?.errorCount ?? 0);
            const batch = level.target.batchSize ? fixed(level.target.batchSize.mean, 1) : '–';
            table.push(
              `| ${name} | ${config.label} | ${clients} | ${fixed(level.baseline?.latencyMs?.p50 ?? 0, 2)} | ${fixed(level.target.latencyMs?.p50 ?? 0, 2)} | ` +
                `${added === null ? '–' : fixed(added, 2)} | ${times(level.ratios?.p99)} | ${times(level.ratios?.requestsPerSecond)} | ${batch} | ${errors} |`,
            );
            if (clients !== 1 && !config.target) continue;
            const measured = `${signed(added)} (direct p50 ${fixed(level.baseline?.latencyMs?.p50 ?? 0, 2)} ms); inputs/s ${times(level.ratios?.requestsPerSecond)} direct`;
            const applies = config.target && clients === 1;
            rows.push({
              id: 'P2',
              what: `low load, ${name} upstream, ${clients} client${clients === 1 ? '' : 's'}, ${config.label}: added median latency`,
              target: applies ? `≤ ${MAX_ADDED_MS} ms` : '–',
              measured: errors > 0 ? `${measured}, ${errors} errors` : measured,
              met: applies ? added !== null && added <= MAX_ADDED_MS && errors === 0 : null,
            });
          }
        } finally {
          await proxy.stop();
        }
      }
    } finally {
      await upstream.stop();
    }
  }
  const details = [
    '### P2 low load',
    '',
    `GPU-like simulator \`${simulatorFlags(GPU_LIKE)}\`; zero-cost simulator (no cost model, ${ZERO_COST_DIMENSIONS} dimensions); ` +
      `proxy \`${proxyCommand()}\` and with \`--max-wait-ms 10\`; plain proxy \`node --import tsx bench/perf/plain-proxy.ts\`; one input per request, ` +
      `${timing.durationSeconds} s measured per side and level; added p50 = proxied p50 − direct p50 of the same level. The plain proxy's rows ` +
      'show what one more HTTP hop costs on this machine whatever the proxy does.',
    '',
    ...table,
  ].join('\n');
  return { rows, details };
}

if (isMain(import.meta.url)) await runStandalone(measureLowLoad);
