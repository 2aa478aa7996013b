/** The topology simulation (bench/scaling/topology.ts): deterministic, and it shows the effects docs/scaling.md relies on. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO, simulateTopology, type TopologyScenario } from '../../bench/scaling/topology.js';

const scenario = (overrides: Partial<TopologyScenario>): TopologyScenario => ({
  ...DEFAULT_SCENARIO,
  topology: 'tier',
  proxies: 1,
  replicas: 1,
  load: 0.5,
  requests: 3000,
  ...overrides,
});

describe('topology simulation', () => {
  it('gives the same numbers for the same scenario', async () => {
    const first = await simulateTopology(scenario({ proxies: 2, replicas: 3 }));
    expect(await simulateTopology(scenario({ proxies: 2, replicas: 3 }))).toEqual(first);
    expect(await simulateTopology(scenario({ proxies: 2, replicas: 3, seed: 2 }))).not.toEqual(first);
  });

  it('answers what is offered below capacity, with full batches near it', async () => {
    const light = await simulateTopology(scenario({ replicas: 3, load: 0.3 }));
    const heavy = await simulateTopology(scenario({ replicas: 3, load: 0.8 }));
    for (const result of [light, heavy]) {
      expect(result.rejected).toBe(0);
      expect(result.throughput / result.offered).toBeGreaterThan(0.9);
      expect(result.throughput / result.offered).toBeLessThan(1.1);
    }
    expect(heavy.meanBatch).toBeGreaterThan(20);
    expect(light.meanBatch).toBeLessThan(heavy.meanBatch);
    // A GPU-like replica's capacity with full batches: 32 inputs per 13.2 ms.
    expect(heavy.capacity).toBeCloseTo((3 * 1000 * 32) / 13.2, 6);
  });

  it('fragments batches when many proxies share a replica: smaller calls, a busier replica, longer waits', async () => {
    const one = await simulateTopology(scenario({ proxies: 1, load: 0.2 }));
    const eight = await simulateTopology(scenario({ proxies: 8, load: 0.2 }));
    expect(eight.meanBatch).toBeLessThan(one.meanBatch);
    expect(eight.utilisation).toBeGreaterThan(one.utilisation);
    expect(eight.p50).toBeGreaterThan(2 * one.p50);
  });

  it('runs a sidecar topology only with one proxy per replica', async () => {
    await expect(simulateTopology(scenario({ topology: 'sidecar', proxies: 2, replicas: 3 }))).rejects.toThrow(/one proxy per replica/);
    const sidecar = await simulateTopology(scenario({ topology: 'sidecar', proxies: 3, replicas: 3 }));
    expect(sidecar.rejected).toBe(0);
    expect(sidecar.throughput / sidecar.offered).toBeGreaterThan(0.9);
  });
});
