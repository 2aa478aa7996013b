/**
 * Gathering (src/core/policy/gathering.ts): the ratio of the inputs banded calls held to the
 * plan's estimate for them, faded per call and bounded, and 1 until enough is measured.
 */
import { describe, expect, it } from 'vitest';
import { Gathering } from '../../../src/core/policy/gathering.js';

describe('Gathering', () => {
  it('reads 1 until the plan has expected 8 inputs (faded), then the ratio held to expected', () => {
    const gathering = new Gathering();
    expect(gathering.ratio).toBe(1);
    gathering.observe(10, 4);
    // Expected 4: not enough to read 2.5 from.
    expect(gathering.ratio).toBe(1);
    gathering.observe(10, 4.5);
    // Expected 4 × 0.9 + 4.5 = 8.1, held 10 × 0.9 + 10 = 19.
    expect(gathering.ratio).toBeCloseTo(19 / 8.1, 10);
  });

  it('reads exactly 8 inputs expected as enough', () => {
    const gathering = new Gathering();
    gathering.observe(0, 0);
    gathering.observe(16, 8);
    expect(gathering.ratio).toBe(2);
  });

  it('follows the recent calls: each older call counts 0.9 times the next', () => {
    const gathering = new Gathering();
    for (let i = 0; i < 40; i++) gathering.observe(30, 10);
    expect(gathering.ratio).toBeCloseTo(3, 10);
    // Ten calls holding what was expected: the forty before weigh 0.9^10 of what they did.
    for (let i = 0; i < 10; i++) gathering.observe(10, 10);
    const weights = (calls: number): number => (1 - 0.9 ** calls) / (1 - 0.9);
    const before = weights(40) * 0.9 ** 10;
    const after = weights(10);
    expect(gathering.ratio).toBeCloseTo((3 * before + after) / (before + after), 10);
    // Unfaded, the fifty calls would read (3 × 40 + 10) / 50 = 2.6.
    expect(gathering.ratio).toBeLessThan(1.7);
  });

  it('is bounded: at least half, at most 4', () => {
    const low = new Gathering();
    for (let i = 0; i < 5; i++) low.observe(1, 10);
    expect(low.ratio).toBe(0.5);
    const high = new Gathering();
    for (let i = 0; i < 5; i++) high.observe(100, 10);
    expect(high.ratio).toBe(4);
    const inside = new Gathering();
    inside.observe(39, 10);
    expect(inside.ratio).toBeCloseTo(3.9, 10);
    const justLow = new Gathering();
    justLow.observe(6, 10);
    expect(justLow.ratio).toBeCloseTo(0.6, 10);
  });
});
