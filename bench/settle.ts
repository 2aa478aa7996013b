/**
 * When throughput has settled after a load step: one definition for the simulator's steps
 * (bench/policy/evaluate.ts) and the real processes' (bench/perf/steps.ts), so the two figures
 * mean the same thing.
 */

/** Settled means at 90% of the new level's steady throughput... */
export const SETTLE_SHARE = 0.9;
/** ...within this long after the step (issue 10). */
export const SETTLE_WITHIN_MS = 2000;
/**
 * Throughput is judged over a window of at least 300 ms (one 100-ms bin holds only a few calls)
 * and at least one request cycle of the level (its steady median latency): a closed-loop client
 * sends once per cycle, so a shorter window sees the phase of the batches, not the rate (padded
 * CPU, 128 clients: a batch of 32 takes about 300 ms and a cycle about 800 ms).
 */
export const MIN_WINDOW_MS = 300;

/** Bins in the judging window for a level whose steady median latency is `p50Ms`. */
export function windowBinsFor(binMs: number, p50Ms: number): number {
  return Math.max(Math.ceil(MIN_WINDOW_MS / binMs), Math.ceil(p50Ms / binMs));
}

/**
 * From the step (at `atMs`) until the end of the first window whose mean reached 90% of
 * `steady`, provided the throughput from that window's start to the end of the phase held 90% on
 * average (single windows after it may dip: batches are discrete); Infinity otherwise.
 * `curve` holds inputs/s per bin from the start of the run.
 */
export function settleMs(curve: readonly number[], binMs: number, atMs: number, phaseMs: number, steady: number, windowBins: number): number {
  const first = Math.round(atMs / binMs);
  const end = Math.min(Math.round((atMs + phaseMs) / binMs), curve.length);
  const windowMean = (bin: number): number => {
    let sum = 0;
    for (let b = bin; b < bin + windowBins; b++) sum += curve[b]!;
    return sum / windowBins;
  };
  for (let bin = first; bin + windowBins <= end; bin++) {
    if (windowMean(bin) < SETTLE_SHARE * steady) continue;
    let rest = 0;
    for (let b = bin; b < end; b++) rest += curve[b]!;
    return rest / (end - bin) >= SETTLE_SHARE * steady ? (bin + windowBins) * binMs - atMs : Infinity;
  }
  return Infinity;
}
