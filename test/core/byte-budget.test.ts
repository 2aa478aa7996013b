/** The memory budget's accounting: what fits is taken, what does not is refused whole, and a claim gives back exactly what it took, once. */
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/core/byte-budget.js';

describe('ByteBudget', () => {
  it('admits claims while they fit and refuses the one that does not, taking nothing of it', () => {
    const budget = new ByteBudget(100);
    const a = budget.claim();
    const b = budget.claim();
    expect(a.cover(60)).toBe(true);
    expect(b.cover(50)).toBe(false);
    expect(b.size).toBe(0);
    expect(budget.held).toBe(60);
    expect(b.cover(40)).toBe(true);
    expect(budget.held).toBe(100);
    expect(budget.claim().cover(1)).toBe(false);
  });

  it('grows a claim to a total, counting only the difference (a body counted chunk by chunk)', () => {
    const budget = new ByteBudget(100);
    const claim = budget.claim();
    for (const total of [10, 30, 30, 70]) expect(claim.cover(total)).toBe(true);
    expect(claim.size).toBe(70);
    expect(budget.held).toBe(70);
    expect(claim.cover(101)).toBe(false);
    expect(claim.size).toBe(70);
  });

  it('lets answers take the count past the limit up to the ceiling, and counts what is already cut without refusing it', () => {
    const budget = new ByteBudget(100);
    const body = budget.claim();
    expect(body.cover(90)).toBe(true);
    const answer = budget.claim();
    expect(answer.cover(50)).toBe(false);
    expect(answer.cover(50, 'ceiling')).toBe(true);
    expect(answer.cover(111, 'ceiling')).toBe(false);
    body.add(500);
    expect(budget.held).toBe(640);
    expect(budget.peak).toBe(640);
  });

  it('gives back everything once on release, and a released claim takes nothing more', () => {
    const budget = new ByteBudget(100);
    const claim = budget.claim();
    claim.cover(40);
    claim.add(30);
    claim.release();
    claim.release();
    expect(budget.held).toBe(0);
    expect(claim.cover(10)).toBe(false);
    claim.add(10);
    expect(budget.held).toBe(0);
    expect(budget.peak).toBe(70);
    budget.resetPeak();
    expect(budget.peak).toBe(0);
  });

  it('refuses a limit that is not a positive whole number of bytes', () => {
    expect(() => new ByteBudget(0)).toThrow(RangeError);
    expect(() => new ByteBudget(1.5)).toThrow(RangeError);
  });
});
