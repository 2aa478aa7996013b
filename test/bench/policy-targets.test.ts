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
 * run as `it.fails`, so meeting one turns its test red until the entry is removed.
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

/** Against the adaptive policy of policy-core fd7b0ca (simulated figures in docs/benchmarks-dispatch.md). */
const KNOWN_MISSES: Readonly<Record<string, string>> = {
  'tei 128 clients: defaults >= 1.0x direct':
    'the in-flight limit climbs to 4 and stops: TEI merges 4 × 32 per cycle, direct it merges all 128 queued inputs (0.97×; the best static 4/32/off only equals direct)',
  'cpu-pad 128 clients: defaults >= 95% of the best static':
    'the length plan keeps buckets of factor 3 where 1.5 is best: wider bands put paragraphs with shorter texts (59% of 4/32/1.5; 1.00× direct)',
  'two-slot 32 clients: defaults >= 95% of the best static':
    'the in-flight limit is not raised at 32 clients, so one of two backend slots idles while a partial batch runs (89% of 2/16/off)',
};

function target(name: string, run: () => Promise<void>): void {
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
});

describe('no regression', () => {
  it('GPU-like upstream, 64 clients: defaults reach 98% of its limit (full batches of 32 back to back)', async () => {
    const model = UPSTREAM_MODELS.gpu;
    const limit = (1000 * 32) / (model.perCallMs + model.perItemMs * 32);
    expect((await throughput('gpu', DEFAULT_SETTING, 64)) / limit).toBeGreaterThanOrEqual(0.98);
  });
});
