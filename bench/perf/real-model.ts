/**
 * P4, a real model: the Universal Sentence Encoder upstream (bench/upstreams/use-tei-main.ts,
 * TF.js wasm on this machine's CPU, one model call per HTTP call, one at a time), 32 clients
 * sending one input each, through autobatch and direct, side by side. The model pads every input
 * of a batch to the longest one, so the figure depends on the spread of text lengths: it is
 * measured with short texts and with mixed texts, each with autobatch's defaults, with
 * --bucket-by-length 2, and with that and --max-batch-size 8. Before that, the model's own
 * ceiling (bench/perf/model-ceiling.ts): what batches gain on it with no HTTP at all, which
 * bounds what any proxy can reach.
 *
 *   node --import tsx bench/perf/real-model.ts
 */
import { runBench } from '../../src/loadgen/index.js';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy, useModelUpstream } from '../service-specs.js';
import { primeServers } from '../prime.js';
import { TEXT_SETS, type TextSet } from '../text-sets.js';
import { measureModelCeiling } from './model-ceiling.js';
import { fixed, isMain, proxyCommand, runStandalone, say, times, type PerfResult, type PerfTiming, type TargetRow } from './perf-services.js';

const CLIENTS = 32;
const TARGET = 1.6;
// A loaded CPU makes a batch of 32 take seconds: short windows would hold a handful of batches.
const MIN_TIMING: PerfTiming = { durationSeconds: 15, warmupSeconds: 5 };
const CONFIGS: ReadonlyArray<{ label: string; args: readonly string[] }> = [
  { label: 'defaults', args: [] },
  { label: '--bucket-by-length 2', args: ['--bucket-by-length', '2'] },
  // The model's best batch size is 8 (see the ceiling): buckets with batches of that size.
  { label: '--bucket-by-length 2 --max-batch-size 8', args: ['--bucket-by-length', '2', '--max-batch-size', '8'] },
];

export async function measureRealModel(services: ServiceGroup, requested: PerfTiming): Promise<PerfResult> {
  const timing: PerfTiming = {
    durationSeconds: Math.max(requested.durationSeconds, MIN_TIMING.durationSeconds),
    warmupSeconds: Math.max(requested.warmupSeconds, MIN_TIMING.warmupSeconds),
  };
  const sets: readonly TextSet[] = [TEXT_SETS.short, TEXT_SETS.mixed];
  say('P4: the model alone, no HTTP: single calls against batches of 32 and 8 (about 80 s)…');
  const ceilings = await measureModelCeiling(sets);
  const rows: TargetRow[] = [];
  const ceilingTable = [
    '| texts | single calls, inputs/s | batches of 32 in arrival order | batches of 32 sorted by length | batches of 8 sorted by length | best ÷ single |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const ceiling of ceilings) {
    const best = Math.max(ceiling.batchedInputsPerSecond, ceiling.sortedInputsPerSecond, ceiling.sortedSmallInputsPerSecond);
    const ratio = best / ceiling.singleInputsPerSecond;
    ceilingTable.push(
      `| ${ceiling.texts.key} | ${fixed(ceiling.singleInputsPerSecond)} | ${fixed(ceiling.batchedInputsPerSecond)} | ` +
        `${fixed(ceiling.sortedInputsPerSecond)} | ${fixed(ceiling.sortedSmallInputsPerSecond)} | ${times(ratio)} |`,
    );
    rows.push({
      id: 'P4',
      what: `context: the model alone (no HTTP), ${ceiling.texts.key} texts: best batches (sorted by length) ÷ single calls, inputs/s`,
      target: '–',
      measured: `${times(ratio)} (${fixed(best, 0)} vs ${fixed(ceiling.singleInputsPerSecond, 0)} inputs/s); batches of 32 in arrival order ${times(ceiling.batchedInputsPerSecond / ceiling.singleInputsPerSecond)}`,
      met: null,
    });
  }

  say('P4: loading the Universal Sentence Encoder upstream…');
  const upstream = await services.start(useModelUpstream());
  const table = [
    '| texts | proxy | direct inputs/s | autobatch inputs/s | ratio | direct p50 / p99 ms | autobatch p50 / p99 ms | mean upstream batch | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  try {
    let primed = false;
    for (const texts of sets) {
      for (const config of CONFIGS) {
        const proxy = await services.start(autobatchProxy(upstream.url, config.args));
        try {
          if (!primed) {
            say('P4: priming the model upstream (unmeasured, 10 s per side)…');
            await primeServers({ proxyUrl: proxy.url, upstreamUrl: upstream.url, texts: TEXT_SETS.mixed.texts, clients: CLIENTS, seconds: 10 });
            primed = true;
          }
          say(`P4: ${texts.key} texts, autobatch (${config.label}) vs direct, ${CLIENTS} clients`);
          const report = await runBench({
            url: proxy.url,
            baseline: upstream.url,
            concurrency: [CLIENTS],
            inputsPerRequest: 1,
            texts: texts.texts,
            ...timing,
          });
          const level = report.levels[0]!;
          const ratio = level.ratios?.requestsPerSecond ?? null;
          const b = level.baseline;
          const t = level.target;
          const errors = t.errorCount + (b?.errorCount ?? 0);
          table.push(
            `| ${texts.key} | ${config.label} | ${fixed(b?.inputsPerSecond ?? 0)} | ${fixed(t.inputsPerSecond)} | ${times(ratio)} | ` +
              `${fixed(b?.latencyMs?.p50 ?? 0, 0)} / ${fixed(b?.latencyMs?.p99 ?? 0, 0)} | ${fixed(t.latencyMs?.p50 ?? 0, 0)} / ${fixed(t.latencyMs?.p99 ?? 0, 0)} | ` +
              `${fixed(t.batchSize?.mean ?? 0, 1)} | ${errors} |`,
          );
          rows.push({
            id: 'P4',
            what: `real model (USE, CPU), ${CLIENTS} clients, ${texts.key} texts, autobatch ${config.label}: autobatch ÷ direct, inputs/s`,
            target: `≥ ${TARGET}×`,
            measured: `${times(ratio)} (${fixed(t.inputsPerSecond, 0)} vs ${fixed(b?.inputsPerSecond ?? 0, 0)} inputs/s)${errors > 0 ? `, ${errors} errors` : ''}`,
            met: ratio !== null && ratio >= TARGET && errors === 0,
          });
        } finally {
          await proxy.stop();
        }
      }
    }
  } finally {
    await upstream.stop();
  }
  const details = [
    '### P4 real model',
    '',
    `Upstream \`npx tsx bench/upstreams/use-tei-main.ts --port 8081\` (Universal Sentence Encoder, TF.js wasm, CPU; pads every input of a ` +
      `batch to the longest); proxy \`${proxyCommand()}\`, with \`--bucket-by-length 2\`, and with that and \`--max-batch-size 8\`; ${CLIENTS} clients, one input each, ` +
      `${timing.durationSeconds} s measured per side after ${timing.warmupSeconds} s of warm-up. The model shares the machine's cores with the ` +
      'proxy and the load generator.',
    '',
    'First the model alone, in the benchmark process with no HTTP: every text of a set embedded by single calls, by batches of 32 in ' +
      "the set's order, and by batches of 32 and of 8 after sorting the whole set by length (the best grouping a batcher could make). " +
      'This bounds what any proxy can gain in front of this model on this machine.',
    '',
    ...ceilingTable,
    '',
    'Then through HTTP, after 10 s of unmeasured load on each side:',
    '',
    `- short texts: ${TEXT_SETS.short.detail}`,
    `- mixed texts: ${TEXT_SETS.mixed.detail}`,
    '',
    ...table,
  ].join('\n');
  return { rows, details };
}

if (isMain(import.meta.url)) await runStandalone(measureRealModel);
