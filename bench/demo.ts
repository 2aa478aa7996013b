/**
 * `npm run demo`: the README's first command. Offline and without Docker, it starts a real
 * embedding model as a TEI-compatible upstream and autobatch in front of it (each its own
 * process, on free ports), sends individual requests (one input each) to both side by side at a
 * few client counts, prints a Markdown table with the ratios, and stops everything, also on
 * Ctrl-C.
 *
 *   npm run demo                     about a minute: 1, 8 and 32 clients, 5 s per level and side
 *   npm run demo -- --quick          a few seconds: 1 and 4 clients, 1 s per level and side
 *   npm run demo -- --concurrency 1,16 --duration 10
 *
 * The upstream runs the model once per HTTP call and serves calls one at a time, like a plain
 * inference server; the proxy runs with its defaults. The load generator is `autobatch bench`
 * (runBench) in this process.
 */
import { parseArgs } from 'node:util';
import { runBench, type BenchReport } from '../src/bench/index.js';
import { renderComparisonTable, renderWarnings } from './comparison-table.js';
import { ensureBuild } from './ensure-build.js';
import { primeServers } from './prime.js';
import { ServiceGroup } from './service-process.js';
import { REPO_ROOT, autobatchProxy, useModelUpstream } from './service-specs.js';
import { textSet, type TextSet } from './text-sets.js';

interface DemoOptions {
  texts: TextSet;
  /** Unmeasured seconds of load on each side before the first level. */
  primeSeconds: number;
  concurrency: number[];
  durationSeconds: number;
  warmupSeconds: number;
  build: boolean;
}

const USAGE = `Usage: npm run demo -- [--quick] [--texts short|mixed] [--concurrency 1,8,32] [--duration 5] [--warmup 2] [--no-build]
  --quick             1 s per level and side, 0.5 s warm-up, clients 1,4 (a smoke test)
  --texts <set>       short: queries and sentences (default); mixed: with paragraphs, where
                      padding makes batches of this CPU model slower than single calls
  --concurrency <l>   comma-separated client counts (default 1,8,32)
  --duration <s>      measured seconds per level and side (default 5)
  --warmup <s>        unmeasured seconds before each measurement (default 2)
  --no-build          do not build dist/ even if it is missing or older than src/`;

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} needs a positive number, got ${text}`);
  return value;
}

function parseOptions(argv: string[]): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      texts: { type: 'string', default: 'short' },
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
    const value = positiveNumber('--concurrency', text.trim());
    if (!Number.isInteger(value) || value > 1000) throw new Error(`--concurrency needs integers from 1 to 1000, got ${text}`);
    return value;
  });
  const warmup = values.warmup === undefined ? (quick ? 0.5 : 2) : Number(values.warmup);
  if (!Number.isFinite(warmup) || warmup < 0 || warmup > 60) throw new Error(`--warmup needs seconds from 0 to 60, got ${values.warmup}`);
  const duration = values.duration === undefined ? (quick ? 1 : 5) : positiveNumber('--duration', values.duration);
  if (duration > 600) throw new Error(`--duration is at most 600 s, got ${duration}`);
  return { texts: textSet(values.texts), primeSeconds: quick ? 1 : 3, concurrency, durationSeconds: duration, warmupSeconds: warmup, build: !values['no-build'] };
}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function renderDemo(report: BenchReport, options: DemoOptions): string {
  const { machine } = report;
  const lines = [
    '## autobatch demo: individual requests to a real embedding model, direct and through autobatch',
    '',
    '- upstream: Universal Sentence Encoder lite (512 dimensions, TF.js on WebAssembly), one model call per HTTP call, one call at a time',
    '- autobatch: default settings (max batch from the upstream\'s /info, max wait 5 ms, 2 calls in flight)',
    `- POST /embed, one input per request; ${report.options.textsSource}`,
    '- closed loop (each client sends again when answered), ' +
      `${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up per level and side, the two sides alternating; ` +
      `${options.primeSeconds} s of unmeasured load on each side first`,
    `- machine: ${machine.cores} × ${machine.cpuModel}, node ${machine.node}, load average ${machine.loadAverage.join(' / ')} at the start`,
    '',
    renderComparisonTable({ individual: report }),
    '',
    'Ratios are autobatch ÷ direct, measured side by side in this run: above 1× for inputs/s and below 1× for latency favour autobatch.',
  ];
  lines.push(
    '',
    options.texts.key === 'short'
      ? 'These are short texts. This CPU model pads every input of a batch to the longest one, so with a mix of queries and ' +
          'paragraphs its batches cost more per input than single calls and autobatch loses: try `npm run demo -- --texts mixed`, ' +
          'and see the README’s benchmark results.'
      : 'With this mix of lengths, this CPU model pads every input of a batch to the longest one, so its batches cost more per ' +
          'input than single calls: batching cannot pay here. Compare `npm run demo` (short texts).',
  );
  const warnings = renderWarnings({ individual: report });
  if (warnings.length > 0) lines.push('', 'Warnings:', ...warnings);
  if (machine.cores <= 2) {
    lines.push('', `Note: on ${machine.cores} cores the model, the proxy and the load generator compete for CPU; absolute numbers are modest, the ratios are the point.`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    say(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const services = new ServiceGroup({ onInterrupt: (signal) => say(`\n${signal}: stopping the upstream and the proxy…`) });
  try {
    if (options.build) await ensureBuild(REPO_ROOT, say);
    say('starting the model upstream (loading the model takes a few seconds)…');
    const upstream = await services.start(useModelUpstream());
    say(`upstream: ${upstream.url} (pid ${upstream.pid})`);
    const proxy = await services.start(autobatchProxy(upstream.url));
    say(`autobatch: ${proxy.url} (pid ${proxy.pid})`);

    say(`warming up the model and the proxy (${options.primeSeconds * 2} s, not measured)…`);
    await primeServers({
      proxyUrl: proxy.url,
      upstreamUrl: upstream.url,
      texts: options.texts.texts,
      clients: Math.max(...options.concurrency),
      seconds: options.primeSeconds,
    });
    const levels = options.concurrency.length;
    const seconds = Math.ceil(levels * 2 * (options.durationSeconds + options.warmupSeconds));
    say(`measuring ${levels} level(s) × 2 sides, about ${seconds} s…`);
    const report = await runBench(
      {
        url: proxy.url,
        baseline: upstream.url,
        route: '/embed',
        inputsPerRequest: 1,
        texts: options.texts.texts,
        textsSource: options.texts.description,
        concurrency: options.concurrency,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
      },
      {
        onRunComplete: (run, level) => {
          const side = run.role === 'target' ? 'through autobatch' : 'direct';
          const clients = level.mode === 'closed' ? `${level.concurrency} client(s)` : `${level.ratePerSecond}/s`;
          say(`  ${clients}, ${side}: ${run.inputsPerSecond.toFixed(1)} inputs/s, ${run.errorCount} error(s)`);
        },
      },
    );
    process.stdout.write(renderDemo(report, options));
    return 0;
  } catch (error) {
    say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await services.stopAll();
    say('stopped the upstream and the proxy');
  }
}

process.exitCode = await main();
