/**
 * The batch size past which a call's fixed cost is paid off (src/core/policy/amortized-batch.ts):
 * the largest for a GPU-like upstream, small for a CPU model whose inputs cost far more than a
 * call, and nothing from a fit that says nothing.
 */
import { describe, expect, it } from 'vitest';
import { amortizedBatch, MIN_BATCH, nextAmortizedSize } from '../../../src/core/policy/amortized-batch.js';
import type { CostFit } from '../../../src/core/policy/dispatch-policy.js';

const fit = (fixedMs: number, perInputMs: number, perByteMs = 0): CostFit => ({ fixedMs, perInputMs, perByteMs, padPerByteMs: 0, samples: 50 });

describe('amortizedBatch', () => {
  it('keeps the largest batch while the fixed cost dominates (GPU-like: 10 ms a call, 0.1 ms an input)', () => {
    expect(amortizedBatch(fit(10, 0.1), 200, 32)).toEqual({ size: 32, fixedMs: 10, perInputMs: 0.1 });
  });

  it('halves down to the minimum for inputs that cost far more than a call (the real model: 20 ms, 65 ms)', () => {
    expect(amortizedBatch(fit(20, 65), 200, 32)?.size).toBe(MIN_BATCH);
    expect(MIN_BATCH).toBe(8);
  });

  it('stops at the first half whose share of the fixed cost passes a tenth of an input', () => {
    // An input's own cost: 1 ms + 0.01 ms/byte x 150 bytes = 2.5 ms; 4 ms per call: 16 -> 0.25 (a tenth), 8 -> 0.5.
    expect(amortizedBatch(fit(4, 1, 0.01), 150, 64)).toEqual({ size: 16, fixedMs: 4, perInputMs: 2.5 });
    expect(amortizedBatch(fit(4.01, 1, 0.01), 150, 64)?.size).toBe(32);
  });

  it('counts negative coefficients of a young fit as zero, and says nothing without an input cost', () => {
    expect(amortizedBatch(fit(-30, 76), 200, 32)?.size).toBe(MIN_BATCH);
    expect(amortizedBatch(fit(10, -1, 0.01), 100, 32)).toEqual({ size: 32, fixedMs: 10, perInputMs: 1 });
    expect(amortizedBatch(fit(10, 0, 0), 100, 32)).toBeUndefined();
    expect(amortizedBatch(fit(10, -1, -0.01), 100, 32)).toBeUndefined();
  });

  it('never goes below the minimum, nor above the largest batch', () => {
    expect(amortizedBatch(fit(0, 5), 100, 32)?.size).toBe(MIN_BATCH);
    expect(amortizedBatch(fit(0, 5), 100, 4)?.size).toBe(4);
    expect(amortizedBatch(fit(0, 5), 100, 12)?.size).toBe(12);
  });
});

describe('nextAmortizedSize', () => {
  // An input's own cost 2.5 ms, 2 ms per call: a tenth of 2.5 ms is 0.25 ms, exactly 2 ms / 8.
  const nearBoundary = fit(2, 2.5);

  it('moves from the largest only as far as the stricter share allows', () => {
    expect(nextAmortizedSize(nearBoundary, 0, 32, 32)?.size).toBe(16);
  });

  it('keeps a size between the stricter and the looser share (no flapping near a boundary)', () => {
    expect(nextAmortizedSize(nearBoundary, 0, 32, 16)?.size).toBe(16);
    expect(nextAmortizedSize(nearBoundary, 0, 32, 8)?.size).toBe(8);
  });

  it('moves back up when the fixed cost grows past the looser share', () => {
    expect(nextAmortizedSize(fit(10, 2.5), 0, 32, 8)?.size).toBe(32);
  });

  it('says nothing without an input cost', () => {
    expect(nextAmortizedSize(fit(2, 0), 0, 32, 16)).toBeUndefined();
  });
});
