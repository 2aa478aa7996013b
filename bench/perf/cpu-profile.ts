/**
 * Where the proxy's time goes: the proxy started with `node --cpu-prof`, loaded as in P1
 * (GPU-like simulator, 64 clients) and as in P3 (zero-cost simulator, 768 dimensions, 256
 * clients), then stopped with SIGINT so that node writes the profile on its way out. Each
 * profile is summed up by self time per function (top 15) and by where the code comes from.
 *
 *   node --import tsx bench/perf/cpu-profile.ts [--keep <dir>] [--cases 1,3]
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { runBench } from '../../src/loadgen/index.js';
import type { ServiceGroup, ServiceSpec } from '../service-process.js';
import { REPO_ROOT, teiSimulator } from '../service-specs.js';
import { PROXY_COST_DIMENSIONS } from './proxy-cost.js';
import { SATURATION_PROXY_ARGS } from './saturation.js';
import {
  GPU_LIKE,
  autobatchWithNodeFlags,
  fixed,
  isMain,
  processGone,
  runStandalone,
  say,
  zeroCostSimulator,
  type PerfResult,
  type PerfTiming,
} from './perf-services.js';

/** The parts of a .cpuprofile (Chrome DevTools protocol Profiler.Profile) read here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  where: string;
  selfMs: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: FunctionTime[];
  /** Self time by origin: autobatch's code, each package, node's internals, GC, ... */
  origins: Array<{ origin: string; selfMs: number }>;
}

const TOP = 15;

function shortLocation(url: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  return path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length) : path;
}

function originOf(name: string, url: string): string {
  if (url === '') return name.startsWith('(') ? name : 'native (V8 builtins, C++)';
  const location = shortLocation(url);
  if (url.startsWith('node:')) return 'node internals (node:*)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = location.split('/');
    return `package ${parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? '?')}`;
  }
  if (location.startsWith('dist/')) return `autobatch ${location.split('/').slice(0, 2).join('/')}/`;
  return location;
}

/**
 * Self time per function: each sample lasts until the next one (as Chrome DevTools counts it).
 * Samples in the first `skipMs` are left out (the proxy's start-up: loading modules is not
 * what serving costs).
 */
export function summariseProfile(profile: CpuProfile, skipMs = 0): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  const times: number[] = [];
  for (const delta of profile.timeDeltas) times.push((at += delta));
  const from = profile.startTime + skipMs * 1000;
  for (let i = 0; i < profile.samples.length; i++) {
    if ((times[i] ?? profile.startTime) < from) continue;
    const duration = (times[i + 1] ?? profile.endTime) - (times[i] ?? profile.startTime);
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(duration, 0));
  }
  const functions = new Map<string, FunctionTime>();
  const origins = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id);
    if (frame === undefined) continue;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = frame.url === '' ? '' : `${shortLocation(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, selfMs: 0 };
    entry.selfMs += us / 1000;
    functions.set(key, entry);
    const origin = originOf(name, frame.url);
    origins.set(origin, (origins.get(origin) ?? 0) + us / 1000);
  }
  return {
    totalMs: (profile.endTime - Math.min(from, profile.endTime)) / 1000,
    idleMs: idleUs / 1000,
    functions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs),
    origins: [...origins.entries()].map(([origin, selfMs]) => ({ origin, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

export function renderProfileSummary(title: string, summary: ProfileSummary, setting: string): string {
  const busyMs = summary.totalMs - summary.idleMs;
  const share = (ms: number): string => `${fixed((ms / busyMs) * 100)}%`;
  const lines = [
    `#### ${title}`,
    '',
    setting,
    '',
    `Over ${fixed(summary.totalMs / 1000, 1)} s: the proxy's thread was busy ${fixed(busyMs / 1000, 2)} s (${fixed((busyMs / summary.totalMs) * 100)}%), idle the rest. Shares below are of the busy time.`,
    '',
    `| # | function | where | self ms | share of busy |`,
    '| ---: | --- | --- | ---: | ---: |',
    ...summary.functions
      .slice(0, TOP)
      .map((f, i) => `| ${i + 1} | \`${f.name}\` | ${f.where === '' ? '–' : `\`${f.where}\``} | ${fixed(f.selfMs, 0)} | ${share(f.selfMs)} |`),
    '',
    'By origin: ' +
      summary.origins
        .slice(0, 8)
        .map((o) => `${o.origin} ${share(o.selfMs)}`)
        .join(', ') +
      '.',
  ];
  return lines.join('\n');
}

interface ProfileCase {
  title: string;
  upstream: ServiceSpec;
  proxyArgs: readonly string[];
  clients: number;
  setting: string;
}

const CASES: readonly ProfileCase[] = [
  {
    title: 'At P1 saturation (GPU-like simulator, 64 clients, --max-batch-size 32)',
    upstream: teiSimulator(GPU_LIKE),
    proxyArgs: SATURATION_PROXY_ARGS,
    clients: 64,
    setting:
      '`node --cpu-prof bin/autobatch.js --max-batch-size 32`, upstream `tei-sim --per-call-ms 10 --per-item-ms 0.1 --slots 1`, 64 closed-loop clients, one input each.',
  },
  {
    title: `At P3 proxy cost (zero-cost simulator, ${PROXY_COST_DIMENSIONS} dimensions, 256 clients)`,
    upstream: zeroCostSimulator(PROXY_COST_DIMENSIONS),
    proxyArgs: [],
    clients: 256,
    setting: `\`node --cpu-prof bin/autobatch.js\` (defaults), upstream \`tei-sim --dimensions ${PROXY_COST_DIMENSIONS}\` without cost flags, 256 closed-loop clients, one input each.`,
  },
  {
    // Where the proxy is CPU-bound against direct: every process shares the machine's cores,
    // so what the proxy spends per request is what it must save the upstream to win.
    title: 'At TEI-like 128 clients (P6, defaults)',
    upstream: teiSimulator({ ...GPU_LIKE, merge: true }),
    proxyArgs: [],
    clients: 128,
    setting:
      '`node --cpu-prof bin/autobatch.js` (defaults), upstream `tei-sim --per-call-ms 10 --per-item-ms 0.1 --slots 1 --merge`, 128 closed-loop clients, one input each.',
  },
];

const EXIT_WAIT_MS = 30_000;

async function profileOne(services: ServiceGroup, profileCase: ProfileCase, timing: PerfTiming, dir: string): Promise<ProfileSummary> {
  const upstream = await services.start(profileCase.upstream);
  const spawnedAt = Date.now();
  let skipMs: number;
  const proxy = await services.start(autobatchWithNodeFlags(upstream.url, ['--cpu-prof', '--cpu-prof-dir', dir], profileCase.proxyArgs));
  try {
    say(`profile: ${profileCase.title}`);
    // The profile is summed up from the end of the warm-up: start-up and warm-up left out.
    skipMs = Date.now() - spawnedAt + timing.warmupSeconds * 1000;
    await runBench({ url: proxy.url, concurrency: [profileCase.clients], inputsPerRequest: 1, ...timing });
    // SIGINT makes the proxy drain and exit on its own, and node writes the profile at exit.
    process.kill(proxy.pid, 'SIGINT');
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (!processGone(proxy.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await proxy.stop();
    await upstream.stop();
  }
  const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`the proxy wrote no .cpuprofile under ${dir}`);
  return summariseProfile(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile, skipMs);
}

/** `only`: the 1-based case numbers to run (all when absent). */
export async function measureProfiles(services: ServiceGroup, timing: PerfTiming, keepDir?: string, only?: readonly number[]): Promise<PerfResult> {
  const sections: string[] = ['### CPU profiles of the proxy'];
  for (const [index, profileCase] of CASES.entries()) {
    if (only !== undefined && !only.includes(index + 1)) continue;
    const dir = keepDir === undefined ? await mkdtemp(join(os.tmpdir(), 'autobatch-cpu-prof-')) : join(keepDir, `case-${index + 1}`);
    try {
      const summary = await profileOne(services, profileCase, timing, dir);
      sections.push(
        renderProfileSummary(
          profileCase.title,
          summary,
          `${profileCase.setting} Summed over the ${timing.durationSeconds} s after start-up and ${timing.warmupSeconds} s of warm-up, to the proxy's exit.`,
        ),
      );
    } finally {
      if (keepDir === undefined) await rm(dir, { recursive: true, force: true });
    }
  }
  return { rows: [], details: sections.join('\n\n') };
}

if (isMain(import.meta.url)) {
  const keep = process.argv.indexOf('--keep');
  const keepDir = keep >= 0 ? process.argv[keep + 1] : undefined;
  const cases = process.argv.indexOf('--cases');
  const only = cases >= 0 ? (process.argv[cases + 1] ?? '').split(',').map(Number) : undefined;
  await runStandalone((services, timing) => measureProfiles(services, timing, keepDir, only));
}
