// Closed-loop load: a fixed number of clients, each sending a request, waiting for the answer
// and sending the next at once. This is how most benchmark clients behave, and it finds the
// throughput a target reaches at a given concurrency; latency is timed from the actual send.
import type { Clock } from '../core/clock.js';

export interface ClosedLoopPlan {
  clients: number;
  /** No client starts a request at or after this clock time (ms). */
  endAt: number;
}

/** Runs `clients` loops of `sendOne` until `endAt`, then waits for the last requests. */
export async function runClosedLoop(plan: ClosedLoopPlan, sendOne: () => Promise<void>, clock: Clock): Promise<number> {
  let sent = 0;
  const client = async (): Promise<void> => {
    while (clock.now() < plan.endAt) {
      sent += 1;
      await sendOne();
    }
  };
  await Promise.all(Array.from({ length: plan.clients }, client));
  return sent;
}
