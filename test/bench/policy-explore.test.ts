/**
 * The exploration for the padding verdict on simulated time (bench/policy): after a step from
 * one client to 128, an upstream whose cost ignores length must leave the exploration's length
 * buckets within a few hundred milliseconds, even with a real machine's noise modelled (where the
 * four-term fit's "does not pad" takes over a second: bench/policy's noisy steps), and padding
 * upstreams, the USE-like one's few slow calls included, must still be found to pad, also where
 * a padding word costs less than a real one.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMING, runLoad, runSteady, type Phase } from '../../bench/policy/scenarios.js';
import { DEFAULT_SETTING } from '../../bench/policy/sim-proxy.js';
import { UPSTREAM_MODELS, type UpstreamKey } from '../../bench/policy/upstream-models.js';
import type { RoutePolicySnapshot } from '../../src/core/policy/dispatch-policy.js';

/** The simulator's real-machine noise, with jitter of 1.5 ms mean per leg (about 2 ms on a call's time). */
const NOISY = { proxyCpuMs: 0.4, jitterMs: 3 };

/** The route's decisions at the end of the last phase. */
async function routeAtEnd(
  upstream: UpstreamKey,
  phases: readonly Phase[],
  noise: { proxyCpuMs: number; jitterMs: number },
): Promise<RoutePolicySnapshot> {
  const run = await runLoad({ model: UPSTREAM_MODELS[upstream], target: DEFAULT_SETTING, phases, ...noise });
  const route = run.phases.at(-1)!.decisions!.routes[0];
  expect(route).toBeDefined();
  return route!;
}

describe('exploring for the padding verdict', () => {
  it('gpu: 300 ms after 1 -> 128 clients, with noise, the buckets are gone and "does not pad" came from the bands costing alike', async () => {
    const route = await routeAtEnd(
      'gpu',
      [
        { clients: 1, durationMs: 2000 },
        { clients: 128, durationMs: 300 },
      ],
      NOISY,
    );
    expect(route.pads.value).toBe(false);
    expect(route.pads.why).toMatch(/length/);
    expect(route.bucketFactor.value).toBeNull();
  });

  it('tei: 700 ms after 1 -> 128 clients, with noise, the buckets are gone (by the bands costing alike, or at the cap)', async () => {
    // TEI merges the calls it holds at once: two calls from different bands answered together are
    // one observation of mixed lengths, not a banded one, so the length-blind fit sees fewer calls
    // and the verdict may not come before the exploration's cap (EXPLORE_CALLS), which ends it.
    const route = await routeAtEnd(
      'tei',
      [
        { clients: 1, durationMs: 2000 },
        { clients: 128, durationMs: 700 },
      ],
      NOISY,
    );
    expect(route.pads.value).not.toBe(true);
    expect(route.bucketFactor.value).toBeNull();
  });

  it('cpu-pad: keeps "pads" through a lone client after 8 clients (a lone client puts no padding at stake), with or without noise', async () => {
    for (const noise of [{ proxyCpuMs: 0, jitterMs: 0 }, NOISY]) {
      const route = await routeAtEnd(
        'cpu-pad',
        [
          { clients: 8, durationMs: 3000 },
          { clients: 1, durationMs: 8000 },
        ],
        noise,
      );
      expect(route.pads.value).toBe(true);
    }
  });

  it('cpu-pad: still found to pad, with or without noise', async () => {
    for (const noise of [{ proxyCpuMs: 0, jitterMs: 0 }, NOISY]) {
      const route = await routeAtEnd(
        'cpu-pad',
        [
          { clients: 1, durationMs: 2000 },
          { clients: 128, durationMs: 2000 },
        ],
        noise,
      );
      expect(route.pads.value).toBe(true);
      expect(route.bucketFactor.value).not.toBeNull();
    }
  });

  for (const clients of [32, 128]) {
    it(`two-slot, ${clients} clients: found not to pad (the padding at stake keeps its pace: a step in load moves only a learned length plan)`, async () => {
      const run = await runSteady(UPSTREAM_MODELS['two-slot'], DEFAULT_SETTING, clients, DEFAULT_TIMING);
      expect(run.phases[0]!.decisions!.routes[0]!.pads.value).toBe(false);
    });
  }

  for (const clients of [8, 128]) {
    it(`use-like, ${clients} clients: found to pad from its few slow calls, never "does not pad" on the way`, async () => {
      for (const noise of [{ proxyCpuMs: 0, jitterMs: 0 }, NOISY]) {
        // A level in steps of a second: a verdict of "does not pad" given and taken back would show in one of them.
        const phases = [{ clients: 1, durationMs: 2000 }, ...Array.from({ length: 6 }, () => ({ clients, durationMs: 1000 }))];
        const run = await runLoad({ model: UPSTREAM_MODELS['use-like'], target: DEFAULT_SETTING, phases, ...noise });
        const verdicts = run.phases.map((p) => p.decisions!.routes[0]?.pads.value ?? null);
        expect(verdicts).not.toContain(false);
        expect(verdicts.at(-1)).toBe(true);
      }
    });
  }

  for (const clients of [8, 32, 128]) {
    it(`use-cheap-pad, ${clients} clients: found to pad where a padding word costs 0.4x a real one (the real model's fit reads 0.40-0.76x), and bucketed`, async () => {
      for (const noise of [{ proxyCpuMs: 0, jitterMs: 0 }, NOISY]) {
        // P6's history: 4 s at 32 clients, then one client, then the level.
        const phases = [
          { clients: 32, durationMs: 4000 },
          { clients: 1, durationMs: 6000 },
          ...Array.from({ length: 6 }, () => ({ clients, durationMs: 1000 })),
        ];
        const run = await runLoad({ model: UPSTREAM_MODELS['use-cheap-pad'], target: DEFAULT_SETTING, phases, ...noise });
        const routes = run.phases.map((p) => p.decisions!.routes[0]);
        expect(routes.map((route) => route?.pads.value ?? null)).not.toContain(false);
        expect(routes.at(-1)!.pads.value).toBe(true);
        expect(routes.at(-1)!.bucketFactor.value).not.toBeNull();
      }
    });
  }
});
