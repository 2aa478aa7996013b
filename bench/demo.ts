/**
 * `npm run demo`: the README's first command. Offline and without Docker, in about a minute:
 *
 *   1. a real embedding model (Universal Sentence Encoder on this machine's CPU) as a
 *      TEI-compatible upstream, and
 *   2. the TEI simulator as a GPU-like server (10 ms per call + 0.1 ms per input),
 *
 * each with autobatch in front (every server its own process, on free ports). For each, it sends
 * individual requests (one input each) direct and through autobatch, side by side at a few
 * client counts, and client-side batches direct (the most batching can reach on that upstream),
 * then prints Markdown tables with the ratios and stops everything, also on Ctrl-C.
 *
 *   npm run demo
 *   npm run demo -- --quick                      a smoke test: 1 and 4 clients, 1 s per level
 *   npm run demo -- --upstreams model-mixed      the model with paragraphs among the texts
 *   npm run demo -- --concurrency 1,16 --duration 10
 *
 * The proxy runs with its defaults; the load generator is `autobatch bench` (runBench) in this
 * process. `npm run bench:results` runs the same measurement longer, on more upstreams.
 */
import { parseArgs } from 'node:util';
import { renderComparisonTable, renderWarnings } from './comparison-table.js';
import { ensureBuild } from './ensure-build.js';
import { measureUpstream, type MeasurePlan, type UpstreamResult } from './measure-upstream.js';
import { say } from './script-io.js';
import { runBenchScript } from './script-main.js';
import { REPO_ROOT } from './service-specs.js';
import { upstreamCases, type UpstreamCase } from './upstream-cases.js';

interface DemoOptions extends MeasurePlan {
  upstreams: UpstreamCase[];
  build: boolean;
}

const USAGE = `Usage: npm run demo -- [options]
  --quick              a smoke test: clients 1,4, 1 s per level and side, short warm-ups
  --upstreams <list>   model-short, model-short-batch8, model-short-buckets, model-mixed,
                       model-mixed-buckets, gpu, tei, tei-inflight4, cpu-pad
                       (default model-short,gpu)
  --concurrency <l>    comma-separated client counts (default 1,8,32)
  --duration <s>       measured seconds per level and side (default 3)
  --warmup <s>         unmeasured seconds before each measurement (default 1)
  --no-build           do not build dist/ even if it is missing or older than src/

Client-side batches are sent by one client, as many inputs per request as the largest client count.`;

function positiveNumber(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`${flag} needs a number above 0 and at most ${max}, got ${text}`);
  return value;
}

function parseOptions(argv: string[]): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      upstreams: { type: 'string', default: 'model-short,gpu' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const concurrency = (values.concurrency ?? (quick ? '1,4' : '1,8,32')).split(',').map((text) => {
    const value = positiveNumber('--concurrency', text.trim(), 1000);
    if (!Number.isInteger(value)) throw new Error(`--concurrency needs integers, got ${text}`);
    return value;
  });
  const warmup = values.warmup === undefined ? (quick ? 0.5 : 1) : Number(values.warmup);
  if (!Number.isFinite(warmup) || warmup < 0 || warmup > 60) throw new Error(`--warmup needs seconds from 0 to 60, got ${values.warmup}`);
  return {
    upstreams: upstreamCases(values.upstreams),
    concurrency,
    // One client sending batches as large as the most inputs in flight among the levels.
    batchSize: Math.max(...concurrency),
    batchClients: [1],
    durationSeconds: values.duration === undefined ? (quick ? 1 : 3) : positiveNumber('--duration', values.duration, 600),
    warmupSeconds: warmup,
    primeSeconds: quick ? 0.5 : 1.5,
    build: !values['no-build'],
  };
}

function renderResult({ upstream, comparison }: UpstreamResult, index: number): string[] {
  const lines = [`### ${index + 1}. ${upstream.title}`, '', upstream.description, '', renderComparisonTable(comparison)];
  const warnings = renderWarnings(comparison);
  if (warnings.length > 0) lines.push('', 'Warnings from the bench:', ...warnings);
  return [...lines, ''];
}

function renderDemo(results: readonly UpstreamResult[], options: DemoOptions): string {
  const first = results[0]?.comparison.individual;
  const machine = first?.machine;
  const lines = ['## autobatch demo: individual requests, direct and through autobatch', ''];
  if (machine !== undefined) {
    lines.push(
      `- machine: ${machine.cores} × ${machine.cpuModel}, node ${machine.node}, load average ${machine.loadAverage.join(' / ')} at the start`,
    );
  }
  lines.push(
    '- autobatch with no tuning flags: adaptive dispatch (calls in flight, batch size and length buckets learned from the calls it makes, docs/dispatch.md), max batch from the upstream’s /info, hold at most 5 ms',
    `- POST /embed, closed loop (each client sends again when answered); ${options.durationSeconds} s measured after ${options.warmupSeconds} s ` +
      `warm-up per level and side, direct and autobatch alternating; ${options.primeSeconds} s of unmeasured load on each side first`,
    '- ratios are autobatch ÷ direct, measured side by side: above 1× for inputs/s and below 1× for latency favour autobatch',
    `- the client-batches row is the most batching can reach on that upstream (one client sending ${options.batchSize} inputs per request): ` +
      'where it is no higher than direct, batching cannot help and autobatch only adds its hop',
    '',
  );
  results.forEach((result, index) => lines.push(...renderResult(result, index)));
  if (machine !== undefined && machine.cores <= 2) {
    lines.push(
      `On ${machine.cores} cores the model, the proxy and the load generator share the CPU; the ratios matter more than the absolute numbers.`,
      '',
    );
  }
  return lines.join('\n');
}

process.exitCode = await runBenchScript({
  name: 'demo',
  usage: USAGE,
  parse: parseOptions,
  stopping: 'stopping the upstream and the proxy…',
  stopped: 'stopped the upstreams and the proxies',
  async run(options, services) {
    if (options.build) await ensureBuild(REPO_ROOT, say);
    const results: UpstreamResult[] = [];
    for (const upstream of options.upstreams) results.push(await measureUpstream(upstream, options, services, say));
    process.stdout.write(renderDemo(results, options));
  },
});
