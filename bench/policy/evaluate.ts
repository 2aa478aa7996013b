/**
 * What the targets are judged on, computed on simulated time: the static grid (the best
 * setting an expert could pin for each upstream and load), a setting's ratios against direct
 * and against that best, and how fast throughput settles after a load step.
 */
import { runLoad, runSteady, type LoadResult, type SimTiming, type Target } from './scenarios.js';
import { staticSetting, type DispatchSetting } from './sim-proxy.js';
import type { UpstreamModel } from './upstream-models.js';
import { settleMs as settleWhen, windowBinsFor } from '../settle.js';

/** The grid: max-inflight {1,2,4,8} × max-batch-size {8,16,32} × buckets {off,1.5,2}. */
export const STATIC_GRID: readonly DispatchSetting[] = [1, 2, 4, 8].flatMap((inflight) =>
  [8, 16, 32].flatMap((batch) => [undefined, 1.5, 2].map((buckets) => staticSetting(inflight, batch, buckets))),
);

export interface Scored {
  readonly setting: DispatchSetting;
  readonly inputsPerSecond: number;
}

/** Every setting at one level, best first (ties keep grid order, so the result is deterministic). */
export async function rankSettings(
  model: UpstreamModel,
  clients: number,
  settings: readonly DispatchSetting[],
  timing: SimTiming,
): Promise<Scored[]> {
  const scored: Scored[] = [];
  for (const setting of settings) {
    const r = await runSteady(model, setting, clients, timing);
    scored.push({ setting, inputsPerSecond: r.phases[0]!.inputsPerSecond });
  }
  return scored
    .map((s, i) => ({ s, i }))
    .sort((a, b) => b.s.inputsPerSecond - a.s.inputsPerSecond || a.i - b.i)
    .map(({ s }) => s);
}

export interface LevelFigures {
  readonly clients: number;
  readonly direct: LoadResult;
  readonly proxied: LoadResult;
  /** proxied ÷ direct, inputs/s. */
  readonly ratio: number;
}

export async function compareWithDirect(model: UpstreamModel, target: Target, clients: number, timing: SimTiming): Promise<LevelFigures> {
  const direct = await runSteady(model, 'direct', clients, timing);
  const proxied = await runSteady(model, target, clients, timing);
  return { clients, direct, proxied, ratio: proxied.phases[0]!.inputsPerSecond / direct.phases[0]!.inputsPerSecond };
}

/** The load steps: 1 client, then 128, then 8. */
export const STEP_PHASES = [
  { clients: 1, durationMs: 2000 },
  { clients: 128, durationMs: 3000 },
  { clients: 8, durationMs: 3000 },
] as const;

export { SETTLE_SHARE, SETTLE_WITHIN_MS } from '../settle.js';

export interface StepFigures {
  readonly from: number;
  readonly to: number;
  readonly atMs: number;
  /** The level's steady throughput: the same target run at `to` clients on its own. */
  readonly steady: number;
  /**
   * From the step until the end of the first window (windowMs) whose throughput reached 90% of
   * steady, provided the throughput from there to the end of the phase held 90% on average;
   * Infinity otherwise.
   */
  readonly settleMs: number;
  readonly windowMs: number;
}

export interface StepsResult {
  readonly run: LoadResult;
  readonly steps: StepFigures[];
}

export async function runSteps(model: UpstreamModel, target: Target, timing: SimTiming): Promise<StepsResult> {
  const run = await runLoad({
    model,
    target,
    phases: STEP_PHASES,
    rttMs: timing.rttMs,
    jitterMs: timing.jitterMs,
    proxyCpuMs: timing.proxyCpuMs,
  });
  const steps: StepFigures[] = [];
  let atMs = 0;
  for (let i = 1; i < STEP_PHASES.length; i++) {
    atMs += STEP_PHASES[i - 1]!.durationMs;
    const phase = STEP_PHASES[i]!;
    const level = (await runSteady(model, target, phase.clients, timing)).phases[0]!;
    const steady = level.inputsPerSecond;
    const windowBins = windowBinsFor(run.binMs, level.p50Ms);
    const settleMs = settleWhen(run.curve, run.binMs, atMs, phase.durationMs, steady, windowBins);
    steps.push({ from: STEP_PHASES[i - 1]!.clients, to: phase.clients, atMs, steady, settleMs, windowMs: windowBins * run.binMs });
  }
  return { run, steps };
}
