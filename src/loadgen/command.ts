// `autobatch bench`: the command-line face of runBench.
//
// Exit codes: 0 when the run completed (errors counted in the report do not change that), 2 for
// bad options (the message names the option), 1 when the target or baseline is unreachable at
// start or a report file cannot be written.
//
// Only what --help needs is imported up front: the load generator and the report renderers
// (and through them the histogram and chart libraries) load when the command runs, so the CLI
// that hosts `autobatch serve` stays lean.
import { accessSync, constants, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BENCH_DEFAULTS, BenchOptionError, levelLabel, type BenchOptions } from './bench-options.js';
import { BUILT_IN_CORPUS } from './corpus.js';
import { parseDurationSeconds } from './duration.js';
import { ProgressBar, type ProgressStream } from './progress-bar.js';
import type { BenchHooks } from './run-bench.js';

/** Where the command writes and how it ends; replaceable for tests. */
export interface BenchCommandIo {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream & { readonly isTTY?: boolean | undefined };
  /** Ends the process at once (option errors, --help). */
  exit(code: number): never;
  /** Sets the code the process ends with once the run is over. */
  setExitCode(code: number): void;
}

const EXIT_UNREACHABLE = 1;
const EXIT_BAD_OPTIONS = 2;

const processIo: BenchCommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  exit: (code) => process.exit(code),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

function parseNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError(`'${value}' is not a number.`);
  return number;
}

/** `--duration` and `--warmup`: "30s", "500ms", "2m", "1m30s", or a bare number of seconds. */
function parseDuration(value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) throw new InvalidArgumentError(`'${value}' is not a duration (e.g. 30s, 500ms, 2m, 1m30s, or a number of seconds).`);
  return seconds;
}

function parseNumberList(value: string): number[] {
  return value.split(',').map((part) => parseNumber(part.trim()));
}

function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('not a JSON object.');
  return parsed as Record<string, unknown>;
}

function collectHeader(value: string, previous: string[]): string[] {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError(`'${value}' is not name:value.`);
  return [...previous, value];
}

function readTexts(file: string): string[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BenchOptionError('--texts', `cannot read ${file}: ${(error as Error).message}`);
  }
  const texts = content.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (texts.length === 0) throw new BenchOptionError('--texts', `${file} holds no non-empty line`);
  return texts;
}

/** Fails before a long run rather than after it when a report could not be written. */
function checkWritable(option: string, file: string): void {
  try {
    accessSync(dirname(resolve(file)), constants.W_OK);
  } catch {
    throw new BenchOptionError(option, `cannot write to the folder of ${file}`);
  }
}

interface CliValues {
  url: string;
  baseline?: string;
  route: string;
  inputsPerRequest: number;
  texts?: string;
  duration: number;
  warmup: number;
  concurrency: number[];
  rate?: number[];
  maxOutstanding: number;
  timeoutMs: number;
  header: string[];
  extraBody?: Record<string, unknown>;
  json?: string;
  svg?: string;
  progress: boolean;
}

function toBenchOptions(values: CliValues, command: Command): BenchOptions {
  if (values.json !== undefined) checkWritable('--json', values.json);
  if (values.svg !== undefined) checkWritable('--svg', values.svg);
  const concurrencyGiven = command.getOptionValueSource('concurrency') === 'cli';
  if (values.rate !== undefined && concurrencyGiven) {
    throw new BenchOptionError('--rate', 'cannot be combined with --concurrency (open loop or closed loop, not both)');
  }
  const headers: Record<string, string> = {};
  for (const header of values.header) {
    const colon = header.indexOf(':');
    headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  return {
    url: values.url,
    baseline: values.baseline,
    route: values.route,
    inputsPerRequest: values.inputsPerRequest,
    texts: values.texts === undefined ? undefined : readTexts(values.texts),
    textsSource: values.texts,
    durationSeconds: values.duration,
    warmupSeconds: values.warmup,
    concurrency: values.rate === undefined ? values.concurrency : undefined,
    rates: values.rate,
    maxOutstanding: values.maxOutstanding,
    timeoutMs: values.timeoutMs,
    headers,
    extraBody: values.extraBody,
  };
}

export function createBenchCommand(io: BenchCommandIo = processIo): Command {
  const command = new Command('bench')
    .description(
      'Load-test a target (usually the proxy) against an optional baseline (usually the upstream directly), ' +
        'level by level in one run, and report throughput, latency percentiles, errors and target/baseline ratios.',
    )
    .addOption(new Option('--url <url>', 'target base URL (usually the proxy)').makeOptionMandatory())
    .addOption(new Option('--baseline <url>', 'baseline base URL (usually the upstream directly); default: none, target only'))
    .addOption(
      new Option(
        '--route <path>',
        'route to POST to: /embed, /embed_sparse, /embed_all, /tokenize, /predict, /v1/embeddings, /embeddings or any list route',
      ).default(BENCH_DEFAULTS.route),
    )
    .addOption(
      new Option('--inputs-per-request <n>', 'texts sent in each request (as a list)')
        .argParser(parseNumber)
        .default(BENCH_DEFAULTS.inputsPerRequest),
    )
    .addOption(new Option('--texts <file>', `one text per line (default: a built-in corpus of ${BUILT_IN_CORPUS.length} texts of mixed length)`))
    .addOption(
      new Option('--duration <time>', 'measured time per level and side: 30s, 500ms, 2m, 1m30s, or a number of seconds')
        .argParser(parseDuration)
        .default(BENCH_DEFAULTS.durationSeconds, `${BENCH_DEFAULTS.durationSeconds}s`),
    )
    .addOption(
      new Option('--warmup <time>', 'unmeasured load before each measurement, as --duration')
        .argParser(parseDuration)
        .default(BENCH_DEFAULTS.warmupSeconds, `${BENCH_DEFAULTS.warmupSeconds}s`),
    )
    .addOption(
      new Option('--concurrency <list>', 'closed loop: comma-separated client counts, each client sends again when answered')
        .argParser(parseNumberList)
        .default([...BENCH_DEFAULTS.concurrency], BENCH_DEFAULTS.concurrency.join(',')),
    )
    .addOption(
      new Option(
        '--rate <list>',
        'open loop instead: comma-separated request rates (req/s) sent on a fixed schedule, latency timed from the intended send (default: none, closed loop)',
      ).argParser(parseNumberList),
    )
    .addOption(
      new Option('--max-outstanding <n>', 'open loop: most requests in flight; requests due beyond it are not sent and count as "dropped" errors')
        .argParser(parseNumber)
        .default(BENCH_DEFAULTS.maxOutstanding),
    )
    .addOption(new Option('--timeout-ms <ms>', 'per-request timeout').argParser(parseNumber).default(BENCH_DEFAULTS.timeoutMs))
    .addOption(
      new Option('--header <name:value>', 'extra request header, repeatable (e.g. "authorization: Bearer KEY")')
        .argParser(collectHeader)
        .default([], 'none'),
    )
    .addOption(
      new Option('--extra-body <json>', 'extra top-level fields for every request body, e.g. \'{"normalize":false}\' (default: none)').argParser(
        parseJsonObject,
      ),
    )
    .addOption(new Option('--json <file>', 'write the full report as JSON (default: none)'))
    .addOption(new Option('--svg <file>', 'write a chart of throughput against p99 latency as SVG (default: none)'))
    .addOption(new Option('--no-progress', 'no progress bar, even on a terminal (it is never shown when stderr is not one)'))
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride((error: CommanderError) => {
      // Commander exits 1 for every usage error; this command promises 2 for bad options.
      io.exit(error.exitCode === 0 ? 0 : EXIT_BAD_OPTIONS);
    })
    .action(async (values: CliValues, self: Command) => {
      let options: BenchOptions;
      try {
        options = toBenchOptions(values, self);
      } catch (error) {
        if (error instanceof BenchOptionError) self.error(`error: ${error.message}`, { exitCode: EXIT_BAD_OPTIONS });
        throw error;
      }
      const [{ runBench, BenchUnreachableError }, { renderMarkdownReport, formatSignificant }, { renderJsonReport }] = await Promise.all([
        import('./run-bench.js'),
        import('./report-markdown.js'),
        import('./report-json.js'),
      ]);
      const progress = values.progress && io.stderr.isTTY === true ? new ProgressBar(io.stderr) : undefined;
      const hooks: BenchHooks = {};
      if (progress !== undefined) {
        hooks.onProgress = (state) => progress.update(state);
        hooks.onWarning = (message) => progress.print(`warning: ${message}`);
        hooks.onRunComplete = (run, level) => {
          const p99 = run.latencyMs === null ? '–' : formatSignificant(run.latencyMs.p99);
          progress.print(
            `${levelLabel(level)} ${run.role}: ${formatSignificant(run.requestsPerSecond)} req/s, p99 ${p99} ms, ${run.errorCount} errors`,
          );
        };
      }

      let report;
      try {
        report = await runBench(options, hooks);
      } catch (error) {
        progress?.clear();
        if (error instanceof BenchOptionError) self.error(`error: ${error.message}`, { exitCode: EXIT_BAD_OPTIONS });
        if (error instanceof BenchUnreachableError) {
          io.stderr.write(`error: ${error.message}\n`);
          io.setExitCode(EXIT_UNREACHABLE);
          return;
        }
        throw error;
      }
      progress?.clear();
      io.stdout.write(renderMarkdownReport(report));

      try {
        if (values.json !== undefined) {
          await writeFile(values.json, renderJsonReport(report));
          io.stderr.write(`wrote ${values.json}\n`);
        }
        if (values.svg !== undefined) {
          const { renderSvgChart } = await import('./report-svg.js');
          await writeFile(values.svg, await renderSvgChart(report));
          io.stderr.write(`wrote ${values.svg}\n`);
        }
      } catch (error) {
        io.stderr.write(`error: cannot write the report: ${(error as Error).message}\n`);
        io.setExitCode(1);
        return;
      }
      io.setExitCode(0);
    });
  return command;
}
