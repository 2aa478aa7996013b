import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/loadgen/latency-histogram.js';
import { LevelRecorder } from '../../src/loadgen/level-recorder.js';
import type { RequestOutcome } from '../../src/loadgen/request-outcome.js';

// HDR histograms with 3 significant digits promise every value within 0.1% of the true one.
function expectClose(actual: number, expected: number, relative = 0.001): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * relative);
}

describe('LatencyHistogram percentiles', () => {
  it('match a uniform distribution 1..10000 ms', () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 10_000; ms += 1) histogram.record(ms);
    const summary = histogram.summary();
    expect(summary).toBeDefined();
    expect(summary?.count).toBe(10_000);
    expectClose(summary?.min ?? 0, 1);
    expectClose(summary?.p50 ?? 0, 5000);
    expectClose(summary?.p90 ?? 0, 9000);
    expectClose(summary?.p99 ?? 0, 9900);
    expectClose(summary?.p999 ?? 0, 9990);
    expectClose(summary?.max ?? 0, 10_000);
    expectClose(summary?.mean ?? 0, 5000.5);
  });

  it('match the quantiles of an exponential distribution (mean 10 ms)', () => {
    const histogram = new LatencyHistogram();
    const n = 100_000;
    // Sampled on an even grid of the quantile function, so the empirical quantiles are exact.
    for (let i = 0; i < n; i += 1) histogram.record(-10 * Math.log(1 - (i + 0.5) / n));
    expectClose(histogram.percentile(50), 10 * Math.log(2), 0.002);
    expectClose(histogram.percentile(90), 10 * Math.log(10), 0.002);
    expectClose(histogram.percentile(99), 10 * Math.log(100), 0.002);
    expectClose(histogram.summary()?.mean ?? 0, 10, 0.002);
  });

  it('keep a rare slow mode out of p99 and in p99.9 and max', () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 990; i += 1) histogram.record(1);
    for (let i = 0; i < 10; i += 1) histogram.record(100);
    const summary = histogram.summary();
    expectClose(summary?.p50 ?? 0, 1);
    expectClose(summary?.p99 ?? 0, 1);
    expectClose(summary?.p999 ?? 0, 100);
    expectClose(summary?.max ?? 0, 100);
  });

  it('resolve sub-millisecond latencies and summarise nothing when empty', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.summary()).toBeUndefined();
    histogram.record(0.25);
    histogram.record(0.0001); // below the 1 µs resolution: clamped, not lost
    expect(histogram.count).toBe(2);
    expectClose(histogram.percentile(100), 0.25);
    expect(histogram.encode()).toMatch(/^[A-Za-z0-9+/=]+$/);
  });
});

describe('LevelRecorder', () => {
  const ok = (batchSizes?: number[]): RequestOutcome => ({ ok: true, batchSizes });
  const failed = (error: string): RequestOutcome => ({ ok: false, error, detail: `detail of ${error}` });

  it('counts only what completes inside the window and derives rates from its length', () => {
    const recorder = new LevelRecorder({ from: 1000, to: 3000 }, 4);
    recorder.record(ok(), 900, 999); // warm-up
    recorder.record(ok([8]), 990, 1000); // first instant of the window
    recorder.record(ok([8, 2]), 1500, 1510);
    recorder.record(ok(), 2990, 3000); // window is half-open: excluded
    recorder.record(failed('429'), 1200, 1201);
    recorder.record(failed('429'), 1300, 1301);
    recorder.record(failed('timeout'), 1400, 2900);
    recorder.record(failed('wrong answer'), 100, 200); // warm-up
    recorder.recordDropped(1600, 5);
    recorder.recordDropped(3500, 5); // due after the window
    const result = recorder.result();
    expect(result.measuredSeconds).toBe(2);
    expect(result.requestsOk).toBe(2);
    expect(result.inputsOk).toBe(8);
    expect(result.requestsPerSecond).toBe(1);
    expect(result.inputsPerSecond).toBe(4);
    expect(result.errors).toEqual({ '429': 2, dropped: 1, timeout: 1 });
    expect(result.errorCount).toBe(4);
    expect(result.errorSamples).toContain('429: detail of 429');
    expect(result.latencyMs?.count).toBe(2);
    expectClose(result.latencyMs?.max ?? 0, 10);
    expect(result.batchSize).toEqual({
      answers: 2,
      mean: 6,
      min: 2,
      max: 8,
      distribution: [
        { size: 2, count: 1 },
        { size: 8, count: 2 },
      ],
    });
  });

  it('reports no latency and no batch sizes when nothing succeeded', () => {
    const recorder = new LevelRecorder({ from: 0, to: 1000 }, 1);
    recorder.record(failed('network'), 0, 10);
    const result = recorder.result();
    expect(result.latencyMs).toBeNull();
    expect(result.batchSize).toBeNull();
    expect(result.latencyHistogram).toBeNull();
    expect(result.errors).toEqual({ network: 1 });
  });
});
