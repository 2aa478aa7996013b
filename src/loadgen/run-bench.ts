// Runs a whole bench: for each level, the target and the baseline one after the other, in
// alternating order (target first, then baseline first, ...) so that a machine that warms up,
// throttles or gets busier over the run shifts both sides alike. Side-by-side ratios are the
// result that matters on noisy machines; absolute numbers are context.
import { BenchTarget, type PreparedRequest, type TargetRole } from './bench-target.js';
import { levelLabel, resolveBenchOptions, type BenchLevel, type BenchOptions, type ResolvedBenchOptions } from './bench-options.js';
import { computeRatios, describeMachine, type BenchReport, type LevelReport, type TargetRun } from './bench-report.js';
import { runClosedLoop } from './closed-loop.js';
import { createSystemClock, type Clock } from '../core/clock.js';
import { LevelRecorder } from './level-recorder.js';
import { runOpenLoop } from './open-loop.js';
import { ERROR_NETWORK, ERROR_TIMEOUT } from './request-outcome.js';
import { routeShapeFor, type RouteShape } from './route-shapes.js';

export interface BenchProgress {
  /** 0-based index of the current run (one level on one side) and how many runs there are. */
  runIndex: number;
  runCount: number;
  levelLabel: string;
  role: TargetRole;
  phase: 'warmup' | 'measure' | 'drain';
  /** Seconds into this run, and its planned length (warm-up + duration). */
  elapsedSeconds: number;
  plannedSeconds: number;
  requestsOk: number;
  errors: number;
}

export interface BenchHooks {
  /** Called about every 200 ms during a run. */
  onProgress?(progress: BenchProgress): void;
  /** Things the reader should know that are not failures (also kept in the report). */
  onWarning?(message: string): void;
  /** Called when one side of one level is measured. */
  onRunComplete?(run: TargetRun, level: BenchLevel): void;
  /** For tests: the clock the load loops use. */
  clock?: Clock;
}

/** The target (or baseline) did not answer the first request at all. */
export class BenchUnreachableError extends Error {
  readonly role: TargetRole;
  readonly url: string;

  constructor(role: TargetRole, url: string, detail: string) {
    super(`the ${role} ${url} is unreachable: ${detail}`);
    this.name = 'BenchUnreachableError';
    this.role = role;
    this.url = url;
  }
}

// Distinct bodies prepared before the run; requests cycle through them.
const MAX_PREPARED_REQUESTS = 4096;
const PROGRESS_INTERVAL_MS = 200;
// Above this event-loop utilization the single-threaded bench itself may limit throughput.
const CLIENT_BUSY_WARNING = 0.9;

/**
 * Request bodies built once: body k holds texts k*n .. k*n+n-1 (wrapping), so consecutive
 * requests carry different texts and both sides send exactly the same sequence.
 */
export function prepareRequests(options: ResolvedBenchOptions, shape: RouteShape): PreparedRequest[] {
  const { texts, inputsPerRequest: n } = options;
  const count = Math.min(Math.max(texts.length, 1), MAX_PREPARED_REQUESTS);
  const requests: PreparedRequest[] = [];
  for (let k = 0; k < count; k += 1) {
    const chosen: string[] = [];
    for (let j = 0; j < n; j += 1) chosen.push(texts[(k * n + j) % texts.length] as string);
    requests.push({ body: Buffer.from(shape.buildBody(chosen, options.extraBody)), inputCount: n });
  }
  return requests;
}

function connectionsFor(options: ResolvedBenchOptions): number {
  if (options.mode === 'open') return options.maxOutstanding;
  return Math.max(...options.levels.map((level) => (level.mode === 'closed' ? level.concurrency : 1)));
}

interface RunContext {
  options: ResolvedBenchOptions;
  requests: readonly PreparedRequest[];
  clock: Clock;
  hooks: BenchHooks;
  runIndex: number;
  runCount: number;
}

async function measureOneSide(target: BenchTarget, level: BenchLevel, context: RunContext): Promise<TargetRun> {
  const { options, requests, clock, hooks } = context;
  const startedAt = new Date().toISOString();
  const start = clock.now();
  const measureFrom = start + options.warmupSeconds * 1000;
  const end = measureFrom + options.durationSeconds * 1000;
  const recorder = new LevelRecorder({ from: measureFrom, to: end }, options.inputsPerRequest);
  let next = 0;
  const nextRequest = (): PreparedRequest => requests[next++ % requests.length] as PreparedRequest;

  // The bench's own load is measured over the window, to flag runs where it was the limit.
  let windowPhase: 'before' | 'during' | 'after' = 'before';
  const trackWindow = (now: number): void => {
    if (windowPhase === 'before' && now >= measureFrom) {
      recorder.markWindow('start');
      windowPhase = 'during';
    }
    if (windowPhase === 'during' && now >= end) {
      recorder.markWindow('end');
      windowPhase = 'after';
    }
  };
  const label = levelLabel(level);
  const plannedSeconds = options.warmupSeconds + options.durationSeconds;
  const ticker = setInterval(() => {
    const now = clock.now();
    trackWindow(now);
    hooks.onProgress?.({
      runIndex: context.runIndex,
      runCount: context.runCount,
      levelLabel: label,
      role: target.role,
      phase: now < measureFrom ? 'warmup' : now < end ? 'measure' : 'drain',
      elapsedSeconds: Math.min((now - start) / 1000, plannedSeconds),
      plannedSeconds,
      requestsOk: recorder.okCount,
      errors: recorder.errorCount,
    });
  }, PROGRESS_INTERVAL_MS);
  ticker.unref();
  if (options.warmupSeconds === 0) trackWindow(clock.now());

  try {
    if (level.mode === 'closed') {
      await runClosedLoop(
        { clients: level.concurrency, endAt: end },
        async () => {
          const sentAt = clock.now();
          trackWindow(sentAt);
          const outcome = await target.send(nextRequest());
          recorder.record(outcome, sentAt, clock.now());
        },
        clock,
      );
    } else {
      await runOpenLoop(
        { startAt: start, endAt: end, ratePerSecond: level.ratePerSecond, maxOutstanding: options.maxOutstanding },
        {
          send: async (dueAt) => {
            trackWindow(clock.now());
            const outcome = await target.send(nextRequest());
            recorder.record(outcome, dueAt, clock.now());
          },
          dropped: (dueAt, outstanding) => recorder.recordDropped(dueAt, outstanding),
        },
        clock,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  // Ticks and sends mark the window's edges to within one tick; if none came after the end
  // (a drain shorter than a tick), the end is marked now.
  trackWindow(Math.max(clock.now(), end));
  return { role: target.role, url: target.url, startedAt, ...recorder.result() };
}

async function checkReachable(target: BenchTarget, request: PreparedRequest, hooks: BenchHooks, warnings: string[]): Promise<void> {
  const outcome = await target.send(request);
  if (outcome.ok) return;
  if (outcome.error === ERROR_NETWORK || outcome.error === ERROR_TIMEOUT) {
    throw new BenchUnreachableError(target.role, target.url, outcome.detail);
  }
  const message = `the first request to the ${target.role} failed (${outcome.error}: ${outcome.detail.slice(0, 200)}); measuring anyway`;
  warnings.push(message);
  hooks.onWarning?.(message);
}

// The report is meant to be shared; credentials passed as headers must not travel with it.
function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const redacted: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    redacted[name] = /auth|key|token|secret|cookie/i.test(name) ? '(redacted)' : value;
  }
  return redacted;
}

/** Runs the bench described by `options` and returns its report. */
export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchReport> {
  const resolved = resolveBenchOptions(options);
  // Timers kept alive: between sends the load loop's wait is all the process has to do.
  const clock = hooks.clock ?? createSystemClock({ keepAlive: true });
  const shape = routeShapeFor(resolved.route);
  const requests = prepareRequests(resolved, shape);
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    hooks.onWarning?.(message);
  };

  const connections = connectionsFor(resolved);
  const makeTarget = (role: TargetRole, url: string): BenchTarget =>
    new BenchTarget({ role, url, route: resolved.route, connections, timeoutMs: resolved.timeoutMs, shape, headers: resolved.headers });
  const target = makeTarget('target', resolved.url);
  const baseline = resolved.baseline === null ? null : makeTarget('baseline', resolved.baseline);

  const levels: LevelReport[] = [];
  try {
    const firstRequest = requests[0] as PreparedRequest;
    await checkReachable(target, firstRequest, hooks, warnings);
    if (baseline !== null) await checkReachable(baseline, firstRequest, hooks, warnings);

    const sidesPerLevel = baseline === null ? 1 : 2;
    const runCount = resolved.levels.length * sidesPerLevel;
    let runIndex = 0;
    for (const [levelIndex, level] of resolved.levels.entries()) {
      const order: BenchTarget[] = baseline === null ? [target] : levelIndex % 2 === 0 ? [target, baseline] : [baseline, target];
      const runs = new Map<TargetRole, TargetRun>();
      for (const side of order) {
        const run = await measureOneSide(side, level, { options: resolved, requests, clock, hooks, runIndex, runCount });
        runIndex += 1;
        runs.set(side.role, run);
        hooks.onRunComplete?.(run, level);
        if (run.clientEventLoopUtilization > CLIENT_BUSY_WARNING) {
          warn(
            `${levelLabel(level)} ${side.role}: the bench's event loop was busy ${Math.round(run.clientEventLoopUtilization * 100)}% ` +
              'of the time; the load generator itself may have limited this measurement',
          );
        }
      }
      const targetRun = runs.get('target') as TargetRun;
      const baselineRun = runs.get('baseline') ?? null;
      levels.push({
        level,
        label: levelLabel(level),
        order: order.map((side) => side.role),
        target: targetRun,
        baseline: baselineRun,
        ratios: baselineRun === null ? null : computeRatios(targetRun, baselineRun),
      });
    }
  } finally {
    await Promise.all([target.close(), baseline?.close()]);
  }

  const targetWidth = target.vectorWidth ?? null;
  const baselineWidth = baseline?.vectorWidth ?? null;
  if (targetWidth !== null && baselineWidth !== null && targetWidth !== baselineWidth) {
    warn(`the target answered vectors of ${targetWidth} numbers and the baseline of ${baselineWidth}: not the same model?`);
  }

  const { texts, ...reportedOptions } = resolved;
  return {
    tool: 'autobatch bench',
    schemaVersion: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    options: { ...reportedOptions, headers: redactHeaders(resolved.headers), textCount: texts.length },
    routeKind: shape.kind,
    machine,
    vectorWidth: { target: targetWidth, baseline: baselineWidth },
    levels,
    warnings,
  };
}
