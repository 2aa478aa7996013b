/**
 * Issue 10's targets, asserted on simulated time (bench/policy): the proxy with no tuning flags
 * in front of each modelled upstream. Simulated time is deterministic, so these throughput
 * figures may be asserted in CI; the same targets measured on real processes are bench:perf P6
 * (ratios only, never asserted).
 *
 * "The best static setting" comes from the full 36-setting grid, which takes minutes to simulate:
 * bench/policy/static-grid.json holds its ranking (regenerate it with
 * `node --import tsx bench/policy/simulate.ts grid --json bench/policy/static-grid.json`), and
 * this file re-simulates the top three of each level, so a change in the core that moves the
 * static figures moves the bar with it.
 *
 * Targets the merged policy does not meet yet are listed in KNOWN_MISSES with the reason; they
 * run as `it.fails`, so meeting one turns its test red until the entry is removed. Targets no
 * setting can meet are in BOUNDED, and the bound itself is asserted instead.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSteps } from '../../bench/policy/evaluate.js';
import { runSteady, type SimTiming } from '../../bench/policy/scenarios.js';
import { DEFAULT_SETTING } from '../../bench/policy/sim-proxy.js';
import { parseSetting } from '../../bench/policy/simulate.js';
import { TARGET_UPSTREAMS, UPSTREAM_MODELS, type UpstreamKey } from '../../bench/policy/upstream-models.js';

interface GridFile {
  timing: SimTiming;
  cells: Array<{ upstream: UpstreamKey; clients: number; ranking: Array<[string, number]> }>;
}

const GRID = JSON.parse(readFileSync(new URL('../../bench/policy/static-grid.json', import.meta.url), 'utf8')) as GridFile;
const TIMING = GRID.timing;
const TOP = 3;

/**
 * Targets that are out of reach of any policy of this proxy's kind, replaced by a test of the
 * bound (below, 'bounds'). Each entry says why.
 */
const BOUNDED: Readonly<Record<string, string>> = {
  'tei 128 clients: defaults >= 1.0x direct':
    'bounded: no static setting of the grid beats direct (asserted in "bounds"); the defaults stay within 5% of it',
};

/** Targets the policy does not meet yet, with the reason; they run as `it.fails`. None at the moment. */
const KNOWN_MISSES: Readonly<Record<string, string>> = {};

function target(name: string, run: () => Promise<void>): void {
  if (BOUNDED[name] !== undefined) return;
  const why = KNOWN_MISSES[name];
  if (why === undefined) it(name, run);
  else it.fails(`${name} (known miss: ${why})`, run);
}

/** Runs are deterministic, so each (upstream, target, clients) is simulated once per file. */
const memo = new Map<string, Promise<number>>();
function throughput(upstream: UpstreamKey, target: Parameters<typeof runSteady>[1], clients: number): Promise<number> {
  const key = JSON.stringify([upstream, target, clients]);
  let result = memo.get(key);
  if (result === undefined) {
    result = runSteady(UPSTREAM_MODELS[upstream], target, clients, TIMING).then((r) => r.phases[0]!.inputsPerSecond);
    memo.set(key, result);
  }
  return result;
}

describe('the static grid fixture', () => {
  it('ranks all 36 settings at 8, 32 and 128 clients on each target upstream', () => {
    for (const upstream of TARGET_UPSTREAMS) {
      for (const clients of [8, 32, 128]) {
        const cell = GRID.cells.find((c) => c.upstream === upstream && c.clients === clients);
        expect(cell?.ranking, `${upstream} ${clients}`).toHaveLength(36);
      }
    }
  });
});

describe.each(TARGET_UPSTREAMS)('defaults on the %s upstream', (upstream) => {
  for (const clients of [8, 32, 128]) {
    target(`${upstream} ${clients} clients: defaults >= 95% of the best static`, async () => {
      const cell = GRID.cells.find((c) => c.upstream === upstream && c.clients === clients)!;
      let best = 0;
      for (const [label] of cell.ranking.slice(0, TOP)) best = Math.max(best, await throughput(upstream, parseSetting(label), clients));
      const own = await throughput(upstream, DEFAULT_SETTING, clients);
      expect(own / best).toBeGreaterThanOrEqual(0.95);
    });
  }

  for (const clients of [1, 8, 32, 128]) {
    const floor = clients === 1 ? 0.9 : 1.0;
    target(`${upstream} ${clients} clients: defaults >= ${floor.toFixed(1)}x direct`, async () => {
      const direct = await throughput(upstream, 'direct', clients);
      const own = await throughput(upstream, DEFAULT_SETTING, clients);
      expect(own / direct).toBeGreaterThanOrEqual(floor);
    });
  }

  target(`${upstream}: after steps 1 -> 128 -> 8 clients, 90% of each level's steady throughput within 2 s`, async () => {
    const { steps } = await runSteps(UPSTREAM_MODELS[upstream], DEFAULT_SETTING, TIMING);
    for (const step of steps) expect(step.settleMs, `${step.from} -> ${step.to}`).toBeLessThanOrEqual(2000);
  });

  // Tighter than the target, as simulated (deterministic): 1 -> 128 settles in 300 ms (padded CPU)
  // to 900 ms (two slots, whose overlapping calls leave the exploration to its 64-call end), and
  // 128 -> 8 in 600 to 800 ms. A change that slows either shows here before it nears 2 s.
  it(`${upstream}: after steps 1 -> 128 -> 8 clients, settled within 1 s of each step on simulated time`, async () => {
    const { steps } = await runSteps(UPSTREAM_MODELS[upstream], DEFAULT_SETTING, TIMING);
    for (const step of steps) expect(step.settleMs, `${step.from} -> ${step.to}`).toBeLessThanOrEqual(1000);
  });
});

describe('no regression', () => {
  it('GPU-like upstream, 64 clients: defaults reach 98% of its limit (full batches of 32 back to back)', async () => {
    const model = UPSTREAM_MODELS.gpu;
    const limit = (1000 * 32) / (model.perCallMs + model.perItemMs * 32);
    expect((await throughput('gpu', DEFAULT_SETTING, 64)) / limit).toBeGreaterThanOrEqual(0.98);
  });
});

describe('bounds', () => {
  /*
   * TEI-like upstream, 128 clients: above 1.0x direct is out of reach of a proxy that sends a call
   * as soon as a slot frees. Direct, TEI's queue alternates two backend batches per client cycle
   * (the first answer back starts a batch alone on the idle backend, the other 127 queue behind
   * it): 2 × 10 ms + 0.1 ms × 128 = 32.8 ms per 128 inputs, 3904/s. Through the proxy the calls
   * (at most 32 inputs each, TEI's max_client_batch_size) merge the same way, 32 then 96, for the
   * same 32.8 ms: every setting of the grid is at or below direct (4/32/off, 8/16/off, 8/32/off
   * equal it), so "≥ 1.0x" would ask the policy to beat every static setting. What is asserted:
   * the bound holds in the grid (re-simulated), and the defaults stay within 5% of direct.
   */
  it('tei 128 clients: no static setting of the grid beats direct, and the defaults are within 5% of direct', async () => {
    const direct = await throughput('tei', 'direct', 128);
    const cell = GRID.cells.find((c) => c.upstream === 'tei' && c.clients === 128)!;
    for (const [label] of cell.ranking.slice(0, TOP)) expect(await throughput('tei', parseSetting(label), 128)).toBeLessThanOrEqual(direct);
    expect((await throughput('tei', DEFAULT_SETTING, 128)) / direct).toBeGreaterThanOrEqual(0.95);
  });
});

/*
 * The same proxy with a real machine's costs modelled (bench/policy: the proxy's CPU 0.4 ms per
 * request on one event loop, and 0.5 ms of seeded jitter per round trip; still deterministic).
 * There requests of a burst reach the batcher spread over the proxy's CPU time, and smaller
 * batches staged while the proxy reads the next requests pay at 32 clients (2/16/off, 4/8/off),
 * which the deterministic model cannot show (its best is one call of 32). The policy must find
 * that too: its probes are judged on windows whose noise it measures.
 */
describe('with the proxy CPU and jitter modelled', () => {
  const NOISY: SimTiming = { ...TIMING, proxyCpuMs: 0.4, jitterMs: 0.5 };
  const noisyMemo = new Map<string, Promise<number>>();
  const noisy = (upstream: UpstreamKey, target: Parameters<typeof runSteady>[1], clients: number): Promise<number> => {
    const key = JSON.stringify([upstream, target, clients]);
    let result = noisyMemo.get(key);
    if (result === undefined) {
      result = runSteady(UPSTREAM_MODELS[upstream], target, clients, NOISY).then((r) => r.phases[0]!.inputsPerSecond);
      noisyMemo.set(key, result);
    }
    return result;
  };
  for (const upstream of ['gpu', 'tei', 'two-slot'] as const) {
    it(`${upstream} 32 clients: defaults >= 95% of 2/16/off and 4/8/off (smaller batches staged pay here)`, async () => {
      let best = 0;
      for (const label of ['2/16/off', '4/8/off']) best = Math.max(best, await noisy(upstream, parseSetting(label), 32));
      expect((await noisy(upstream, DEFAULT_SETTING, 32)) / best).toBeGreaterThanOrEqual(0.95);
    });
  }
});

/**
 * Clients 3 ms away (the hop both ways on real processes on this machine, where a plain proxy
 * costs 2-3 ms a request) and the proxy's CPU: fewer inputs are in the system at once, and the
 * length plan must still find narrow bands at 128 clients. It planned buckets of 3 there, 87% of
 * 4/32/1.5, until it measured how many inputs banded calls gather (src/core/policy/gathering.ts).
 */
describe('with clients 3 ms away', () => {
  const FAR: SimTiming = { warmupMs: 2000, measureMs: 4000, rttMs: 3, jitterMs: 0.5, proxyCpuMs: 0.1 };
  it('cpu-pad 128 clients: defaults >= 95% of 4/32/1.5 and 2/32/1.5', async () => {
    const model = UPSTREAM_MODELS['cpu-pad'];
    let best = 0;
    for (const label of ['4/32/1.5', '2/32/1.5'])
      best = Math.max(best, (await runSteady(model, parseSetting(label), 128, FAR)).phases[0]!.inputsPerSecond);
    const defaults = await runSteady(model, DEFAULT_SETTING, 128, FAR);
    expect(defaults.phases[0]!.inputsPerSecond / best).toBeGreaterThanOrEqual(0.95);
    expect(defaults.decisions!.routes[0]!.bucketFactor.value).toBe(1.5);
  });
});
