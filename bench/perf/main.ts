/**
 * `npm run bench:perf`: every performance measurement under bench/perf/, one after the other in
 * one run, and the table of targets they check. Each figure is a ratio of two things measured
 * side by side in this run (or, for P1, against the limit computed from the simulator's flags);
 * nothing here is a test, and no figure is asserted anywhere.
 *
 *   npm run bench:perf -- [--duration 5] [--warmup 1] [--rounds 1] [--only split,p1,p2,p3,p4,p5,profile,p6,p6-model,p7]
 *     [--quiet-below 0.7] [--quiet-wait-minutes 15] [--out /tmp/autobatch-perf] [--no-build]
 *
 * Markdown on stdout; the same Markdown and a JSON of the rows under --out.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VERSION } from '../../src/version.js';
import { ensureBuild } from '../ensure-build.js';
import { runBenchScript } from '../script-main.js';
import type { ServiceGroup } from '../service-process.js';
import { REPO_ROOT } from '../service-specs.js';
import { measureConnections } from './connections.js';
import { measureDispatch, measureDispatchModel, parseRounds } from './dispatch.js';
import { measureProfiles } from './cpu-profile.js';
import { measureLowLoad } from './low-load.js';
import {
  fixed,
  loadAverage,
  positive,
  renderTargetsTable,
  say,
  waitForQuiet,
  type PerfResult,
  type PerfTiming,
  type TargetRow,
} from './perf-services.js';
import { measureProxyCost } from './proxy-cost.js';
import { measureRealModel } from './real-model.js';
import { measureSaturation } from './saturation.js';
import { measureSplit } from './split.js';
import { measureSteps } from './steps.js';

type Measure = (services: ServiceGroup, timing: PerfTiming) => Promise<PerfResult>;

async function splitting(): Promise<PerfResult> {
  const r = measureSplit();
  return {
    rows: [
      {
        id: 'split',
        what: 'cutting a 32 × 768 /embed answer into 32 answers: JSON.parse + stringify ÷ scan and copy (same process, alternating)',
        target: '–',
        measured: `${fixed(r.ratio)}× faster (${fixed(r.scanMs * 1000)} vs ${fixed(r.parseMs * 1000)} µs); same bytes: ${r.sameBytes ? 'yes' : 'no'}`,
        met: r.sameBytes ? null : false,
      },
    ],
    details: [
      '### Splitting (bench/perf/split.ts)',
      '',
      `A ${(r.bytes / 1024).toFixed(0)} KiB answer of 32 × 768 f32 values: scan + copy ${fixed(r.scanMs * 1000)} µs, JSON.parse + stringify ${fixed(r.parseMs * 1000)} µs per answer; ` +
        `${fixed(r.ratio)}×; each client's bytes are the upstream's own: ${String(r.sameBytes)}.`,
    ].join('\n'),
  };
}

const MEASUREMENTS: ReadonlyArray<{ key: string; title: string; run: Measure }> = [
  { key: 'split', title: 'splitting', run: () => splitting() },
  { key: 'p1', title: 'P1 saturation', run: measureSaturation },
  { key: 'p2', title: 'P2 low load', run: measureLowLoad },
  { key: 'p3', title: 'P3 proxy cost', run: measureProxyCost },
  { key: 'p4', title: 'P4 real model', run: measureRealModel },
  { key: 'p5', title: 'P5 connections', run: measureConnections },
  { key: 'profile', title: 'CPU profiles', run: (services, timing) => measureProfiles(services, timing) },
  { key: 'p6', title: 'P6 adaptive dispatch', run: measureDispatch },
  { key: 'p6-model', title: 'P6 adaptive dispatch, USE model', run: measureDispatchModel },
  { key: 'p7', title: 'P7 convergence after load steps', run: measureSteps },
];

const USAGE = `Usage: npm run bench:perf -- [options]
  --duration <s>             measured seconds per side and level (default 5; P4 at least 15)
  --warmup <s>               unmeasured seconds before each (default 1; P4 at least 5)
  --rounds <n>               P6: times each level is measured, each cell the median (default 1)
  --only <list>              ${MEASUREMENTS.map((m) => m.key).join(',')} or a subset (default all)
  --quiet-below <load>       wait for the 1-minute load average to drop below this (default 0.7; 0: never wait)
  --quiet-wait-minutes <m>   longest wait before the first measurement (default 15; 1 before each later one)
  --out <dir>                where perf.md and perf.json go (default /tmp/autobatch-perf)
  --no-build                 do not build dist/ even if it is missing or older than src/`;

function sourceState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? `commit ${head}` : `commit ${head} with uncommitted changes in src/ (${dirty.split('\n').length} files)`;
  } catch {
    return 'unknown commit';
  }
}

function machineLine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}, node ${process.version}; autobatch ${VERSION}`;
}

interface PerfOptions {
  timing: PerfTiming;
  quietBelow: number;
  quietWaitMs: number;
  chosen: typeof MEASUREMENTS;
  out: string;
  build: boolean;
}

function parseOptions(args: string[]): PerfOptions | 'help' {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string', default: MEASUREMENTS.map((m) => m.key).join(',') },
      'quiet-below': { type: 'string', default: '0.7' },
      'quiet-wait-minutes': { type: 'string', default: '15' },
      out: { type: 'string', default: '/tmp/autobatch-perf' },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const timing: PerfTiming = {
    durationSeconds: positive('--duration', values.duration),
    warmupSeconds: positive('--warmup', values.warmup, true),
    rounds: parseRounds(values.rounds),
  };
  const quietBelow = positive('--quiet-below', values['quiet-below'], true);
  const quietWaitMs = positive('--quiet-wait-minutes', values['quiet-wait-minutes'], true) * 60_000;
  const keys = values.only.split(',').map((key) => key.trim().toLowerCase());
  for (const key of keys) if (!MEASUREMENTS.some((m) => m.key === key)) throw new Error(`--only: unknown "${key}"`);
  const chosen = MEASUREMENTS.filter((m) => keys.includes(m.key));
  return { timing, quietBelow, quietWaitMs, chosen, out: values.out, build: !values['no-build'] };
}

process.exitCode = await runBenchScript({
  name: 'bench:perf',
  usage: USAGE,
  parse: parseOptions,
  stopping: 'stopping the servers…',
  async run({ timing, quietBelow, quietWaitMs, chosen, ...options }, services) {
    if (options.build) await ensureBuild(REPO_ROOT, say);
    const rows: TargetRow[] = [];
    const details: string[] = [];
    const loads: string[] = [];
    const startedAt = new Date().toISOString();
    for (const [index, measurement] of chosen.entries()) {
      if (quietBelow > 0) {
        const wait = await waitForQuiet(quietBelow, index === 0 ? quietWaitMs : Math.min(quietWaitMs, 60_000));
        if (wait.waitedMs > 0) say(`waited ${fixed(wait.waitedMs / 1000, 0)} s for a quieter machine`);
      }
      loads.push(`${measurement.title} ${loadAverage().toFixed(2)}`);
      say(`— ${measurement.title} (1-minute load average ${loadAverage().toFixed(2)})`);
      const result = await measurement.run(services, timing);
      rows.push(...result.rows);
      details.push(result.details);
    }
    const markdown = [
      '## Performance targets',
      '',
      renderTargetsTable(rows),
      '',
      `- machine: ${machineLine()}`,
      `- code: ${sourceState()}; measured ${startedAt} to ${new Date().toISOString()}`,
      `- each side of each level: ${timing.durationSeconds} s measured after ${timing.warmupSeconds} s of warm-up (P4: at least 15 s after 5 s)${(timing.rounds ?? 1) > 1 ? `, ${timing.rounds} times in P6 (the median)` : ''}; direct and proxied sides alternate which goes first`,
      `- 1-minute load average at the start of each measurement: ${loads.join(', ')} (this machine has ${os.cpus().length} cores, shared with other work)`,
      `- command: \`npm run build && npm run bench:perf -- ${process.argv.slice(2).join(' ')}\``.replace(/ -- `$/, '`'),
      '',
      ...details.flatMap((section) => [section, '']),
    ].join('\n');
    process.stdout.write(markdown);
    await mkdir(options.out, { recursive: true });
    await writeFile(join(options.out, 'perf.md'), markdown);
    await writeFile(
      join(options.out, 'perf.json'),
      `${JSON.stringify({ startedAt, machine: machineLine(), code: sourceState(), timing, rows }, null, 2)}\n`,
    );
    say(`wrote perf.md and perf.json under ${options.out}`);
  },
});
