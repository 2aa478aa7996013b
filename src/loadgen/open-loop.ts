// Open-loop load: requests go out on a fixed schedule whatever the target does, and latency is
// measured from each request's INTENDED send time. A closed loop (or an open loop that measures
// from the actual send) slows down with the target and so never sees the queueing a real
// stream of users would suffer ("coordinated omission"). When the scheduler itself is late, the
// requests it owes are sent at once, still timed from when they were due.
//
// Outstanding requests are capped so an overloaded target cannot make the bench open unbounded
// sockets: a request due while the cap is reached is not sent and counts as "dropped".
import { sleep, type Clock } from '../core/clock.js';

export interface OpenLoopPlan {
  /** Clock time (ms) the first request is due. */
  startAt: number;
  /** No request is due at or after this clock time (ms). */
  endAt: number;
  ratePerSecond: number;
  maxOutstanding: number;
}

export interface OpenLoopHandlers {
  /** Sends the request due at `dueAt` and resolves when its answer is recorded. */
  send(dueAt: number): Promise<void>;
  /** Called for a request due at `dueAt` that was not sent because of the cap. */
  dropped(dueAt: number, outstanding: number): void;
}

export interface OpenLoopCounts {
  due: number;
  sent: number;
  dropped: number;
}

/** Runs the schedule to its end, then waits for every request it sent. */
export async function runOpenLoop(plan: OpenLoopPlan, handlers: OpenLoopHandlers, clock: Clock): Promise<OpenLoopCounts> {
  const intervalMs = 1000 / plan.ratePerSecond;
  const inFlight = new Set<Promise<void>>();
  const counts: OpenLoopCounts = { due: 0, sent: 0, dropped: 0 };
  let failure: { error: unknown } | undefined;
  let index = 0;
  // Each due time is computed from the start, not accumulated, so rounding never drifts.
  const dueTime = (i: number): number => plan.startAt + i * intervalMs;

  for (;;) {
    const now = clock.now();
    let due = dueTime(index);
    while (due <= now && due < plan.endAt) {
      counts.due += 1;
      index += 1;
      if (inFlight.size >= plan.maxOutstanding) {
        counts.dropped += 1;
        handlers.dropped(due, inFlight.size);
      } else {
        counts.sent += 1;
        const request: Promise<void> = handlers.send(due).then(
          () => {
            inFlight.delete(request);
          },
          (error: unknown) => {
            inFlight.delete(request);
            failure ??= { error };
          },
        );
        inFlight.add(request);
      }
      due = dueTime(index);
    }
    if (due >= plan.endAt || failure !== undefined) break;
    await sleep(clock, due - clock.now());
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure.error;
  return counts;
}
