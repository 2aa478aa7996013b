/**
 * The simulator's upstream models and load (bench/policy): the costs and sharing rules the
 * dispatch targets are judged on, and that the model reproduces what was measured on real
 * processes for static settings (issue 10's table), so its verdicts on a policy can be trusted.
 */
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../bench/policy/sim-clock.js';
import { runSteady, type SimTiming } from '../../bench/policy/scenarios.js';
import { staticSetting } from '../../bench/policy/sim-proxy.js';
import { SimUpstream, UPSTREAM_MODELS, batchCostMs, wordCount, type UpstreamModel } from '../../bench/policy/upstream-models.js';

const SHORT: SimTiming = { warmupMs: 500, measureMs: 1500 };

/** Runs calls arriving at the given times and returns when each finished. */
async function finishTimes(model: UpstreamModel, calls: ReadonlyArray<{ at: number; words: number[] }>): Promise<number[]> {
  const clock = new SimClock();
  const upstream = new SimUpstream(model, (callback, delayMs) => clock.setTimer(callback, delayMs));
  const done: number[] = calls.map(() => NaN);
  calls.forEach((call, i) => clock.setTimer(() => void upstream.run(call.words).then(() => (done[i] = clock.now())), call.at));
  await clock.runUntil(10_000);
  return done;
}

describe('upstream models', () => {
  it('counts words as whitespace-separated runs, at least one', () => {
    expect(wordCount('how  do I\tbatch?\n')).toBe(4);
    expect(wordCount('')).toBe(1);
  });

  it('charges a padded batch for its longest input times its count, an unpadded one for the total', () => {
    expect(batchCostMs(UPSTREAM_MODELS['cpu-pad'], [5, 100, 5, 5])).toBeCloseTo(2 + 0.05 * 4 * 100);
    expect(batchCostMs(UPSTREAM_MODELS.gpu, [5, 100, 5, 5])).toBeCloseTo(10 + 0.1 * 4);
  });

  it('GPU-like: one call at a time, each call its own batch', async () => {
    const times = await finishTimes(UPSTREAM_MODELS.gpu, [
      { at: 0, words: [1] },
      { at: 1, words: [1] },
      { at: 2, words: [1] },
    ]);
    expect(times.map((t) => Number(t.toFixed(3)))).toEqual([10.1, 20.2, 30.3]);
  });

  it('TEI-like: the inputs of calls queued while the backend is busy run as one batch', async () => {
    const times = await finishTimes(UPSTREAM_MODELS.tei, [
      { at: 0, words: [1] },
      { at: 1, words: [1, 1] },
      { at: 2, words: [1] },
    ]);
    expect(times[0]).toBeCloseTo(10.1);
    // Both later calls merged: 10 + 0.1 × 3 after the first batch.
    expect(times[1]).toBeCloseTo(20.4);
    expect(times[2]).toBeCloseTo(20.4);
  });

  it('two slots: two calls run at once, the third waits for the first free slot', async () => {
    const times = await finishTimes(UPSTREAM_MODELS['two-slot'], [
      { at: 0, words: [1] },
      { at: 0, words: [1] },
      { at: 0, words: [1] },
    ]);
    expect(times.map((t) => Number(t.toFixed(3)))).toEqual([10.1, 10.1, 20.2]);
  });
});

describe('the model against the issue’s measurements of static settings (real processes)', () => {
  const ratio = async (model: UpstreamModel, setting: ReturnType<typeof staticSetting>, clients: number): Promise<number> => {
    const direct = await runSteady(model, 'direct', clients, SHORT);
    const proxied = await runSteady(model, setting, clients, SHORT);
    return proxied.phases[0]!.inputsPerSecond / direct.phases[0]!.inputsPerSecond;
  };

  it('TEI-like at 128 clients: 2 calls in flight lose to TEI’s own merging (measured 0.60×), 4 about break even (0.97×)', async () => {
    expect(await ratio(UPSTREAM_MODELS.tei, staticSetting(2, 32, undefined), 128)).toBeLessThan(0.7);
    expect(await ratio(UPSTREAM_MODELS.tei, staticSetting(4, 32, undefined), 128)).toBeGreaterThan(0.95);
  });

  it('padded CPU at 32 clients: batches mixing paragraphs lose (measured 0.42×), length buckets win (1.38×)', async () => {
    expect(await ratio(UPSTREAM_MODELS['cpu-pad'], staticSetting(2, 32, undefined), 32)).toBeLessThan(0.6);
    expect(await ratio(UPSTREAM_MODELS['cpu-pad'], staticSetting(2, 32, 2), 32)).toBeGreaterThan(1.2);
  });

  it('GPU-like: full batches back to back at 128 clients (24× direct measured at 128)', async () => {
    expect(await ratio(UPSTREAM_MODELS.gpu, staticSetting(2, 32, undefined), 128)).toBeGreaterThan(20);
  });

  it('is deterministic: the same run gives the same figures', async () => {
    const a = await runSteady(UPSTREAM_MODELS.tei, staticSetting(2, 16, 2), 32, SHORT);
    const b = await runSteady(UPSTREAM_MODELS.tei, staticSetting(2, 16, 2), 32, SHORT);
    expect(b).toEqual(a);
  });
});
