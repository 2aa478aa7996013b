/**
 * The simulator's seeds command (bench/policy/simulate.ts seeds): one seed of the jitter can
 * flatter or sink a policy by several percent, so a change is judged on the mean over seeds. This
 * checks that the seed reaches the run (two seeds of the same jitter differ, as runs without
 * jitter do not) and that the table's mean is the mean of its rows.
 */
import { describe, expect, it } from 'vitest';
import { runSteady, type SimTiming } from '../../bench/policy/scenarios.js';
import { DEFAULT_SETTING } from '../../bench/policy/sim-proxy.js';
import { seedsTable } from '../../bench/policy/simulate.js';
import { UPSTREAM_MODELS } from '../../bench/policy/upstream-models.js';

const SHORT: SimTiming = { warmupMs: 500, measureMs: 500, rttMs: 3, jitterMs: 0.5, proxyCpuMs: 0.1 };

describe('seeds of the simulator', () => {
  it('a seed of the jitter reaches the run: two seeds differ, the same seed repeats', async () => {
    const model = UPSTREAM_MODELS['cpu-pad'];
    // Throughput and latency together: in half a second two draws may answer as many requests.
    const rate = async (timing: SimTiming): Promise<number[]> => {
      const phase = (await runSteady(model, DEFAULT_SETTING, 8, timing)).phases[0]!;
      return [phase.inputsPerSecond, phase.p50Ms, phase.p99Ms];
    };
    const first = await rate({ ...SHORT, seed: 1 });
    expect(await rate({ ...SHORT, seed: 2 })).not.toEqual(first);
    expect(await rate({ ...SHORT, seed: 1 })).toEqual(first);
    // Without jitter the seed draws nothing: every seed runs alike.
    const still = { ...SHORT, jitterMs: 0 };
    expect(await rate({ ...still, seed: 2 })).toEqual(await rate({ ...still, seed: 1 }));
  });

  it('one row per seed against the best static setting, then the mean of their shares', async () => {
    const table = await seedsTable('cpu-pad', DEFAULT_SETTING, [8], 2, SHORT);
    const rows = table
      .split('\n')
      .filter((line) => line.startsWith('| 8 |'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map((cells) => cells[2])).toEqual(['1', '2', 'mean']);
    const shares = rows.map((cells) => Number(cells[5]!.replace('%', '')));
    // Each seed's share is its own throughput over the best static of the same seed.
    for (const cells of rows.slice(0, 2)) {
      const own = Number(cells[3]);
      const best = Number(/\((\d+)\)/.exec(cells[4]!)![1]);
      expect(Number(cells[5]!.replace('%', ''))).toBeCloseTo((100 * own) / best, 0);
    }
    expect(shares[2]).toBeCloseTo((shares[0]! + shares[1]!) / 2, 1);
  });
});
