/** Decision lines are rate-limited per decision and say how many changes they stand for. */
import { describe, expect, it } from 'vitest';
import { DecisionLog, type LoggedChange } from '../../../src/core/policy/decision-log.js';

describe('decision log', () => {
  it('logs at most one line per decision per second, counting the ones left out', () => {
    let now = 0;
    const lines: LoggedChange[] = [];
    const log = new DecisionLog(
      () => now,
      (change) => lines.push(change),
    );
    log.note({ decision: 'inflightLimit', from: 2, to: 3, why: 'a' });
    now = 100;
    log.note({ decision: 'inflightLimit', from: 3, to: 4, why: 'b' });
    log.note({ decision: 'bucketFactor', route: '/embed', from: null, to: 2, why: 'c' });
    now = 500;
    log.note({ decision: 'inflightLimit', from: 4, to: 3, why: 'd' });
    now = 1000;
    log.note({ decision: 'inflightLimit', from: 3, to: 4, why: 'e' });
    expect(lines.map((line) => [line.decision, line.to, line.suppressed])).toEqual([
      ['inflightLimit', 3, 0],
      ['bucketFactor', 2, 0],
      ['inflightLimit', 4, 2],
    ]);
  });

  it("keeps each route's decisions apart, and the interval is measured from the last line", () => {
    let now = 5000;
    const lines: LoggedChange[] = [];
    const log = new DecisionLog(
      () => now,
      (change) => lines.push(change),
    );
    log.note({ decision: 'bucketFactor', route: '/a', from: null, to: 2, why: 'a' });
    log.note({ decision: 'bucketFactor', route: '/b', from: null, to: 2, why: 'b' });
    // A decision without a route is its own topic too.
    log.note({ decision: 'bucketFactor', from: null, to: 2, why: 'c' });
    now = 5999;
    log.note({ decision: 'bucketFactor', route: '/a', from: 2, to: 3, why: 'd' });
    expect(lines.map((line) => [line.route, line.why])).toEqual([
      ['/a', 'a'],
      ['/b', 'b'],
      [undefined, 'c'],
    ]);
  });
});
