/**
 * Time as the batching core sees it. The core never touches the global timers directly, so tests
 * drive it with fake time and the production wiring decides how a "later" is scheduled.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number;
  /** Runs `callback` once, `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Runs `callback` after the current burst of I/O callbacks, so requests parsed in the same
   * event-loop turn can join one batch before it is cut (costs microseconds, not a timer tick).
   */
  defer(callback: () => void): void;
}

/** Opaque: whatever the clock's setTimer returns, handed back to its clearTimer. */
export type TimerHandle = object;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    // A pending flush must never keep a process alive that is otherwise done.
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  defer: (callback) => {
    setImmediate(callback);
  },
};
