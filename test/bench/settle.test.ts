/**
 * The settling rule shared by the simulator's steps and the real processes' (bench/settle.ts):
 * the first window at 90% of steady counts only if the rest of the phase holds 90% on average.
 */
import { describe, expect, it } from 'vitest';
import { settleMs, windowBinsFor } from '../../bench/settle.js';

describe('settleMs', () => {
  it('ends at the first window that reaches 90% of steady', () => {
    // Step at bin 2 (200 ms); bins 2-3 low, from bin 4 at steady.
    const curve = [10, 10, 0, 50, 100, 100, 100, 100, 100, 100];
    expect(settleMs(curve, 100, 200, 800, 100, 3)).toBe(500);
  });

  it('does not count a burst the rest of the phase does not hold', () => {
    const curve = [0, 100, 100, 100, 0, 0, 0, 0, 0, 0];
    expect(settleMs(curve, 100, 0, 1000, 100, 3)).toBe(Infinity);
  });

  it('tolerates single dips after settling when the rest holds on average', () => {
    const curve = [100, 100, 100, 0, 100, 100, 100, 100, 100, 100];
    expect(settleMs(curve, 100, 0, 1000, 100, 3)).toBe(300);
  });

  it('stops at the end of the phase', () => {
    const curve = [0, 0, 0, 100, 100, 100];
    expect(settleMs(curve, 100, 0, 300, 100, 3)).toBe(Infinity);
  });

  it('judges over at least 300 ms and one request cycle', () => {
    expect(windowBinsFor(100, 50)).toBe(3);
    expect(windowBinsFor(100, 810)).toBe(9);
  });
});
