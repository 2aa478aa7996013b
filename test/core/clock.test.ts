/**
 * The production clock: a timer fires after its delay (never before), a cleared one never fires,
 * and a pending timer does not keep the process alive (the load generator's kept-alive clock does).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSystemClock, sleep, systemClock } from '../../src/core/clock.js';

describe('systemClock timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires a timer once its delay has passed, not before', () => {
    const fired = vi.fn();
    systemClock.setTimer(fired, 50);
    vi.advanceTimersByTime(49);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('never fires a cleared timer', () => {
    const fired = vi.fn();
    const handle = systemClock.setTimer(fired, 10);
    systemClock.clearTimer(handle);
    vi.advanceTimersByTime(100);
    expect(fired).not.toHaveBeenCalled();
  });

  it('runs a deferred callback after the current turn, and now() follows time', () => {
    const ran = vi.fn();
    const start = systemClock.now();
    systemClock.defer(ran);
    expect(ran).not.toHaveBeenCalled();
    vi.advanceTimersByTime(20);
    expect(ran).toHaveBeenCalledTimes(1);
    expect(systemClock.now() - start).toBe(20);
  });
});

describe('systemClock on real timers', () => {
  it('does not keep the process alive for a pending timer', () => {
    const handle = systemClock.setTimer(() => {}, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    systemClock.clearTimer(handle);
  });

  it('keeps the process alive for a pending timer when asked to (the load generator waiting for its next send)', () => {
    const clock = createSystemClock({ keepAlive: true });
    const handle = clock.setTimer(() => {}, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(true);
    clock.clearTimer(handle);
  });

  it('sleeps for the given time on the clock, and for a deferred turn at 0 or less', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    let woke = 0;
    void sleep(systemClock, 50).then(() => woke++);
    void sleep(systemClock, 0).then(() => woke++);
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(1);
    await vi.advanceTimersByTimeAsync(49);
    expect(woke).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(woke).toBe(2);
    vi.useRealTimers();
  });
});
