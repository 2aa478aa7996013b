// The options of a bench run, their defaults, and their validation. Errors name the CLI option
// they concern, so `autobatch bench` can report them as they were typed.
import { BUILT_IN_CORPUS } from './corpus.js';

export interface BenchOptions {
  /** Base URL of the target (usually the proxy). */
  url: string;
  /** Base URL of the baseline (usually the upstream directly); none to measure the target alone. */
  baseline?: string | undefined;
  route?: string | undefined;
  inputsPerRequest?: number | undefined;
  /** Texts to send, in order; default the built-in corpus. */
  texts?: readonly string[] | undefined;
  /** Where the texts came from, for the report (e.g. a file path). */
  textsSource?: string | undefined;
  /** Measured seconds per level and target. */
  durationSeconds?: number | undefined;
  /** Seconds of load before each measurement, not counted. */
  warmupSeconds?: number | undefined;
  /** Closed loop: the client counts to sweep. Excludes `rates`. */
  concurrency?: readonly number[] | undefined;
  /** Open loop: the request rates (req/s) to sweep. Excludes `concurrency`. */
  rates?: readonly number[] | undefined;
  /** Open loop: the most requests in flight; beyond it requests are dropped (errors). */
  maxOutstanding?: number | undefined;
  timeoutMs?: number | undefined;
  /** Extra request headers (e.g. authorization for a TEI started with --api-key). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Extra top-level fields of every request body (e.g. {"normalize": false}). */
  extraBody?: Readonly<Record<string, unknown>> | undefined;
}

export type BenchLevel = { readonly mode: 'closed'; readonly concurrency: number } | { readonly mode: 'open'; readonly ratePerSecond: number };

export interface ResolvedBenchOptions {
  url: string;
  baseline: string | null;
  route: string;
  inputsPerRequest: number;
  texts: readonly string[];
  textsSource: string;
  durationSeconds: number;
  warmupSeconds: number;
  mode: 'closed' | 'open';
  levels: readonly BenchLevel[];
  maxOutstanding: number;
  timeoutMs: number;
  headers: Readonly<Record<string, string>>;
  extraBody: Readonly<Record<string, unknown>>;
}

export const BENCH_DEFAULTS = Object.freeze({
  route: '/embed',
  inputsPerRequest: 1,
  durationSeconds: 10,
  warmupSeconds: 2,
  concurrency: Object.freeze([1, 8, 32, 128]) as readonly number[],
  maxOutstanding: 1024,
  timeoutMs: 30_000,
});

// Bounds that keep every load loop finite and every pool a sane size.
const MAX_SECONDS = 3600;
const MAX_CLIENTS = 10_000;
const MAX_RATE = 1_000_000;
const MAX_INPUTS_PER_REQUEST = 100_000;

/** An invalid option; `option` is the CLI flag it concerns, e.g. "--rate". */
export class BenchOptionError extends Error {
  readonly option: string;

  constructor(option: string, message: string) {
    super(`option '${option}': ${message}`);
    this.name = 'BenchOptionError';
    this.option = option;
  }
}

function checkUrl(option: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BenchOptionError(option, `'${value}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BenchOptionError(option, `'${value}' is not an http(s) URL`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new BenchOptionError(option, `'${value}' must be a base URL without query or fragment`);
  }
  return value;
}

function checkNumber(
  option: string,
  value: number,
  { min, max, integer, exclusiveMin }: { min: number; max: number; integer: boolean; exclusiveMin?: boolean },
): number {
  const ok = Number.isFinite(value) && (!integer || Number.isInteger(value)) && (exclusiveMin === true ? value > min : value >= min) && value <= max;
  if (!ok) {
    const kind = integer ? 'an integer' : 'a number';
    const low = exclusiveMin === true ? `above ${min}` : `from ${min}`;
    throw new BenchOptionError(option, `${String(value)} is not ${kind} ${low} to ${max}`);
  }
  return value;
}

function checkList(option: string, values: readonly number[], bounds: Parameters<typeof checkNumber>[2]): readonly number[] {
  if (values.length === 0) throw new BenchOptionError(option, 'needs at least one value');
  return values.map((value) => checkNumber(option, value, bounds));
}

/** Applies defaults and checks every option; throws BenchOptionError naming the first bad one. */
export function resolveBenchOptions(options: BenchOptions): ResolvedBenchOptions {
  if (typeof options.url !== 'string' || options.url === '') throw new BenchOptionError('--url', 'is required');
  const url = checkUrl('--url', options.url);
  const baseline = options.baseline === undefined || options.baseline === '' ? null : checkUrl('--baseline', options.baseline);

  const route = options.route ?? BENCH_DEFAULTS.route;
  if (!route.startsWith('/')) throw new BenchOptionError('--route', `'${route}' must start with /`);

  const inputsPerRequest = checkNumber('--inputs-per-request', options.inputsPerRequest ?? BENCH_DEFAULTS.inputsPerRequest, {
    min: 1,
    max: MAX_INPUTS_PER_REQUEST,
    integer: true,
  });

  const texts = options.texts ?? BUILT_IN_CORPUS;
  if (texts.length === 0) throw new BenchOptionError('--texts', 'holds no text');
  if (texts.some((text) => typeof text !== 'string' || text.length === 0)) {
    throw new BenchOptionError('--texts', 'every text must be a non-empty string');
  }
  const textsSource = options.textsSource ?? (options.texts === undefined ? 'built-in corpus' : 'given texts');

  const durationSeconds = checkNumber('--duration', options.durationSeconds ?? BENCH_DEFAULTS.durationSeconds, {
    min: 0,
    max: MAX_SECONDS,
    integer: false,
    exclusiveMin: true,
  });
  const warmupSeconds = checkNumber('--warmup', options.warmupSeconds ?? BENCH_DEFAULTS.warmupSeconds, {
    min: 0,
    max: MAX_SECONDS,
    integer: false,
  });

  if (options.rates !== undefined && options.concurrency !== undefined) {
    throw new BenchOptionError('--rate', 'cannot be combined with --concurrency (open loop or closed loop, not both)');
  }
  let levels: BenchLevel[];
  let mode: 'closed' | 'open';
  if (options.rates !== undefined) {
    mode = 'open';
    levels = checkList('--rate', options.rates, { min: 0, max: MAX_RATE, integer: false, exclusiveMin: true }).map((ratePerSecond) => ({
      mode: 'open',
      ratePerSecond,
    }));
  } else {
    mode = 'closed';
    levels = checkList('--concurrency', options.concurrency ?? BENCH_DEFAULTS.concurrency, {
      min: 1,
      max: MAX_CLIENTS,
      integer: true,
    }).map((concurrency) => ({ mode: 'closed', concurrency }));
  }

  const maxOutstanding = checkNumber('--max-outstanding', options.maxOutstanding ?? BENCH_DEFAULTS.maxOutstanding, {
    min: 1,
    max: MAX_CLIENTS,
    integer: true,
  });
  const timeoutMs = checkNumber('--timeout-ms', options.timeoutMs ?? BENCH_DEFAULTS.timeoutMs, {
    min: 1,
    max: MAX_SECONDS * 1000,
    integer: true,
  });

  const extraBody = options.extraBody ?? {};
  if (typeof extraBody !== 'object' || extraBody === null || Array.isArray(extraBody)) {
    throw new BenchOptionError('--extra-body', 'must be a JSON object');
  }

  return {
    url,
    baseline,
    route,
    inputsPerRequest,
    texts,
    textsSource,
    durationSeconds,
    warmupSeconds,
    mode,
    levels,
    maxOutstanding,
    timeoutMs,
    headers: { ...(options.headers ?? {}) },
    extraBody: { ...extraBody },
  };
}

/** How a level is named in tables and charts: "c=8" (clients) or "500/s" (rate). */
export function levelLabel(level: BenchLevel): string {
  return level.mode === 'closed' ? `c=${level.concurrency}` : `${level.ratePerSecond}/s`;
}
