/**
 * For an upstream that does not pad: the batch size past which larger batches buy little.
 *
 * Batching pays by sharing a call's fixed cost among its inputs; once that share is a small part
 * of what each input costs on its own, a larger batch gains under a tenth in throughput, and
 * costs what a large batch costs: a longer call (every input waits for the slowest), and on CPU
 * inference servers a cost per input that grows with the batch (cache, memory), which the linear
 * cost model cannot see. Measured on the real model behind bench/upstreams (the Universal Sentence
 * Encoder on TF.js: about 20 ms per call and 60 to 75 ms per input): batches of 8 give 20 to 27
 * inputs/s where batches of 32 give 10 to 11, below the 17 to 19 it serves alone. A GPU-like
 * upstream (10 ms per call, 0.1 ms per input) keeps the largest batch: its fixed cost stays
 * the larger part up to thousands of inputs.
 *
 * So the batch size is halved from the largest while the call's fixed cost, shared by the
 * halved batch, stays under a tenth of one input's own cost, and never below MIN_BATCH. The
 * policy moves only when the rule at 0.8 and 1.25 times that share agree (HYSTERESIS), so a fit
 * near a boundary does not flap between two sizes.
 */
import type { CostFit } from './dispatch-policy.js';

/** A call's fixed cost per input may be at most this share of an input's own cost. */
export const AMORTIZED_SHARE = 0.1;
/** Smallest batch the rule picks (the real model's best static setting). */
export const MIN_BATCH = 8;

/** The band of shares, below and above AMORTIZED_SHARE, within which a size already chosen stays. */
export const HYSTERESIS = 1.25;

export interface AmortizedBatch {
  size: number;
  /** A call's fixed cost and an input's own cost (per input and per byte at the mean length), in ms. */
  fixedMs: number;
  perInputMs: number;
}

/**
 * The batch size for this fit, or undefined when the fit says nothing (an input's own cost not
 * positive). Negative coefficients of a fit from few calls count as zero.
 */
export function amortizedBatch(fit: CostFit, meanBytes: number, maxBatchSize: number, share = AMORTIZED_SHARE): AmortizedBatch | undefined {
  const fixedMs = Math.max(0, fit.fixedMs);
  const perInputMs = Math.max(0, fit.perInputMs) + Math.max(0, fit.perByteMs) * Math.max(0, meanBytes);
  if (!(perInputMs > 0)) return undefined;
  let size = maxBatchSize;
  for (let half = Math.floor(size / 2); half >= MIN_BATCH && fixedMs / half <= share * perInputMs; half = Math.floor(size / 2)) size = half;
  return { size, fixedMs, perInputMs };
}

/**
 * The next batch size from the current one: the rule at the stricter share gives the largest
 * size the fit allows, at the looser one the smallest; a current size between them stays.
 */
export function nextAmortizedSize(fit: CostFit, meanBytes: number, maxBatchSize: number, current: number): AmortizedBatch | undefined {
  const strict = amortizedBatch(fit, meanBytes, maxBatchSize, AMORTIZED_SHARE / HYSTERESIS);
  const loose = amortizedBatch(fit, meanBytes, maxBatchSize, AMORTIZED_SHARE * HYSTERESIS);
  // Stryker: ConditionalExpression, LogicalOperator equivalent (either test -> false, `&&`): the two are undefined together, since whether a fit says anything does not depend on the share.
  if (strict === undefined || loose === undefined) return undefined;
  return { ...strict, size: Math.min(Math.max(current, loose.size), strict.size) };
}
