/**
 * P2, low load: what the proxy adds to a request's latency when there is little to batch. The
 * GPU-like simulator, one client (and 8 and 16), through autobatch with its defaults and with
 * --max-wait-ms 10, each measured side by side with direct. The figure is the median latency
 * through autobatch minus the median direct, in the same run.
 *
 *   node --import tsx bench/perf/low-load.ts
 */
import { runBench, type LevelReport } from '../../src/bench/index.js';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy, simulatorFlags, teiSimulator } from '../service-specs.js';
import { GPU_LIKE, fixed, isMain, proxyCommand, runStandalone, say, times, type PerfResult, type PerfTiming, type TargetRow } from './perf-services.js';

const LEVELS = [1, 8, 16];
const CONFIGS: ReadonlyArray<{ label: string; args: readonly string[] }> = [
  { label: 'defaults', args: [] },
  { label: '--max-wait-ms 10', args: ['--max-wait-ms', '10'] },
];
const MAX_ADDED_MS = 1;

function addedP50(level: LevelReport): number | null {
  const through = level.target.latencyMs?.p50;
  const direct = level.baseline?.latencyMs?.p50;
  return through === undefined || direct === undefined ? null : through - direct;
}

export async function measureLowLoad(services: ServiceGroup, timing: PerfTiming): Promise<PerfResult> {
  const upstream = await services.start(teiSimulator(GPU_LIKE));
  const rows: TargetRow[] = [];
  const table = [
    '| proxy | clients | direct p50 ms | autobatch p50 ms | added p50 ms | autobatch ÷ direct p99 | autobatch ÷ direct inputs/s | mean batch | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  try {
    for (const config of CONFIGS) {
      const proxy = await services.start(autobatchProxy(upstream.url, config.args));
      try {
        say(`P2: autobatch (${config.label}) vs direct at ${LEVELS.join(', ')} clients`);
        const report = await runBench({ url: proxy.url, baseline: upstream.url, concurrency: LEVELS, inputsPerRequest: 1, ...timing });
        for (const level of report.levels) {
          const clients = level.level.mode === 'closed' ? level.level.concurrency : 0;
          const added = addedP50(level);
          const errors = level.target.errorCount + (level.baseline?.errorCount ?? 0);
          table.push(
            `| ${config.label} | ${clients} | ${fixed(level.baseline?.latencyMs?.p50 ?? 0, 2)} | ${fixed(level.target.latencyMs?.p50 ?? 0, 2)} | ` +
              `${added === null ? '–' : fixed(added, 2)} | ${times(level.ratios?.p99)} | ${times(level.ratios?.requestsPerSecond)} | ` +
              `${fixed(level.target.batchSize?.mean ?? 0, 1)} | ${errors} |`,
          );
          const measured = `${added === null ? '?' : `${added >= 0 ? '+' : ''}${fixed(added, 2)} ms`} (direct p50 ${fixed(level.baseline?.latencyMs?.p50 ?? 0, 2)} ms); inputs/s ${times(level.ratios?.requestsPerSecond)} direct`;
          rows.push({
            id: 'P2',
            what: `low load, GPU-like simulator, ${clients} client${clients === 1 ? '' : 's'}, autobatch ${config.label}: added median latency`,
            target: clients === 1 ? `≤ ${MAX_ADDED_MS} ms` : '–',
            measured: errors > 0 ? `${measured}, ${errors} errors` : measured,
            met: clients === 1 ? added !== null && added <= MAX_ADDED_MS && errors === 0 : null,
          });
        }
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
  const details = [
    '### P2 low load',
    '',
    `Simulator \`${simulatorFlags(GPU_LIKE)}\`; proxy \`${proxyCommand()}\` and with \`--max-wait-ms 10\`; one input per request, ` +
      `${timing.durationSeconds} s measured per side and level; added p50 = autobatch p50 − direct p50 of the same level.`,
    '',
    ...table,
  ].join('\n');
  return { rows, details };
}

if (isMain(import.meta.url)) await runStandalone(measureLowLoad);
