/**
 * When the upstream could have started on a call. A call sent while every replica was still busy
 * with earlier answers waited inside the upstream, and that wait is not its cost: taking it for
 * cost makes a call look dearer the more was queued before it (the cost model's fit then finds a
 * per-input cost that is really queueing).
 *
 * The policy does not know which replica took a call, so the replicas are counted, not named:
 * each runs one call at a time, and a call could have started at the latest when the answers of
 * `lanes` earlier bursts were out (one lane: the previous answer). With one replica this is exact
 * for a one-call-at-a-time upstream; with several it is an estimate that errs late only when one
 * replica answers much faster than the others. Reading every earlier answer as the end of the
 * call's own predecessor, as the rule for one replica does, is wrong with several: the 50 replicas
 * of bench/scaling/topology.ts answer a few hundred microseconds apart, every call then looked
 * almost free, and the batch-size rule (amortized-batch.ts) cut batches of a GPU-like upstream
 * to 8, a quarter of its capacity at 0.8 of its load.
 *
 * Answers within BURST_MS of each other are one burst: one merged batch upstream (TEI's queue).
 */

/**
 * Answers this close together were one burst (answered together): one merged batch upstream.
 * The one width of a burst for the policy: the cost model merges such calls into one
 * observation and the in-flight limiter opens and closes its windows on whole bursts.
 */
export const BURST_MS = 0.5;

export class UpstreamTime {
  /** Ends of the last bursts before the current one, oldest first, at most `lanes`. */
  private readonly ends: number[] = [];
  private burstEnd = -Infinity;
  private lanes = 1;

  /** Replicas joined or left. */
  setLanes(count: number): void {
    this.lanes = Math.max(1, Math.floor(count));
    while (this.ends.length > this.lanes) this.ends.shift();
  }

  /** When the upstream could have started on a call handed over at `startedAt`, answered at `finishedAt`. */
  startOf(startedAt: number, finishedAt: number): number {
    if (finishedAt - this.burstEnd > BURST_MS) {
      // The first burst pushes -Infinity: an end before any call, which delays none.
      this.ends.push(this.burstEnd);
      if (this.ends.length > this.lanes) this.ends.shift();
      this.burstEnd = finishedAt;
    } else {
      this.burstEnd = Math.max(this.burstEnd, finishedAt);
    }
    // Free at the latest when `lanes` earlier bursts were out; fewer seen so far: no wait known.
    const free = this.ends.length < this.lanes ? -Infinity : this.ends[0]!;
    return Math.max(startedAt, Math.min(free, finishedAt));
  }
}
