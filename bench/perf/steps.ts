/**
 * P7, convergence on real processes (issue 10): after a load step from 1 to 128 closed-loop
 * clients and from 128 to 8, how long until autobatch with no tuning flags delivers 90% of that
 * level's steady throughput. The simulator answers this deterministically (bench/policy,
 * `simulate.ts steps`); this is the same question asked of real processes, where calls jitter and
 * the load generator, the proxy and the upstream share the machine's cores.
 *
 * One proxy (defaults) in front of the TEI simulator with a cost model of P6 sees 1 client, then
 * 128, then 8; every answer is counted in its 100-ms bin, and the policy's in-flight limit and
 * bucket factor are read from GET /autobatch/policy every 100 ms, so the curve shows what the
 * policy did while throughput moved. Each level's steady throughput is a fresh default proxy at
 * that level alone (2 s of warm-up, then measured), and settling is judged as the simulator judges
 * it (bench/settle.ts).
 *
 *   node --import tsx bench/perf/steps.ts [--upstreams gpu,tei,cpu-pad]
 *   npm run bench:perf -- --only p7
 */
import { performance } from 'node:perf_hooks';
import { runBench } from '../../src/loadgen/index.js';
import { BenchTarget } from '../../src/loadgen/bench-target.js';
import { BUILT_IN_CORPUS } from '../../src/loadgen/corpus.js';
import { routeShapeFor } from '../../src/loadgen/route-shapes.js';
import { settleMs, SETTLE_SHARE, SETTLE_WITHIN_MS, windowBinsFor } from '../settle.js';
import type { ServiceGroup } from '../service-process.js';
import { autobatchProxy } from '../service-specs.js';
import { fetchPolicyJson, gridBest, SIM_UPSTREAMS, staticArgs } from './dispatch.js';
import { settingLabel } from '../policy/sim-proxy.js';
import { fixed, isMain, runStandalone, say, type PerfResult, type PerfTiming, type TargetRow } from './perf-services.js';

/** The issue's steps; each phase long enough to show the settled level after the 2 s allowed. */
const PHASES = [
  { clients: 1, durationMs: 2000 },
  { clients: 128, durationMs: 4000 },
  { clients: 8, durationMs: 4000 },
] as const;
const BIN_MS = 100;
/** A fresh proxy's steady level: warm-up long enough for the policy to have learned it. */
const STEADY_TIMING: PerfTiming = { warmupSeconds: 4, durationSeconds: 3 };
/** One client before the curve starts: a proxy just started runs cold (JIT) for about a second. */
const PREWARM_MS = 1500;

interface PolicySample {
  atMs: number;
  inflight: number | null;
  bucket: string;
}

interface StepRun {
  /** Inputs per second in each 100-ms bin from the start of the first phase. */
  curve: number[];
  policy: PolicySample[];
  errors: number;
}

/** The in-flight limit and the first route's bucket factor, from the policy endpoint. */
async function samplePolicy(proxyUrl: string): Promise<{ inflight: number | null; bucket: string }> {
  const body = (await fetchPolicyJson(proxyUrl, 1000)) as {
    inflightLimit?: { value?: number };
    routes?: Array<{ bucketFactor?: { value?: number | null } }>;
  } | null;
  const factor = body?.routes?.[0]?.bucketFactor?.value;
  return { inflight: body?.inflightLimit?.value ?? null, bucket: factor === undefined ? '?' : factor === null ? 'off' : String(factor) };
}

/**
 * The stepped closed loop: client i is active in every phase with more than i clients and sends
 * again as soon as it is answered while its phases last; clients beyond a phase's count stop after
 * their answer, as in the simulator.
 */
async function runStepped(proxyUrl: string): Promise<StepRun> {
  const shape = routeShapeFor('/embed');
  const target = new BenchTarget({ role: 'target', url: proxyUrl, route: '/embed', connections: 128, timeoutMs: 30_000, shape, headers: {} });
  const bodies = BUILT_IN_CORPUS.map((text) => ({ body: Buffer.from(shape.buildBody([text], {})), inputCount: 1 }));
  const totalMs = PHASES.reduce((sum, p) => sum + p.durationMs, 0);
  const curve = new Array<number>(Math.ceil(totalMs / BIN_MS)).fill(0);
  const policy: PolicySample[] = [];
  let errors = 0;
  let next = 0;
  const prewarmUntil = performance.now() + PREWARM_MS;
  while (performance.now() < prewarmUntil) await target.send(bodies[next++ % bodies.length]!);
  const start = performance.now();
  const elapsed = (): number => performance.now() - start;
  // When client i may start sending and when it must stop.
  const windowOf = (i: number): { from: number; to: number } | undefined => {
    let from = Infinity;
    let to = -Infinity;
    let at = 0;
    for (const phase of PHASES) {
      if (i < phase.clients) {
        from = Math.min(from, at);
        to = Math.max(to, at + phase.durationMs);
      }
      at += phase.durationMs;
    }
    return from === Infinity ? undefined : { from, to };
  };
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  const client = async (i: number): Promise<void> => {
    const window = windowOf(i)!;
    await sleep(window.from - elapsed());
    while (elapsed() < window.to) {
      const outcome = await target.send(bodies[next++ % bodies.length]!);
      const bin = Math.floor(elapsed() / BIN_MS);
      if (!outcome.ok) errors += 1;
      else if (bin < curve.length) curve[bin]! += 1000 / BIN_MS;
    }
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const atMs = elapsed();
      policy.push({ atMs, ...(await samplePolicy(proxyUrl)) });
      await sleep(BIN_MS - (elapsed() - atMs));
    }
  })();
  const maxClients = Math.max(...PHASES.map((p) => p.clients));
  await Promise.all(Array.from({ length: maxClients }, (_, i) => client(i)));
  sampling = false;
  await sampler;
  await target.close();
  return { curve, policy, errors };
}

/** A fresh proxy (these flags) at one level alone: its steady throughput and median latency. */
async function steadyLevel(
  services: ServiceGroup,
  upstreamUrl: string,
  args: readonly string[],
  clients: number,
): Promise<{ inputsPerSecond: number; p50Ms: number }> {
  const proxy = await services.start(autobatchProxy(upstreamUrl, args));
  try {
    const report = await runBench({ url: proxy.url, concurrency: [clients], inputsPerRequest: 1, ...STEADY_TIMING });
    const target = report.levels[0]!.target;
    return { inputsPerSecond: target.inputsPerSecond, p50Ms: target.latencyMs?.p50 ?? 0 };
  } finally {
    await proxy.stop();
  }
}

/** The policy's state in each half second, for the line under the curve. */
function policyLine(samples: readonly PolicySample[], fromMs: number, toMs: number): string {
  const cells: string[] = [];
  for (let at = fromMs; at < toMs; at += 500) {
    const last = samples.filter((s) => s.atMs < at + 500).at(-1);
    cells.push(last === undefined ? '?' : `${last.inflight ?? '?'}/${last.bucket}`);
  }
  return cells.join(' ');
}

interface Setting {
  label: string;
  args: readonly string[];
}

/** The stepped run through a fresh proxy with these flags, and its settling after each step. */
async function measureSetting(
  services: ServiceGroup,
  upstreamUrl: string,
  setting: Setting,
): Promise<{ run: StepRun; steps: Array<{ steady: number; windowBins: number; settled: number }> }> {
  const proxy = await services.start(autobatchProxy(upstreamUrl, setting.args));
  let run: StepRun;
  try {
    run = await runStepped(proxy.url);
  } finally {
    await proxy.stop();
  }
  const steps = [];
  let atMs = 0;
  for (let i = 1; i < PHASES.length; i++) {
    atMs += PHASES[i - 1]!.durationMs;
    const phase = PHASES[i]!;
    const steady = await steadyLevel(services, upstreamUrl, setting.args, phase.clients);
    const windowBins = windowBinsFor(BIN_MS, steady.p50Ms);
    steps.push({
      steady: steady.inputsPerSecond,
      windowBins,
      settled: settleMs(run.curve, BIN_MS, atMs, phase.durationMs, steady.inputsPerSecond, windowBins),
    });
  }
  return { run, steps };
}

function curveLines(run: StepRun, withPolicy: boolean): string[] {
  const lines: string[] = [];
  for (let second = 0; second * 1000 < run.curve.length * BIN_MS; second++) {
    const bins = run.curve.slice(second * 10, second * 10 + 10).map((v) => fixed(v, 0).padStart(5));
    const policy = withPolicy ? `    policy ${policyLine(run.policy, second * 1000, second * 1000 + 1000)}` : '';
    lines.push(`${String(second).padStart(3)} s ${bins.join('')}${policy}`);
  }
  return lines;
}

/**
 * The defaults, and beside them the simulator's best static setting at 128 clients through the
 * same steps: a fresh process, new connections and code paths not yet optimised by V8 slow any
 * proxy after a step, learning or not; the static run shows how much of the settling is that.
 */
async function measureUpstream(services: ServiceGroup, upstream: (typeof SIM_UPSTREAMS)[number], rows: TargetRow[]): Promise<string> {
  const server = await services.start(upstream.spec());
  try {
    const best = gridBest(upstream.gridKey, 128);
    const settings: Setting[] = [{ label: 'defaults', args: [] }];
    if (best !== undefined) settings.push({ label: `static ${settingLabel(best)}`, args: staticArgs(best) });
    const measured = [];
    for (const setting of settings) {
      say(`P7: ${upstream.title}, ${setting.label}, steps 1 -> 128 -> 8 clients`);
      measured.push(await measureSetting(services, server.url, setting));
    }
    const cell = (step: { steady: number; windowBins: number; settled: number }): string => {
      const within = Number.isFinite(step.settled) ? `${fixed(step.settled, 0)} ms` : 'not within the phase';
      return `${step.settled <= SETTLE_WITHIN_MS ? within : `**${within}**`} (steady ${fixed(step.steady, 0)}/s, ${step.windowBins * BIN_MS} ms window)`;
    };
    const lines = [
      `#### ${upstream.title}: \`${upstream.flags}\``,
      '',
      `| step | ${settings.map((s) => `${s.label}: settled within`).join(' | ')} |`,
      `| --- | ${settings.map(() => '---:').join(' | ')} |`,
    ];
    for (let i = 1; i < PHASES.length; i++) {
      const from = PHASES[i - 1]!.clients;
      const to = PHASES[i]!.clients;
      lines.push(`| ${from} -> ${to} | ${measured.map((m) => cell(m.steps[i - 1]!)).join(' | ')} |`);
      const own = measured[0]!;
      const step = own.steps[i - 1]!;
      rows.push({
        id: 'P7',
        what: `${upstream.title}, ${from} -> ${to} clients: time to ${SETTLE_SHARE * 100}% of the level's steady throughput`,
        target: `≤ ${SETTLE_WITHIN_MS} ms`,
        measured: `${Number.isFinite(step.settled) ? `${fixed(step.settled, 0)} ms` : 'not within the phase'} (steady ${fixed(step.steady, 0)} inputs/s)${
          measured[1] === undefined
            ? ''
            : `; ${settings[1]!.label}: ${Number.isFinite(measured[1].steps[i - 1]!.settled) ? `${fixed(measured[1].steps[i - 1]!.settled, 0)} ms` : 'not within'}`
        }`,
        met: own.run.errors === 0 && step.settled <= SETTLE_WITHIN_MS,
      });
    }
    lines.push('', 'Defaults, inputs/s per 100 ms; beside each second, the in-flight limit / bucket factor each half second:', '', '```');
    lines.push(...curveLines(measured[0]!.run, true), '```');
    if (measured[1] !== undefined)
      lines.push('', `${settings[1]!.label}, inputs/s per 100 ms:`, '', '```', ...curveLines(measured[1].run, false), '```');
    lines.push('', `Errors: ${measured.map((m, i) => `${settings[i]!.label} ${m.run.errors}`).join(', ')}.`);
    return lines.join('\n');
  } finally {
    await server.stop();
  }
}

export async function measureSteps(services: ServiceGroup, _timing: PerfTiming, only: readonly string[] = []): Promise<PerfResult> {
  const rows: TargetRow[] = [];
  const sections: string[] = [];
  for (const upstream of SIM_UPSTREAMS.filter((u) => only.length === 0 || only.includes(u.key)))
    sections.push(await measureUpstream(services, upstream, rows));
  const intro =
    `Closed-loop clients, one input per request, the built-in corpus: ${PHASES.map((p) => `${p.clients} client${p.clients === 1 ? '' : 's'} for ${p.durationMs / 1000} s`).join(', then ')}, ` +
    "through one default proxy, then through one with the simulator's best static setting at 128 clients (after 1.5 s of one client unmeasured: a fresh process runs cold); each steady level is a fresh proxy with the same flags at that level alone (4 s warm-up, 3 s measured). " +
    'Settled: the first window (at least 300 ms and one median request cycle) at 90% of steady, with the rest of the phase holding 90% on average.';
  return { rows, details: ['### P7 convergence after load steps (real processes)', '', intro, '', ...sections.flatMap((s) => [s, ''])].join('\n') };
}

if (isMain(import.meta.url)) {
  const at = process.argv.indexOf('--upstreams');
  const only = at > 0 ? (process.argv[at + 1] ?? '').split(',') : [];
  await runStandalone((services, timing) => measureSteps(services, timing, only));
}
