/**
 * `npm run bench:results`: the benchmark behind the "Benchmark results" of docs/benchmarks.md.
 *
 * For each upstream it starts the upstream and the proxy (each its own process, on free ports)
 * and measures, in one run:
 *   1. individual requests (one input each), through autobatch and direct, side by side at each
 *      client count (the ratios);
 *   2. client-side batches sent directly (the upper bound a client could reach by batching
 *      itself), with fewer clients so that inputs in flight match the columns of 1.
 * Inputs/s is the unit comparable across all rows.
 *
 * Upstreams:
 *   model-short, model-short-batch8, model-short-buckets, model-mixed, model-mixed-buckets
 *              the real model (Universal Sentence Encoder on TF.js wasm), one model call per
 *              HTTP call, one call at a time: a plain inference server; with short texts, and
 *              with a mix of short texts and paragraphs (its batches are padded to the longest
 *              input, so the mix decides whether batching pays); batch8: the proxy and the
 *              client batches limited to 8 inputs, this model's best batch size; buckets:
 *              the proxy with --bucket-by-length 2;
 *   gpu        the TEI simulator as a GPU-like server: 10 ms per call + 0.1 ms per item, one
 *              call at a time, no batching across calls;
 *   tei        the same simulator batching across calls itself, as TEI does (--merge);
 *   tei-inflight4
 *              the same, with the proxy's calls in flight pinned to 4 (--max-inflight 4);
 *   cpu-pad    the simulator as a CPU server that pads each batch to its longest input
 *              (2 ms per call + 0.05 ms per word of count × longest).
 *
 *   npm run bench:results -- [--out /tmp/autobatch-results] [--upstreams model-short,...]
 *     [--concurrency 1,8,32,128] [--batch-size 32] [--batch-clients 1,4] [--duration 10]
 *     [--warmup 2] [--quiet-below 0.7] [--no-build]
 *
 * Prints Markdown on stdout; writes each bench report as JSON and SVG, a summary JSON, the
 * Markdown and a chart of all panels (results.svg) under --out.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderJsonReport, renderSvgChart, type BenchReport } from '../src/loadgen/index.js';
import { VERSION } from '../src/version.js';
import { comparisonSummary, renderComparisonTable, renderWarnings } from './comparison-table.js';
import { ensureBuild } from './ensure-build.js';
import { measureUpstream, type MeasurePlan, type UpstreamResult } from './measure-upstream.js';
import { renderResultsChart } from './results-chart.js';
import { say, waitForQuiet } from './script-io.js';
import { runBenchScript } from './script-main.js';
import { REPO_ROOT } from './service-specs.js';
import type { TextSet } from './text-sets.js';
import { UPSTREAM_CASES, upstreamCases, type UpstreamCase } from './upstream-cases.js';

interface ResultsOptions extends MeasurePlan {
  out: string;
  upstreams: UpstreamCase[];
  quietBelow: number | null;
  build: boolean;
}

const USAGE = `Usage: npm run bench:results -- [options]
  --out <dir>             where JSON, SVG and Markdown go (default /tmp/autobatch-results)
  --upstreams <list>      model-short,model-short-batch8,model-short-buckets,model-mixed,
                          model-mixed-buckets,gpu,tei,tei-inflight4,cpu-pad or a
                          subset (default all)
  --concurrency <list>    clients sending individual requests (default 1,8,32,128)
  --batch-size <n>        inputs per client-side batch (default 32)
  --batch-clients <list>  clients sending client-side batches (default 1,4)
  --duration <s>          measured seconds per level and side (default 10)
  --warmup <s>            unmeasured seconds before each measurement (default 2)
  --prime <s>             unmeasured seconds of load on each side before the first level,
                          to warm the model and the proxy up (default 5)
  --quiet-below <load>    before starting, wait (up to 5 min) for the 1-minute load average
                          to drop below this (default: do not wait)
  --no-build              do not build dist/ even if it is missing or older than src/`;

function numberList(flag: string, text: string): number[] {
  return text.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isInteger(value) || value < 1 || value > 1000) throw new Error(`${flag} needs integers from 1 to 1000, got ${part}`);
    return value;
  });
}

function seconds(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > 600) throw new Error(`${flag} needs seconds from ${min} to 600, got ${text}`);
  return value;
}

function parseOptions(argv: string[]): ResultsOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      out: { type: 'string', default: '/tmp/autobatch-results' },
      upstreams: { type: 'string', default: UPSTREAM_CASES.map((upstream) => upstream.key).join(',') },
      concurrency: { type: 'string', default: '1,8,32,128' },
      'batch-size': { type: 'string', default: '32' },
      'batch-clients': { type: 'string', default: '1,4' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      prime: { type: 'string', default: '5' },
      'quiet-below': { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const upstreams = upstreamCases(values.upstreams);
  const [batchSize] = numberList('--batch-size', values['batch-size']);
  let quietBelow: number | null = null;
  if (values['quiet-below'] !== undefined) {
    quietBelow = Number(values['quiet-below']);
    if (!Number.isFinite(quietBelow) || quietBelow <= 0) throw new Error(`--quiet-below needs a positive load average, got ${values['quiet-below']}`);
  }
  return {
    out: values.out,
    upstreams,
    concurrency: numberList('--concurrency', values.concurrency),
    batchSize: batchSize as number,
    batchClients: numberList('--batch-clients', values['batch-clients']),
    durationSeconds: seconds('--duration', values.duration, 0.1),
    warmupSeconds: seconds('--warmup', values.warmup, 0),
    primeSeconds: seconds('--prime', values.prime, 0),
    quietBelow,
    build: !values['no-build'],
  };
}

const QUIET_WAIT_LIMIT_MS = 5 * 60_000;

/** The texts as a --texts file, for the commands that reproduce a section by hand. */
function textsFileName(texts: TextSet): string {
  return `${texts.key}-texts.txt`;
}

function benchCommands(upstreamCase: UpstreamCase, options: ResultsOptions): string[] {
  const textsFlag = upstreamCase.texts.key === 'mixed' ? '' : ` --texts ${join(options.out, textsFileName(upstreamCase.texts))}`;
  const timing = `--duration ${options.durationSeconds} --warmup ${options.warmupSeconds}${textsFlag}`;
  const batchSize = upstreamCase.clientBatchSize ?? options.batchSize;
  const batchClients = options.batchClients.map((count) => Math.max(1, Math.round((count * options.batchSize) / batchSize)));
  return [
    upstreamCase.command,
    ['node bin/autobatch.js --upstream http://127.0.0.1:8081 --port 3000', ...(upstreamCase.proxyArgs ?? [])].join(' '),
    `node bin/autobatch.js bench --url http://127.0.0.1:3000 --baseline http://127.0.0.1:8081 --concurrency ${options.concurrency.join(',')} ${timing}`,
    `node bin/autobatch.js bench --url http://127.0.0.1:8081 --inputs-per-request ${batchSize} --concurrency ${batchClients.join(',')} ${timing}`,
  ];
}

function renderSection(result: UpstreamResult, index: number, options: ResultsOptions): string {
  const { individual } = result.comparison;
  const reports = [individual, result.comparison.clientBatches].filter((report) => report !== undefined);
  const loads = reports.map((report) => report.machine.loadAverage[0]?.toFixed(2) ?? '?');
  const finishedAt = reports[reports.length - 1]?.finishedAt ?? individual.finishedAt;
  const lines = [
    `### ${index + 1}. ${result.upstream.title}`,
    '',
    result.upstream.description,
    '',
    renderComparisonTable(result.comparison),
    '',
    `Measured ${individual.startedAt} to ${finishedAt}; 1-minute load average ${loads.join(' and ')} at the start of the bench runs.`,
    '',
    'Equivalent commands (the script uses free ports):',
    '',
    '```sh',
    ...benchCommands(result.upstream, options),
    '```',
  ];
  const warnings = renderWarnings(result.comparison);
  if (warnings.length > 0) lines.push('', 'Warnings from the bench:', ...warnings);
  return lines.join('\n');
}

function renderPreamble(options: ResultsOptions, report: BenchReport): string {
  const { machine } = report;
  return [
    '## Benchmark results',
    '',
    `- machine: ${machine.cores} × ${machine.cpuModel}, ${Math.round(machine.totalMemoryBytes / 2 ** 30)} GiB, ${machine.platform}/${machine.arch}, node ${machine.node}; autobatch ${VERSION}`,
    `- POST /embed, closed loop, ${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up per level and side; ` +
      'direct and through autobatch alternate which goes first at each level; ' +
      `${options.primeSeconds} s of unmeasured load on each side before the first level (the model runs slower for its first few hundred calls)`,
    '- autobatch with no tuning flags unless a section says otherwise: adaptive dispatch (calls in flight, batch size and length buckets learned from the calls it makes, docs/dispatch.md), max batch from the upstream’s /info (32), hold at most 5 ms',
    `- inputs in flight = clients × inputs per request; client batches of ${options.batchSize} with ${options.batchClients.join(' and ')} client(s) unless a section says otherwise`,
    '- ratios are autobatch ÷ direct, measured side by side in the same run',
  ].join('\n');
}

async function writeOutputs(results: readonly UpstreamResult[], markdown: string, options: ResultsOptions): Promise<void> {
  await mkdir(options.out, { recursive: true });
  for (const texts of new Set(results.map(({ upstream }) => upstream.texts))) {
    await writeFile(join(options.out, textsFileName(texts)), `${texts.texts.join('\n')}\n`);
  }
  for (const { upstream, comparison } of results) {
    await writeFile(join(options.out, `${upstream.key}-individual.json`), renderJsonReport(comparison.individual));
    await writeFile(join(options.out, `${upstream.key}-individual.svg`), await renderSvgChart(comparison.individual));
    if (comparison.clientBatches !== undefined) {
      await writeFile(join(options.out, `${upstream.key}-client-batches.json`), renderJsonReport(comparison.clientBatches));
    }
  }
  const summary = {
    tool: 'bench/results.ts',
    autobatch: VERSION,
    options: { ...options, upstreams: options.upstreams.map((upstream) => upstream.key) },
    upstreams: results.map(({ upstream, comparison }) => ({ key: upstream.key, title: upstream.title, columns: comparisonSummary(comparison) })),
  };
  await writeFile(join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(options.out, 'results.md'), markdown);
  const panels = results.map(({ upstream, comparison }) => ({ title: upstream.panel, comparison }));
  await writeFile(join(options.out, 'results.svg'), await renderResultsChart(panels));
}

process.exitCode = await runBenchScript({
  name: 'bench:results',
  usage: USAGE,
  parse: parseOptions,
  stopping: 'stopping the servers…',
  async run(options, services) {
    if (options.build) await ensureBuild(REPO_ROOT, say);
    // Only before the start: once running, the benchmark's own processes keep the load up.
    if (options.quietBelow !== null) await waitForQuiet(options.quietBelow, QUIET_WAIT_LIMIT_MS);
    const results: UpstreamResult[] = [];
    for (const upstream of options.upstreams) {
      results.push(await measureUpstream(upstream, options, services, say));
    }
    const first = results[0] as UpstreamResult;
    const markdown = `${[renderPreamble(options, first.comparison.individual), ...results.map((result, index) => renderSection(result, index, options))].join('\n\n')}\n`;
    process.stdout.write(markdown);
    await writeOutputs(results, markdown, options);
    say(`wrote JSON, SVG and Markdown under ${options.out}`);
  },
});
