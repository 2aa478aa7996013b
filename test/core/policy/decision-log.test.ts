/** Decision lines are rate-limited per decision, say how many changes they stand for, and (with timers) end where the decision did. */
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

describe('decision log with timers: the trailing line', () => {
  /** A log with hand-driven timers: `advance(ms)` moves time and fires what is due. */
  function timedLog(): { log: DecisionLog; lines: LoggedChange[]; advance: (ms: number) => void; jump: (ms: number) => void; armed: () => number } {
    let now = 0;
    const lines: LoggedChange[] = [];
    const timers = new Map<object, { at: number; callback: () => void }>();
    const log = new DecisionLog(
      () => now,
      (change) => lines.push(change),
      1000,
      {
        setTimer: (callback, delayMs) => {
          const handle = {};
          timers.set(handle, { at: now + delayMs, callback });
          return handle;
        },
        clearTimer: (handle) => {
          timers.delete(handle);
        },
      },
    );
    const advance = (ms: number): void => {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = until;
    };
    // Moves time without running the timers due (a timer that fires late).
    const jump = (ms: number): void => {
      now += ms;
    };
    return { log, lines, advance, jump, armed: () => timers.size };
  }

  it('logs the last change of a burst when its second is up, from where the last line left it', () => {
    const { log, lines, advance } = timedLog();
    log.note({ decision: 'inflightLimit', from: 2, to: 3, why: 'raised' });
    advance(200);
    log.note({ decision: 'inflightLimit', from: 3, to: 4, why: 'raised again' });
    advance(100);
    log.note({ decision: 'inflightLimit', from: 4, to: 2, why: 'lowered' });
    expect(lines).toHaveLength(1);
    advance(699);
    expect(lines).toHaveLength(1);
    advance(1);
    // At 1000 ms: "3 -> 2", standing for the change to 4 left out too.
    expect(lines[1]).toEqual({ decision: 'inflightLimit', from: 3, to: 2, why: 'lowered', suppressed: 1 });
    // The next change is a second after the trailing line at the earliest.
    log.note({ decision: 'inflightLimit', from: 2, to: 3, why: 'raised' });
    advance(999);
    expect(lines).toHaveLength(2);
    advance(1);
    expect(lines[2]).toMatchObject({ from: 2, to: 3, suppressed: 0 });
  });

  it('adds no line when the burst ends where the last line left it, and counts its changes in the next', () => {
    const { log, lines, advance, armed } = timedLog();
    log.note({ decision: 'bucketFactor', route: '/embed', from: null, to: 2, why: 'a' });
    advance(100);
    log.note({ decision: 'bucketFactor', route: '/embed', from: 2, to: 3, why: 'b' });
    log.note({ decision: 'bucketFactor', route: '/embed', from: 3, to: 2, why: 'c' });
    advance(2000);
    expect(lines).toHaveLength(1);
    expect(armed()).toBe(0);
    log.note({ decision: 'bucketFactor', route: '/embed', from: 2, to: null, why: 'd' });
    expect(lines[1]).toMatchObject({ from: 2, to: null, why: 'd', suppressed: 2 });
  });

  it('drops a pending trailing line that a line after the second has overtaken (a timer that fires late)', () => {
    const { log, lines, advance, jump, armed } = timedLog();
    log.note({ decision: 'inflightLimit', from: 2, to: 3, why: 'a' });
    advance(500);
    log.note({ decision: 'inflightLimit', from: 3, to: 4, why: 'b' });
    log.note({ decision: 'inflightLimit', from: 4, to: 3, why: 'b2' });
    log.note({ decision: 'inflightLimit', from: 3, to: 4, why: 'b3' });
    // One timer per burst, however many changes it holds.
    expect(armed()).toBe(1);
    // Past the second, the timer not yet run: the next change is logged at once, counting the one left out.
    jump(700);
    log.note({ decision: 'inflightLimit', from: 4, to: 5, why: 'c' });
    expect(lines.map((line) => [line.from, line.to, line.suppressed])).toEqual([
      [2, 3, 0],
      [4, 5, 3],
    ]);
    expect(armed()).toBe(0);
    advance(5000);
    expect(lines).toHaveLength(2);
  });
});
