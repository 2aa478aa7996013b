/**
 * The dispatch policy on simulated time (issue 10): the real batching core, fed as the HTTP
 * handler feeds it, in front of modelled upstreams (upstream-models.ts) with closed-loop clients
 * (scenarios.ts). No sockets and no machine noise: a run of seconds of simulated load takes a
 * fraction of a second and gives the same figures every time, so a policy can be judged on the
 * whole load matrix before it is measured for real (bench:perf P6), and CI can assert the figures
 * (test/bench/policy-targets.test.ts).
 *
 *   node --import tsx bench/policy/simulate.ts [matrix|grid|steps|all|summary|seeds] [options]
 *     --upstreams gpu,tei,cpu-pad,two-slot   models (also tei-cpu: TEI's CPU image, merge + pad; use-like, use-cheap-pad)
 *     --clients 1,8,32,128                   closed-loop clients per level
 *     --setting defaults|I/B/F               the proxy: no tuning flags, or --max-inflight I
 *                                            --max-batch-size B --bucket-by-length F (F: off, 1.5, 2)
 *     --warmup-ms 2000 --measure-ms 2000     per level, simulated time
 *     --rtt-ms 0.3                           round trip of each network leg
 *     --jitter-ms 0 --proxy-cpu-ms 0         a real machine's noise: mean extra delay per round
 *                                            trip (seeded), and the proxy's CPU per request
 *     --json <file>                          also write the grid's ranking as JSON
 *     --seeds 3                              seeds: how many seeds of the jitter (1, 2, ...)
 *
 * matrix: the setting vs direct at each level. grid: the 36 static settings at each level, best
 * first, and the setting against the best. steps: 1 -> 128 -> 8 clients, throughput per 100 ms.
 * summary: every target in one table (the best static from the top three of static-grid.json).
 * seeds: the setting against the best of the 36 static settings, each seed of the jitter on its
 * own and their mean (one seed's figures move by several percent with the jitter's draw, so a
 * policy change is judged on several; give --jitter-ms, or every seed runs alike).
 * Markdown on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { STATIC_GRID, STEP_PHASES, compareWithDirect, rankSettings, runSteps, type Scored } from './evaluate.js';
import { DEFAULT_TIMING, runSteady, type SimTiming } from './scenarios.js';
import { DEFAULT_SETTING, settingFlags, settingLabel, staticSetting, summarizeDecisions, type DispatchSetting } from './sim-proxy.js';
import { TARGET_UPSTREAMS, UPSTREAM_MODELS, type UpstreamKey } from './upstream-models.js';

export { STATIC_GRID, compareWithDirect, rankSettings, runSteps } from './evaluate.js';
export { runLoad, runSteady, DEFAULT_TIMING } from './scenarios.js';
export { DEFAULT_SETTING, staticSetting, settingFlags, settingLabel } from './sim-proxy.js';
export { UPSTREAM_MODELS, TARGET_UPSTREAMS } from './upstream-models.js';

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');

export function parseSetting(text: string): DispatchSetting {
  if (text === 'defaults') return DEFAULT_SETTING;
  const match = /^(\d+)\/(\d+)\/(off|\d+(?:\.\d+)?)$/.exec(text);
  if (match === null) throw new Error(`--setting: "defaults" or inflight/batch/buckets (e.g. 2/16/2), got ${text}`);
  return staticSetting(Number(match[1]), Number(match[2]), match[3] === 'off' ? undefined : Number(match[3]));
}

export async function matrixTable(upstream: UpstreamKey, setting: DispatchSetting, clients: readonly number[], timing: SimTiming): Promise<string> {
  const model = UPSTREAM_MODELS[upstream];
  const lines = [
    `#### ${model.title}: ${settingFlags(setting)}`,
    '',
    '| clients | direct inputs/s | proxied inputs/s | ÷ direct | inputs per call | inputs per backend batch | p50 / p99 ms direct | p50 / p99 ms proxied |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const notes: string[] = [];
  for (const n of clients) {
    const r = await compareWithDirect(model, setting, n, timing);
    const d = r.direct.phases[0]!;
    const p = r.proxied.phases[0]!;
    lines.push(
      `| ${n} | ${f0(d.inputsPerSecond)} | ${f0(p.inputsPerSecond)} | ${f2(r.ratio)}× | ${f1(r.proxied.meanCall)} | ${f1(r.proxied.meanBatch)} | ${f1(d.p50Ms)} / ${f1(d.p99Ms)} | ${f1(p.p50Ms)} / ${f1(p.p99Ms)} |`,
    );
    if (r.proxied.decisions !== undefined) notes.push(`- ${n} clients: ${summarizeDecisions(r.proxied.decisions)}`);
  }
  return [...lines, ...(notes.length > 0 ? ['', 'Policy decisions at the end of each level:', ...notes] : [])].join('\n');
}

export interface GridCell {
  upstream: UpstreamKey;
  clients: number;
  ranking: Scored[];
  setting: number;
}

export async function gridTable(
  upstream: UpstreamKey,
  setting: DispatchSetting,
  clients: readonly number[],
  timing: SimTiming,
  cells: GridCell[],
): Promise<string> {
  const model = UPSTREAM_MODELS[upstream];
  const lines = [
    `#### ${model.title}: the 36 static settings vs ${settingLabel(setting)}`,
    '',
    'Settings as max-inflight/max-batch-size/bucket-by-length, max-wait-ms 5.',
    '',
    '| clients | best static | inputs/s | 2nd | 3rd | worst | ' + `${settingLabel(setting)} inputs/s | ÷ best |`,
    '| ---: | --- | ---: | --- | --- | --- | ---: | ---: |',
  ];
  for (const n of clients) {
    const ranking = await rankSettings(model, n, STATIC_GRID, timing);
    const own = (await compareWithDirect(model, setting, n, timing)).proxied.phases[0]!.inputsPerSecond;
    const best = ranking[0]!;
    const cell = (s: Scored): string => `${settingLabel(s.setting)} (${f0(s.inputsPerSecond)})`;
    lines.push(
      `| ${n} | ${settingLabel(best.setting)} | ${f0(best.inputsPerSecond)} | ${cell(ranking[1]!)} | ${cell(ranking[2]!)} | ${cell(ranking.at(-1)!)} | ${f0(own)} | ${f2(own / best.inputsPerSecond)} |`,
    );
    cells.push({ upstream, clients: n, ranking, setting: own });
  }
  return lines.join('\n');
}

export async function stepsTable(upstream: UpstreamKey, setting: DispatchSetting, timing: SimTiming): Promise<string> {
  const model = UPSTREAM_MODELS[upstream];
  const { run, steps } = await runSteps(model, setting, timing);
  const curve = run.curve.map((v) => f0(v));
  const perSecond = Math.round(1000 / run.binMs);
  const rows: string[] = [];
  for (let i = 0; i < curve.length; i += perSecond) rows.push(`| ${f1((i * run.binMs) / 1000)} s | ${curve.slice(i, i + perSecond).join(' ')} |`);
  return [
    `#### ${model.title}: ${settingLabel(setting)}, ${STEP_PHASES.map((p) => `${p.clients} clients for ${p.durationMs / 1000} s`).join(', then ')}`,
    '',
    '| step | at | steady inputs/s of the new level | window | settled (90% of steady) within |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...steps.map(
      (s) =>
        `| ${s.from} -> ${s.to} | ${f1(s.atMs / 1000)} s | ${f0(s.steady)} | ${f0(s.windowMs)} ms | ${Number.isFinite(s.settleMs) ? `${f0(s.settleMs)} ms` : '**not within the phase**'} |`,
    ),
    '',
    ...run.phases.flatMap((p, i) =>
      p.decisions === undefined ? [] : [`- end of phase ${i + 1} (${p.clients} clients): ${summarizeDecisions(p.decisions)}`],
    ),
    '',
    `Inputs/s per ${run.binMs} ms (${perSecond} bins per row):`,
    '',
    '| from | inputs/s |',
    '| ---: | --- |',
    ...rows,
  ].join('\n');
}

/**
 * The setting against the best of the issue's 36 static settings, seed by seed of the jitter,
 * and the mean of the shares: what a policy change moves beyond one draw's luck.
 */
export async function seedsTable(
  upstream: UpstreamKey,
  setting: DispatchSetting,
  clients: readonly number[],
  seeds: number,
  timing: SimTiming,
): Promise<string> {
  const model = UPSTREAM_MODELS[upstream];
  const lines = [
    `#### ${model.title}: ${settingLabel(setting)} against the best static setting, seeds 1-${seeds} of the jitter (${f1(timing.jitterMs ?? 0)} ms)`,
    '',
    `| clients | seed | ${settingLabel(setting)} inputs/s | best static | ÷ best static | decisions at the end of the level |`,
    '| ---: | ---: | ---: | --- | ---: | --- |',
  ];
  for (const n of clients) {
    const shares: number[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const seeded: SimTiming = { ...timing, seed };
      const own = (await runSteady(model, setting, n, seeded)).phases[0]!;
      const best = (await rankSettings(model, n, STATIC_GRID, seeded))[0]!;
      const share = own.inputsPerSecond / best.inputsPerSecond;
      shares.push(share);
      lines.push(
        `| ${n} | ${seed} | ${f0(own.inputsPerSecond)} | ${settingLabel(best.setting)} (${f0(best.inputsPerSecond)}) | ${f1(share * 100)}% | ${own.decisions === undefined ? '–' : summarizeDecisions(own.decisions)} |`,
      );
    }
    lines.push(`| ${n} | mean | | | ${f1((100 * shares.reduce((a, b) => a + b, 0)) / shares.length)}% | |`);
  }
  return lines.join('\n');
}

interface GridFixture {
  cells: Array<{ upstream: UpstreamKey; clients: number; ranking: Array<[string, number]> }>;
}

/**
 * One table of every target: per upstream and level, the setting against direct and against
 * the best static setting (the top three of the recorded grid, re-simulated: what the CI test
 * does), the settling times after the steps, and what the policy decided.
 */
export async function summaryTable(upstreams: readonly UpstreamKey[], setting: DispatchSetting, timing: SimTiming): Promise<string> {
  const grid = JSON.parse(readFileSync(new URL('./static-grid.json', import.meta.url), 'utf8')) as GridFixture;
  const lines = [
    `#### Targets on simulated time: ${settingFlags(setting)}`,
    '',
    '| upstream | clients | direct inputs/s | proxied inputs/s | ÷ direct (target) | best static | ÷ best static (≥ 95%) | decisions at the end of the level |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |',
  ];
  const steps: string[] = [];
  for (const upstream of upstreams) {
    const model = UPSTREAM_MODELS[upstream];
    for (const clients of [1, 8, 32, 128]) {
      const r = await compareWithDirect(model, setting, clients, timing);
      const own = r.proxied.phases[0]!.inputsPerSecond;
      const floor = clients === 1 ? 0.9 : 1.0;
      const mark = (ok: boolean, text: string): string => (ok ? text : `**${text}**`);
      let best = '–';
      let vsBest = '–';
      const cell = grid.cells.find((c) => c.upstream === upstream && c.clients === clients);
      if (cell !== undefined) {
        const top = cell.ranking.slice(0, 3).map(([label]) => parseSetting(label));
        const ranked = await rankSettings(model, clients, top, timing);
        best = `${settingLabel(ranked[0]!.setting)} (${f0(ranked[0]!.inputsPerSecond)})`;
        const share = own / ranked[0]!.inputsPerSecond;
        vsBest = mark(share >= 0.95, `${f0(share * 100)}%`);
      }
      const decisions = r.proxied.decisions === undefined ? '–' : summarizeDecisions(r.proxied.decisions);
      lines.push(
        `| ${upstream} | ${clients} | ${f0(r.direct.phases[0]!.inputsPerSecond)} | ${f0(own)} | ${mark(r.ratio >= floor, `${f2(r.ratio)}×`)} (≥ ${floor.toFixed(1)}) | ${best} | ${vsBest} | ${decisions} |`,
      );
    }
    const s = await runSteps(model, setting, timing);
    steps.push(
      `| ${upstream} | ${s.steps.map((x) => `${x.settleMs <= 2000 ? `${f0(x.settleMs)} ms` : `**${Number.isFinite(x.settleMs) ? `${f0(x.settleMs)} ms` : 'not within the phase'}**`} (steady ${f0(x.steady)}/s, ${f0(x.windowMs)} ms window)`).join(' | ')} |`,
    );
  }
  return [
    ...lines,
    '',
    "Settling after the load steps (90% of the new level's steady throughput over a window of at least 300 ms and one request cycle, and holding it on average to the end of the phase; target ≤ 2000 ms):",
    '',
    '| upstream | 1 -> 128 clients | 128 -> 8 clients |',
    '| --- | ---: | ---: |',
    ...steps,
  ].join('\n');
}

const USAGE =
  'Usage: node --import tsx bench/policy/simulate.ts [matrix|grid|steps|all|summary|seeds] [--upstreams gpu,tei,cpu-pad,two-slot] [--clients 1,8,32,128] [--setting defaults|I/B/F] [--warmup-ms 2000] [--measure-ms 2000] [--rtt-ms 0.3] [--jitter-ms 0] [--proxy-cpu-ms 0] [--seeds 3] [--json file]';

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      upstreams: { type: 'string', default: TARGET_UPSTREAMS.join(',') },
      clients: { type: 'string' },
      setting: { type: 'string', default: 'defaults' },
      'warmup-ms': { type: 'string', default: String(DEFAULT_TIMING.warmupMs) },
      'measure-ms': { type: 'string', default: String(DEFAULT_TIMING.measureMs) },
      'rtt-ms': { type: 'string', default: '0.3' },
      'jitter-ms': { type: 'string', default: '0' },
      'proxy-cpu-ms': { type: 'string', default: '0' },
      json: { type: 'string' },
      seeds: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'all';
  if (!['matrix', 'grid', 'steps', 'all', 'summary', 'seeds'].includes(command)) throw new Error(`unknown command ${command}\n${USAGE}`);
  const upstreams = values.upstreams.split(',').map((u) => u.trim()) as UpstreamKey[];
  for (const u of upstreams) if (!(u in UPSTREAM_MODELS)) throw new Error(`--upstreams: unknown ${u} (${Object.keys(UPSTREAM_MODELS).join(', ')})`);
  const setting = parseSetting(values.setting);
  const timing: SimTiming = {
    warmupMs: Number(values['warmup-ms']),
    measureMs: Number(values['measure-ms']),
    rttMs: Number(values['rtt-ms']),
    jitterMs: Number(values['jitter-ms']),
    proxyCpuMs: Number(values['proxy-cpu-ms']),
  };
  const out: string[] = [];
  const print = (text: string): void => {
    out.push(text);
    process.stdout.write(`${text}\n\n`);
  };
  const seeds = Number(values.seeds);
  if (command === 'seeds' && (!Number.isInteger(seeds) || seeds < 1)) throw new Error(`--seeds: a whole number of at least 1, got ${values.seeds}`);
  // Levels of load of grid and seeds (the matrix's default adds one client).
  const levels = (values.clients ?? '8,32,128').split(',').map(Number);
  const cells: GridCell[] = [];
  if (command === 'summary') print(await summaryTable(upstreams, setting, timing));
  for (const upstream of command === 'summary' ? [] : upstreams) {
    if (command === 'matrix' || command === 'all') {
      const clients = (values.clients ?? '1,8,32,128').split(',').map(Number);
      print(await matrixTable(upstream, setting, clients, timing));
    }
    if (command === 'grid' || command === 'all') print(await gridTable(upstream, setting, levels, timing, cells));
    if (command === 'steps' || command === 'all') print(await stepsTable(upstream, setting, timing));
    if (command === 'seeds') print(await seedsTable(upstream, setting, levels, seeds, timing));
  }
  if (values.json !== undefined) {
    // One cell a line, so a regenerated file diffs by level.
    const lines = cells.map((c) =>
      JSON.stringify({
        upstream: c.upstream,
        clients: c.clients,
        [settingLabel(setting)]: Math.round(c.setting),
        ranking: c.ranking.map((s) => [settingLabel(s.setting), Math.round(s.inputsPerSecond)]),
      }),
    );
    writeFileSync(values.json, `{"timing":${JSON.stringify(timing)},"cells":[\n${lines.join(',\n')}\n]}\n`);
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
