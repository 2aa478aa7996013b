/**
 * The production clock: a timer fires after its delay (never before), a cleared one never fires,
 * and a pending timer does not keep the process alive.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/core/clock.js';

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
});
