// Time as the load loops see it. Injected so that the open-loop scheduler can be tested with a
// manual clock: send times, lateness and the outstanding cap become exact, not timing-dependent.
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds from an arbitrary origin, monotonic, with sub-millisecond resolution. */
  now(): number;
  /** Resolves after about `ms` milliseconds (at once when `ms` <= 0). */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => (ms <= 0 ? new Promise<void>((resolve) => setImmediate(resolve)) : new Promise<void>((resolve) => setTimeout(resolve, ms))),
};
