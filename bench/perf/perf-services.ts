/**
 * What every performance script shares: the servers they start besides those in
 * bench/service-specs.ts (a zero-cost simulator, the plain http-proxy-3 proxy, a proxy with
 * chosen node flags), the timing of a measurement, the rows of the targets table, and reading a
 * process's memory from /proc.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { BenchHooks } from '../../src/loadgen/index.js';
import type { ServiceGroup, ServiceSpec } from '../service-process.js';
import { REPO_ROOT, autobatchProxy, type SimulatorCost } from '../service-specs.js';
import { ensureBuild } from '../ensure-build.js';
import { say } from '../script-io.js';

/** How long each side of each level is measured. */
export interface PerfTiming {
  durationSeconds: number;
  warmupSeconds: number;
  /** P6: times each level is measured, sides in a new order each time; a cell is the median (default 1). */
  rounds?: number;
}

export const DEFAULT_TIMING: PerfTiming = { durationSeconds: 5, warmupSeconds: 1 };

/** One line of the "Performance targets" table. */
export interface TargetRow {
  id: string;
  what: string;
  target: string;
  measured: string;
  /** null: nothing to compare (an informative figure). */
  met: boolean | null;
}

/** What one measurement script hands back: its rows and a Markdown section with the detail. */
export interface PerfResult {
  rows: TargetRow[];
  details: string;
}

/** The GPU-like cost model of bench:results: 10 ms per call + 0.1 ms per input, one call at a time. */
export const GPU_LIKE: SimulatorCost = { perCallMs: 10, perItemMs: 0.1, slots: 1, merge: false };

export { loadAverage, say, waitForQuiet } from '../script-io.js';

function plainUrlLine(line: string): string | undefined {
  const trimmed = line.trim();
  return /^http:\/\/\S+$/.test(trimmed) ? trimmed : undefined;
}

/** The simulator without a cost model: answers as fast as it can build them. */
export function zeroCostSimulator(dimensions: number): ServiceSpec {
  return {
    name: `TEI simulator (zero cost, --dimensions ${dimensions})`,
    command: process.execPath,
    args: ['dist-sim/sim/main.js', '--host', '127.0.0.1', '--port', '0', '--dimensions', String(dimensions)],
    cwd: REPO_ROOT,
    urlFromLine: plainUrlLine,
    startTimeoutMs: 30_000,
  };
}

/** bench/perf/plain-proxy.ts in front of `upstreamUrl`. */
export function plainProxy(upstreamUrl: string): ServiceSpec {
  return {
    name: 'plain http-proxy-3 proxy',
    command: process.execPath,
    args: ['--import', 'tsx', 'bench/perf/plain-proxy.ts', '--upstream', upstreamUrl, '--host', '127.0.0.1', '--port', '0'],
    cwd: REPO_ROOT,
    urlFromLine: plainUrlLine,
    startTimeoutMs: 30_000,
  };
}

/** The proxy as autobatchProxy() starts it, with node flags before the script (e.g. --cpu-prof). */
export function autobatchWithNodeFlags(upstreamUrl: string, nodeFlags: readonly string[], proxyArgs: readonly string[] = []): ServiceSpec {
  const spec = autobatchProxy(upstreamUrl, proxyArgs);
  return { ...spec, args: [...nodeFlags, ...spec.args] };
}

/** The proxy's command line as a user types it, for the README. */
export function proxyCommand(proxyArgs: readonly string[] = []): string {
  return ['node bin/autobatch.js --upstream http://127.0.0.1:8081 --port 3000', ...proxyArgs].join(' ');
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or null when it cannot be read. */
export function procMemoryBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every common architecture.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Share of one core a server process uses while the bench measures one side (`role`), not while
 * the other side is measured nor during warm-ups; sampled at the bench's progress ticks.
 */
export function cpuMeter(pid: number, role: 'target' | 'baseline' = 'target'): { hooks: BenchHooks; share(): number | null } {
  let first: { cpu: number; at: number } | undefined;
  let last: { cpu: number; at: number } | undefined;
  return {
    hooks: {
      onProgress: (progress) => {
        if (progress.role !== role || progress.phase !== 'measure') return;
        const cpu = procCpuSeconds(pid);
        if (cpu === null) return;
        const sample = { cpu, at: performance.now() };
        first ??= sample;
        last = sample;
      },
    },
    share: () =>
      first === undefined || last === undefined || last.at - first.at < 500 ? null : ((last.cpu - first.cpu) * 1000) / (last.at - first.at),
  };
}

export const percent = (share: number | null): string => (share === null ? '?' : `${(share * 100).toFixed(0)}%`);

/** The soft "Max open files" of a process, from /proc/<pid>/limits. */
export function openFilesLimit(pid: number | 'self'): number | null {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (match === null) return null;
    return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return null;
  }
}

/** Whether the process has exited (gone, or a zombie not yet reaped). */
export function processGone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** A number option of bench:perf and its scripts: finite, above 0 (or 0 where allowed), at most 3600. */
export function positive(flag: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || value > 3600) throw new Error(`${flag}: not a usable number: ${text}`);
  return value;
}

export const fixed = (value: number, digits = 1): string => value.toFixed(digits);
export const times = (value: number | null | undefined): string => (value === null || value === undefined ? '–' : `${value.toFixed(2)}×`);
export const mb = (bytes: number | null): string => (bytes === null ? '?' : `${(bytes / 1e6).toFixed(1)} MB`);

/** The targets table (Markdown). */
export function renderTargetsTable(rows: readonly TargetRow[]): string {
  const lines = ['| # | measurement | target | measured | met? |', '| --- | --- | --- | --- | --- |'];
  for (const row of rows) {
    const met = row.met === null ? '–' : row.met ? 'yes' : '**no**';
    lines.push(`| ${row.id} | ${row.what} | ${row.target} | ${row.measured} | ${met} |`);
  }
  return lines.join('\n');
}

/**
 * Runs one measurement script on its own (`node --import tsx bench/perf/<name>.ts`): builds dist/
 * if needed, starts what it needs, prints its rows and detail, stops every server on every exit.
 */
export async function runStandalone(measure: (services: ServiceGroup, timing: PerfTiming) => Promise<PerfResult>): Promise<void> {
  const { ServiceGroup } = await import('../service-process.js');
  const services = new ServiceGroup({ onInterrupt: (signal) => say(`\n${signal}: stopping the servers…`) });
  try {
    await ensureBuild(REPO_ROOT, say);
    const result = await measure(services, DEFAULT_TIMING);
    process.stdout.write(`${renderTargetsTable(result.rows)}\n\n${result.details}\n`);
    process.exitCode = 0;
  } catch (error) {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  } finally {
    await services.stopAll();
  }
}

/** Whether this module is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return moduleUrl === `file://${process.argv[1]}`;
}
