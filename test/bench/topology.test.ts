/**
 * The topology simulation (bench/scaling/topology.ts): deterministic, and it shows the effects
 * docs/scaling.md relies on, with the adaptive policy (the default, as the real proxy runs with no
 * tuning flags) and with a pinned --max-inflight.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO, parseInflight, simulateTopology, type TopologyScenario } from '../../bench/scaling/topology.js';

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

  it('runs the adaptive policy unless --max-inflight is given, as the real proxy does', async () => {
    expect(DEFAULT_SCENARIO.maxInflight).toBe('adaptive');
    expect(parseInflight('adaptive')).toBe('adaptive');
    expect(parseInflight('1')).toBe(1);
    for (const text of ['0', '1.5', 'two', '']) expect(() => parseInflight(text)).toThrow(RangeError);
    // Near capacity one proxy fills its batches whichever policy it runs; the static one keeps
    // the pinned limit, the adaptive one starts at 2 per replica and only probes up from there.
    const adaptive = await simulateTopology(scenario({ load: 0.95 }));
    const pinned = await simulateTopology(scenario({ load: 0.95, maxInflight: 2 }));
    for (const result of [adaptive, pinned]) {
      expect(result.rejected).toBe(0);
      expect(result.meanBatch).toBeGreaterThan(0.8 * DEFAULT_SCENARIO.maxBatchSize);
    }
    expect(pinned.decided).toEqual({ inflightPerReplica: 2, workSlotsPerReplica: 1, batchSize: 32 });
    expect(adaptive.decided.inflightPerReplica).toBeGreaterThanOrEqual(2);
  });

  it('with several proxies per replica, pinning --max-inflight 1 still keeps batches full where the adaptive default fragments them as static 2 does', async () => {
    // 10 replicas, 4 proxies, load 0.8 (docs/scaling.md: p50 ~20 ms pinned to 1, 50+ otherwise).
    const shared = { replicas: 10, proxies: 4, load: 0.8, requests: 6000 };
    const adaptive = await simulateTopology(scenario(shared));
    const two = await simulateTopology(scenario({ ...shared, maxInflight: 2 }));
    const one = await simulateTopology(scenario({ ...shared, maxInflight: 1 }));
    expect(one.meanBatch).toBeGreaterThan(28);
    expect(adaptive.meanBatch).toBeLessThan(24);
    expect(one.p50).toBeLessThan(adaptive.p50 / 2);
    expect(one.utilisation).toBeLessThan(adaptive.utilisation - 0.1);
    // The adaptive floor is static 2's shape (a work slot and a staging slot per replica): no better.
    expect(adaptive.p50).toBeGreaterThan(0.9 * two.p50);
    // Static 1 leaves one work slot for the whole proxy (the rest take full batches only); the
    // adaptive policy keeps at least one per replica.
    expect(one.decided.workSlotsPerReplica).toBeCloseTo(0.1, 6);
    expect(adaptive.decided.workSlotsPerReplica).toBeGreaterThanOrEqual(1);
  });

  it('one proxy in front of 50 replicas keeps full batches at load 0.8 and answers all it is offered', async () => {
    // The 50 replicas answer a few hundred microseconds apart. Read as one upstream's answers, each
    // made the next call look almost free, and the batch size was cut to 8: a quarter of the
    // replicas' capacity, 10% of the requests refused (upstream-time.ts).
    const adaptive = await simulateTopology(scenario({ replicas: 50, load: 0.8, requests: 100_000 }));
    expect(adaptive.decided.batchSize).toBe(32);
    expect(adaptive.meanBatch).toBeGreaterThan(24);
    expect(adaptive.rejected).toBe(0);
    expect(adaptive.throughput).toBeGreaterThan(0.95 * adaptive.offered);
  });

  it('matches static 2 on a one-slot replica at load 0.8: a losing halving probe is not repeated', async () => {
    // One proxy, one replica: nothing is shared. The policy once restarted its halving probe about
    // once a second here (the backlog the lost probe left, draining, read as a new level of load),
    // for a p99 three times static 2's; the limiter now ignores a shape probe's echo.
    const adaptive = await simulateTopology(scenario({ load: 0.8, requests: 10_000 }));
    const two = await simulateTopology(scenario({ load: 0.8, requests: 10_000, maxInflight: 2 }));
    expect(adaptive.p99).toBeLessThan(1.25 * two.p99);
    expect(adaptive.utilisation).toBeLessThan(two.utilisation + 0.03);
    expect(adaptive.meanBatch).toBeGreaterThan(two.meanBatch - 1);
  });
});
