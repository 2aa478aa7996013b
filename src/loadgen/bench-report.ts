// What a bench run produces: everything needed to judge it later, and nothing that needs the
// live process (the --json file is this object).
import os from 'node:os';
import type { BenchLevel, ResolvedBenchOptions } from './bench-options.js';
import type { TargetRole } from './bench-target.js';
import type { LevelMeasurement } from './level-recorder.js';
import type { RouteKind } from './route-shapes.js';

export interface MachineInfo {
  node: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  /** 1, 5 and 15 minute load averages when the run started: a busy machine skews everything. */
  loadAverage: number[];
}

/** One target's measurement at one level. */
export interface TargetRun extends LevelMeasurement {
  role: TargetRole;
  url: string;
  startedAt: string;
}

/** Target over baseline, measured side by side. */
export interface LevelRatios {
  /** > 1: the target answered more requests per second. */
  requestsPerSecond: number | null;
  /** < 1: the target's median latency was lower. */
  p50: number | null;
  /** < 1: the target's p99 latency was lower. */
  p99: number | null;
}

export interface LevelReport {
  level: BenchLevel;
  label: string;
  /** Which side ran first at this level (alternates to spread machine drift over both). */
  order: TargetRole[];
  target: TargetRun;
  baseline: TargetRun | null;
  ratios: LevelRatios | null;
}

export type ReportedOptions = Omit<ResolvedBenchOptions, 'texts'> & { textCount: number };

export interface BenchReport {
  tool: 'autobatch bench';
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  options: ReportedOptions;
  routeKind: RouteKind;
  machine: MachineInfo;
  /** Width of the vectors each side answered, where the route answers vectors. */
  vectorWidth: { target: number | null; baseline: number | null };
  levels: LevelReport[];
  warnings: string[];
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemoryBytes: os.totalmem(),
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

function ratio(numerator: number | undefined, denominator: number | undefined): number | null {
  if (numerator === undefined || denominator === undefined || denominator <= 0) return null;
  return numerator / denominator;
}

export function computeRatios(target: LevelMeasurement, baseline: LevelMeasurement): LevelRatios {
  return {
    requestsPerSecond: ratio(target.requestsPerSecond, baseline.requestsPerSecond),
    p50: ratio(target.latencyMs?.p50, baseline.latencyMs?.p50),
    p99: ratio(target.latencyMs?.p99, baseline.latencyMs?.p99),
  };
}
