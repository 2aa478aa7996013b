import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../src/loadgen/duration.js';

describe('bench durations (as oha, k6 and wrk take them)', () => {
  it.each([
    ['30s', 30],
    ['500ms', 0.5],
    ['2m', 120],
    ['1h', 3600],
    ['1m30s', 90],
    ['1m0.5s', 60.5],
    ['1.5s', 1.5],
    ['.25s', 0.25],
    ['0s', 0],
    [' 2m ', 120],
    // A bare number stays seconds, as --duration always took it.
    ['10', 10],
    ['0.3', 0.3],
    ['.5', 0.5],
  ])('reads %j as %d s', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', 's', '10x', '-5s', '5 s', '1m 30s', '30sec', '1e3', '1.s', 'ms', '10s5', 'Infinity', '0x10'])('refuses %j', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });
});
