/**
 * P3, what the proxy's own work costs: a zero-cost simulator (no cost model, 768-dimension
 * vectors, so answers are as large as a real model's) at saturation, one input per request.
 * autobatch against a plain http-proxy-3 pass-through (bench/perf/plain-proxy.ts) of the same
 * requests to the same upstream, side by side. With nothing to wait for upstream, the proxies'
 * CPU is what limits both: a ratio >= 1 means batching pays for its own parsing, merging and
 * splitting.
 *
 *   node --import tsx bench/perf/proxy-cost.ts
 */
import { runBench, type BenchProgress, type LevelReport } from '../../src/loadgen/index.js';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy } from '../service-specs.js';
import {
  fixed,
  isMain,
  percent,
  cpuMeter,
  proxyCommand,
  runStandalone,
  say,
  times,
  plainProxy,
  zeroCostSimulator,
  type PerfResult,
  type PerfTiming,
  type TargetRow,
} from './perf-services.js';

export const PROXY_COST_LEVELS = [64, 256];
export const PROXY_COST_DIMENSIONS = 768;

export async function measureProxyCost(services: ServiceGroup, timing: PerfTiming): Promise<PerfResult> {
  const upstream = await services.start(zeroCostSimulator(PROXY_COST_DIMENSIONS));
  const plain = await services.start(plainProxy(upstream.url));
  const proxy = await services.start(autobatchProxy(upstream.url));
  const rows: TargetRow[] = [];
  const eventLoop: string[] = [];
  const cpuShares: string[] = [];
  const table = [
    '| clients | plain proxy inputs/s | autobatch inputs/s | autobatch ÷ plain | p50 ms plain / autobatch | p99 ms plain / autobatch | mean batch | errors |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  try {
    say(`P3: autobatch ${proxy.url} vs plain proxy ${plain.url}, zero-cost upstream ${upstream.url}`);
    // One bench per level, so that each level's proxy CPU share is its own.
    const levels: LevelReport[] = [];
    const cpu: string[] = [];
    for (const clients of PROXY_COST_LEVELS) {
      const autobatchCpu = cpuMeter(proxy.pid, 'target');
      const plainCpu = cpuMeter(plain.pid, 'baseline');
      const hooks = { onProgress: (progress: BenchProgress) => [autobatchCpu, plainCpu].forEach((meter) => meter.hooks.onProgress?.(progress)) };
      const bench = await runBench({ url: proxy.url, baseline: plain.url, concurrency: [clients], inputsPerRequest: 1, ...timing }, hooks);
      levels.push(bench.levels[0]!);
      cpu.push(`${percent(plainCpu.share())} / ${percent(autobatchCpu.share())}`);
    }
    cpuShares.push(...cpu);
    const report = { levels };
    eventLoop.push(
      ...report.levels.map(
        (level) => `${percent(level.baseline?.clientEventLoopUtilization ?? null)} / ${percent(level.target.clientEventLoopUtilization)}`,
      ),
    );
    for (const level of report.levels) {
      const clients = level.level.mode === 'closed' ? level.level.concurrency : 0;
      const ratio = level.ratios?.requestsPerSecond ?? null;
      const errors = level.target.errorCount + (level.baseline?.errorCount ?? 0);
      const b = level.baseline;
      const t = level.target;
      table.push(
        `| ${clients} | ${fixed(b?.inputsPerSecond ?? 0, 0)} | ${fixed(t.inputsPerSecond, 0)} | ${times(ratio)} | ` +
          `${fixed(b?.latencyMs?.p50 ?? 0, 2)} / ${fixed(t.latencyMs?.p50 ?? 0, 2)} | ${fixed(b?.latencyMs?.p99 ?? 0, 2)} / ${fixed(t.latencyMs?.p99 ?? 0, 2)} | ` +
          `${fixed(t.batchSize?.mean ?? 0, 1)} | ${errors} |`,
      );
      rows.push({
        id: 'P3',
        what: `proxy cost, zero-cost simulator (${PROXY_COST_DIMENSIONS} dims), ${clients} clients: autobatch ÷ plain http-proxy-3, inputs/s`,
        target: '≥ 1.0×',
        measured: `${times(ratio)} (${fixed(t.inputsPerSecond, 0)} vs ${fixed(b?.inputsPerSecond ?? 0, 0)} inputs/s)${errors > 0 ? `, ${errors} errors` : ''}`,
        met: ratio !== null && ratio >= 1 && errors === 0,
      });
    }
  } finally {
    await proxy.stop();
    await plain.stop();
    await upstream.stop();
  }
  const details = [
    '### P3 proxy cost',
    '',
    `Simulator \`node dist-sim/sim/main.js --dimensions ${PROXY_COST_DIMENSIONS}\` (no cost flags); autobatch \`${proxyCommand()}\`; ` +
      `plain proxy \`node --import tsx bench/perf/plain-proxy.ts --upstream http://127.0.0.1:8081\`. One input per request, ` +
      `${timing.durationSeconds} s measured per side and level. The load generator, both proxies and the simulator share this machine's cores.`,
    '',
    ...table,
    '',
    `The load generator's event loop was busy (plain / autobatch side): ${eventLoop.map((e, i) => `${PROXY_COST_LEVELS[i]} clients ${e}`).join('; ')}. ` +
      `CPU of the proxy process while its side was measured, plain / autobatch, in % of one core: ${cpuShares.map((c, i) => `${PROXY_COST_LEVELS[i]} clients ${c}`).join('; ')}.`,
  ].join('\n');
  return { rows, details };
}

if (isMain(import.meta.url)) await runStandalone(measureProxyCost);
