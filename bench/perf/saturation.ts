/**
 * P1, saturation: a GPU-like upstream (10 ms per call + 0.1 ms per input, one call at a time)
 * and 64 closed-loop clients sending one input each. Through autobatch (--max-batch-size 32) the
 * upstream should run full batches back to back: its own limit is 32 inputs per 10 + 0.1 x 32 ms.
 * Direct, each input is a call of its own. Both sides are measured side by side in one run.
 *
 *   node --import tsx bench/perf/saturation.ts
 */
import { runBench } from '../../src/loadgen/index.js';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy, simulatorFlags, teiSimulator } from '../service-specs.js';
import {
  GPU_LIKE,
  fixed,
  isMain,
  percent,
  cpuMeter,
  proxyCommand,
  runStandalone,
  say,
  times,
  type PerfResult,
  type PerfTiming,
} from './perf-services.js';

const CLIENTS = 64;
const SLACK_CLIENTS = 96;
const MAX_BATCH = 32;
export const SATURATION_PROXY_ARGS = ['--max-batch-size', String(MAX_BATCH)] as const;

/** The upstream's best: full batches back to back, computed from its cost flags. */
export function simulatorLimit(batch: number, cost: { perCallMs: number; perItemMs: number; slots: number }): number {
  return (cost.slots * batch * 1000) / (cost.perCallMs + cost.perItemMs * batch);
}

export async function measureSaturation(services: ServiceGroup, timing: PerfTiming): Promise<PerfResult> {
  const upstream = await services.start(teiSimulator(GPU_LIKE));
  const proxy = await services.start(autobatchProxy(upstream.url, SATURATION_PROXY_ARGS));
  try {
    say(`P1: ${CLIENTS} clients, autobatch ${proxy.url} vs direct ${upstream.url}`);
    const proxyCpu = cpuMeter(proxy.pid);
    const report = await runBench({ url: proxy.url, baseline: upstream.url, concurrency: [CLIENTS], inputsPerRequest: 1, ...timing }, proxyCpu.hooks);
    const cpuShare = proxyCpu.share();
    // The same upstream fed full batches by two clients: what this machine lets the simulator
    // reach at all (its timers run late on a loaded machine), next to the computed limit.
    const fed = await runBench({ url: upstream.url, concurrency: [2], inputsPerRequest: MAX_BATCH, ...timing });
    const fedInputs = fed.levels[0]!.target.inputsPerSecond;
    // 64 clients are exactly two batches: while one runs, the other must come back whole before
    // the upstream frees. Half a batch more of clients gives the proxy slack to fill the next one.
    const slack = await runBench({ url: proxy.url, concurrency: [SLACK_CLIENTS], inputsPerRequest: 1, ...timing });
    const slackLevel = slack.levels[0]!.target;
    const level = report.levels[0]!;
    const through = level.target.inputsPerSecond;
    const direct = level.baseline?.inputsPerSecond ?? 0;
    const limit = simulatorLimit(MAX_BATCH, GPU_LIKE);
    const share = through / limit;
    const ratio = level.ratios?.requestsPerSecond ?? null;
    const errors = level.target.errorCount + (level.baseline?.errorCount ?? 0);
    const details = [
      '### P1 saturation',
      '',
      `Simulator \`${simulatorFlags(GPU_LIKE)}\`; limit ${MAX_BATCH} / (${GPU_LIKE.perCallMs} + ${GPU_LIKE.perItemMs} × ${MAX_BATCH}) ms = ${fixed(limit, 0)} inputs/s. ` +
        `Proxy \`${proxyCommand(SATURATION_PROXY_ARGS)}\`. ${CLIENTS} clients, one input each, ${timing.durationSeconds} s measured per side.`,
      '',
      '| | inputs/s | p50 / p99 ms | mean upstream batch | errors |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| direct | ${fixed(direct)} | ${fixed(level.baseline?.latencyMs?.p50 ?? 0, 2)} / ${fixed(level.baseline?.latencyMs?.p99 ?? 0, 2)} | 1 | ${level.baseline?.errorCount ?? '?'} |`,
      `| autobatch | ${fixed(through)} | ${fixed(level.target.latencyMs?.p50 ?? 0, 2)} / ${fixed(level.target.latencyMs?.p99 ?? 0, 2)} | ${fixed(level.target.batchSize?.mean ?? 0, 1)} | ${level.target.errorCount} |`,
      `| 2 clients × ${MAX_BATCH} inputs, direct | ${fixed(fedInputs)} | ${fixed(fed.levels[0]!.target.latencyMs?.p50 ?? 0, 2)} / ${fixed(fed.levels[0]!.target.latencyMs?.p99 ?? 0, 2)} | ${MAX_BATCH} | ${fed.levels[0]!.target.errorCount} |`,
      `| ${SLACK_CLIENTS} clients, autobatch | ${fixed(slackLevel.inputsPerSecond)} | ${fixed(slackLevel.latencyMs?.p50 ?? 0, 2)} / ${fixed(slackLevel.latencyMs?.p99 ?? 0, 2)} | ${fixed(slackLevel.batchSize?.mean ?? 0, 1)} | ${slackLevel.errorCount} |`,
      '',
      `Upstream calls through autobatch: ${fixed(through / (level.target.batchSize?.mean ?? 1), 1)}/s, one every ${fixed((1000 * (level.target.batchSize?.mean ?? 1)) / through, 2)} ms against ${fixed(GPU_LIKE.perCallMs + GPU_LIKE.perItemMs * MAX_BATCH, 1)} ms of work per full call. ` +
        `autobatch = ${fixed(share * 100)}% of the simulator's limit, ${times(ratio)} direct; full batches sent directly reach ${fixed((fedInputs / limit) * 100)}% of the limit on this machine. ` +
        `While autobatch was measured the proxy process used ${percent(cpuShare)} of a core and ` +
        `the load generator's event loop was busy ${percent(level.target.clientEventLoopUtilization)} while autobatch was measured.`,
    ].join('\n');
    return {
      rows: [
        {
          id: 'P1',
          what: `saturation, GPU-like simulator, ${CLIENTS} clients: autobatch inputs/s ÷ simulator limit (${fixed(limit, 0)}/s)`,
          target: '≥ 90%',
          measured: `${fixed(share * 100)}% (${fixed(through, 0)} inputs/s)${errors > 0 ? `, ${errors} errors` : ''}`,
          met: share >= 0.9 && errors === 0,
        },
        {
          id: 'P1',
          what: `saturation: autobatch ÷ direct, inputs/s`,
          target: '≥ 10×',
          measured: `${times(ratio)} (direct ${fixed(direct, 0)} inputs/s)`,
          met: ratio !== null && ratio >= 10 && errors === 0,
        },
        {
          id: 'P1',
          what: `context: autobatch with ${SLACK_CLIENTS} clients (half a batch of slack) ÷ simulator limit`,
          target: '–',
          measured: `${fixed((slackLevel.inputsPerSecond / limit) * 100)}% (${fixed(slackLevel.inputsPerSecond, 0)} inputs/s)`,
          met: null,
        },
        {
          id: 'P1',
          what: `context: the simulator fed full batches of ${MAX_BATCH} directly (2 clients) ÷ its limit`,
          target: '–',
          measured: `${fixed((fedInputs / limit) * 100)}% (${fixed(fedInputs, 0)} inputs/s)`,
          met: null,
        },
      ],
      details,
    };
  } finally {
    await proxy.stop();
    await upstream.stop();
  }
}

if (isMain(import.meta.url)) await runStandalone(measureSaturation);
