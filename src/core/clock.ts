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

/**
 * The real clock. `keepAlive: false` (the core's): a pending flush must never keep a process alive
 * that is otherwise done. `keepAlive: true` (the load generator's): a load loop waiting for its next
 * send is the process's work, and must keep it alive.
 */
export function createSystemClock(options: { keepAlive: boolean }): Clock {
  return {
    now: () => performance.now(),
    setTimer: (callback, delayMs) => {
      const timer = setTimeout(callback, Math.max(0, delayMs));
      if (!options.keepAlive) timer.unref();
      return timer;
    },
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
    defer: (callback) => {
      setImmediate(callback);
    },
  };
}

/** The core's clock: its timers never keep the process alive. */
export const systemClock: Clock = createSystemClock({ keepAlive: false });

/** Resolves `ms` from now on `clock` (after the current burst of I/O when `ms` <= 0). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ms <= 0) clock.defer(resolve);
    else clock.setTimer(resolve, ms);
  });
}
