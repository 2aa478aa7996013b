/**
 * The upstream's cost per call on one route, fitted online, and from it whether the upstream
 * pads a batch to its longest input.
 *
 * A server that pads costs about a + b·count·longest; one that does not (variable-length
 * attention, TEI on GPU) about a + b·total. Both are one model with a padding term:
 *
 *   ms = fixed + perInput·count + perByte·total + padPerByte·(count·longest − total)
 *
 * fitted by exponentially weighted least squares (a 4×4 normal system, so memory is constant
 * and old traffic fades within about a hundred calls). The verdict is statistical and physical:
 * the upstream pads when the padding term is clearly non-zero (t > 3), worth at least a tenth of
 * a call's cost, and a padding byte costs about what a real byte does (within 2x either way:
 * padded positions are computed like real ones; a fit far from that is noise, e.g. several
 * routes of different costs sharing one upstream). It does not pad when even the term's upper
 * bound (estimate + 3 standard errors) is worth under a twentieth of a call; otherwise (calls
 * too alike to tell, e.g. inputs of one length) it stays unknown and nothing is bucketed. The
 * thresholds differ, so the verdict does not flap.
 *
 * What is fitted is the time the upstream spent on a batch, not a call's latency, which also
 * holds the time a staged call waited for the one ahead of it: calls answered together (an
 * upstream that merged them into one batch) are one observation, and the caller gives as start
 * the moment the upstream finished its previous answer if the call was sent before then.
 */
import type { CostFit } from './dispatch-policy.js';

/** Weight kept by old observations per new one (memory of about 1 / (1 − FORGET) calls). */
const FORGET = 0.985;
/** Calls answered within this of each other were one batch inside the upstream. */
const MERGE_WINDOW_MS = 0.5;
/**
 * Observations (weighted) before any fit: one more than the fit's unknowns. Few, because a padded
 * upstream is slow exactly while it is not yet bucketed (a call of 32 mixed inputs can take a
 * quarter of a second); the t-test and the physical check guard the verdict instead.
 */
const MIN_SAMPLES = 5;
/**
 * Observations (weighted) before "does not pad": more, because that verdict ends the exploration's
 * buckets, and a fit from a handful of slow calls can miss padding that buckets would have spared.
 * Measured on the real model behind bench/upstreams (TF.js densifies each call to its longest
 * input): from about 17 calls it fitted a padding byte at 0.2x a real one and said "does not pad",
 * and without buckets it served 11 inputs/s where buckets of factor 2 serve 17 to 26. A fast
 * upstream reaches this many calls within a few hundred milliseconds.
 */
const MIN_SAMPLES_UNPADDED = 32;
/** Share of a mean call's cost the padding must be worth to count as padding, and under which it does not. */
const PADS_ABOVE = 0.1;
const UNPADS_BELOW = 0.05;
/** Standard errors the estimate must stand clear by. */
const CONFIDENCE = 3;
const KB = 1024;
const FEATURES = 4;

export interface CostObservation {
  startedAt: number;
  finishedAt: number;
  items: number;
  longestBytes: number;
  totalBytes: number;
}

interface Group {
  startedAt: number;
  finishedAt: number;
  items: number;
  longest: number;
  total: number;
}

export class CostModel {
  /** Weighted sums for the normal equations over x = [1, count, total KB, waste KB]. */
  private readonly xx = new Array<number>(FEATURES * FEATURES).fill(0);
  private readonly xy = new Array<number>(FEATURES).fill(0);
  private yy = 0;
  private weight = 0;
  private readonly means = new Array<number>(FEATURES).fill(0);
  private meanMs = 0;
  private pending: Group | undefined;
  private fit: CostFit | null = null;
  private padVerdict: boolean | null = null;
  private unbucketedWaste = 0;
  private padShare = 0;

  /** The latest fit, or null before there is one. */
  get costFit(): CostFit | null {
    return this.fit;
  }

  /**
   * The padding bytes a call of this route would hold without length buckets (from its mix of
   * lengths; 0: not known). "Does not pad" is judged against the larger of this and the calls'
   * own mean: under the exploration's buckets calls hold little padding, so a small padding cost
   * per byte, times that little, says nothing about the calls without them. Measured: the real
   * model behind bench/upstreams (TF.js densifies a call to its longest input: 31 short texts and
   * one paragraph take 2.5 s, 32 short ones 0.19 s) was judged not to pad from banded calls.
   */
  setUnbucketedWaste(bytesPerCall: number): void {
    this.unbucketedWaste = Math.max(0, bytesPerCall) / KB;
  }

  /** True: pads; false: does not; null: not known (too few or too alike calls). */
  get pads(): boolean | null {
    return this.padVerdict;
  }

  /** The padding term's share of a mean call's cost (0 when not fitted). */
  get paddingShare(): number {
    return this.padShare;
  }

  /**
   * Feeds one successful call; returns true when the padding verdict changed. `startedAt` is
   * when the upstream could start on it: its send time, or when the upstream finished what it
   * answered before (any route), if that is later (see UpstreamTime in adaptive-policy.ts).
   */
  observe(call: CostObservation): boolean {
    const pending = this.pending;
    if (pending !== undefined && Math.abs(call.finishedAt - pending.finishedAt) <= MERGE_WINDOW_MS) {
      pending.startedAt = Math.min(pending.startedAt, call.startedAt);
      pending.finishedAt = Math.max(pending.finishedAt, call.finishedAt);
      pending.items += call.items;
      pending.longest = Math.max(pending.longest, call.longestBytes);
      pending.total += call.totalBytes;
      return false;
    }
    const changed = pending !== undefined ? this.add(pending) : false;
    this.pending = {
      startedAt: call.startedAt,
      finishedAt: call.finishedAt,
      items: call.items,
      longest: call.longestBytes,
      total: call.totalBytes,
    };
    return changed;
  }

  private add(group: Group): boolean {
    const ms = group.finishedAt - group.startedAt;
    if (!(ms > 0)) return false;
    const waste = Math.max(0, group.items * group.longest - group.total);
    // In kilobytes, so the normal system's entries stay within a few orders of magnitude.
    const x = [1, group.items, group.total / KB, waste / KB];
    for (let i = 0; i < this.xx.length; i++) this.xx[i]! *= FORGET;
    for (let i = 0; i < FEATURES; i++) {
      this.xy[i]! *= FORGET;
      for (let j = 0; j < FEATURES; j++) this.xx[i * FEATURES + j]! += x[i]! * x[j]!;
      this.xy[i]! += x[i]! * ms;
    }
    this.yy = this.yy * FORGET + ms * ms;
    this.weight = this.weight * FORGET + 1;
    for (let i = 0; i < FEATURES; i++) this.means[i] = this.xx[i]! / this.weight;
    this.meanMs = this.xy[0]! / this.weight;
    return this.refit();
  }

  private refit(): boolean {
    if (this.weight < MIN_SAMPLES) return false;
    // A little ridge keeps the system solvable when a feature does not vary (one input per call).
    const ridged = this.xx.map((value, index) => (index % (FEATURES + 1) === 0 && index > 0 ? value * (1 + 1e-6) + 1e-9 : value));
    const beta = solve(ridged, this.xy);
    if (beta === undefined) return false;
    this.fit = { fixedMs: beta[0]!, perInputMs: beta[1]!, perByteMs: beta[2]! / KB, padPerByteMs: beta[3]! / KB, samples: this.weight };
    // Residual variance from the sums: RSS = yy − βᵀXᵀy.
    let explained = 0;
    for (let i = 0; i < FEATURES; i++) explained += beta[i]! * this.xy[i]!;
    const variance = Math.max(0, this.yy - explained) / Math.max(1, this.weight - FEATURES);
    const unit = new Array<number>(FEATURES).fill(0);
    unit[FEATURES - 1] = 1;
    const column = solve(ridged, unit);
    const spread = column === undefined ? Infinity : Math.sqrt(Math.max(0, variance * column[FEATURES - 1]!));
    const meanWaste = this.means[FEATURES - 1]!;
    const cost = Math.max(this.meanMs, 1e-9);
    const estimate = beta[FEATURES - 1]!;
    this.padShare = (estimate * meanWaste) / cost;
    const before = this.padVerdict;
    const padVersusReal = padPerByteLike(this.fit);
    if (estimate > CONFIDENCE * spread && this.padShare > PADS_ABOVE && padVersusReal) this.padVerdict = true;
    // "Does not pad" needs calls that had padding to pay for: with no waste at all it is moot.
    else if (
      this.weight >= MIN_SAMPLES_UNPADDED &&
      meanWaste > 0 &&
      Number.isFinite(spread) &&
      ((estimate + CONFIDENCE * spread) * Math.max(meanWaste, this.unbucketedWaste)) / cost < UNPADS_BELOW
    )
      this.padVerdict = false;
    return this.padVerdict !== before;
  }
}

/** A padding byte costs about what a real byte costs (both positive, within 2x): the signature of padding. */
function padPerByteLike(fit: CostFit): boolean {
  // Stryker: ConditionalExpression, LogicalOperator, EqualityOperator equivalent for the first two tests (`perByteMs > 0`, `padPerByteMs > 0` -> true, `>=`, `||`):
  // within 0.5x-2x of a positive real byte a padding byte is positive, and pad > 0 within 2x of a real byte makes that one positive; dropping both differs
  // only at exactly 0 and 0, and refit() consults this only with an estimate above 3 spreads and a padding share above a tenth (so pad > 0).
  // `<` for `<=` and `>` for `>=` differ only on a fitted ratio of exactly 2 or 0.5, a measure-zero tie of a ridged fit (as batcher.ts's waitingPaysOff).
  return fit.perByteMs > 0 && fit.padPerByteMs > 0 && fit.padPerByteMs <= 2 * fit.perByteMs && fit.padPerByteMs >= 0.5 * fit.perByteMs;
}

/** Solves a small symmetric system by Gaussian elimination with partial pivoting; undefined when singular. */
function solve(matrix: readonly number[], rhs: readonly number[]): number[] | undefined {
  const n = rhs.length;
  // Stryker: MethodExpression (`matrix` for `matrix.slice()`) not equivalent, not killed: the spread's solve then gets the first one's triangle; only the verdict reads the spread (left with the verdict, see docs/mutation-testing.md).
  const a = matrix.slice();
  const b = rhs.slice();
  for (let col = 0; col < n; col++) {
    let pivot = col;
    // Stryker: ConditionalExpression, EqualityOperator, ArithmeticOperator (row < n -> false, <= n; the comparison -> false, >=; the indices) equivalent but for rounding:
    // the matrix is symmetric positive definite (normal equations plus a ridge), so elimination in any row order, pivoting or not, meets no zero pivot
    // and gives the same solution; reading past the matrix (<= n, row / n, pivot / n) compares NaN, which never moves the pivot.
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = row;
    const p = a[pivot * n + col]!;
    // Stryker: ConditionalExpression, EqualityOperator equivalent for `Math.abs(p) > 1e-12` -> true or `>=`: the ridge keeps every pivot of a finite system far above 1e-12; only a non-finite one (killed) is refused.
    // Stryker: LogicalOperator (`&&`) equivalent for the same reason: no pivot is tiny, and an infinite one that goes on makes a later pivot NaN, refused by both tests.
    if (!(Math.abs(p) > 1e-12) || !Number.isFinite(p)) return undefined;
    // Stryker: ConditionalExpression equivalent: -> true swaps a row with itself.
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [a[col * n + k], a[pivot * n + k]] = [a[pivot * n + k]!, a[col * n + k]!];
      [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    }
    // Stryker: EqualityOperator equivalent: `row <= n` reads past the matrix (factor NaN) and writes only past the ends of a and b, which are never read.
    for (let row = col + 1; row < n; row++) {
      const factor = a[row * n + col]! / p;
      // Stryker: ConditionalExpression equivalent: -> false subtracts 0 × a finite entry (a non-finite system was refused at its pivot), which changes nothing.
      if (factor === 0) continue;
      // Stryker: EqualityOperator equivalent but for rounding: `k <= n` also changes a[(row + 1) · n], in column 0 below the diagonal (read again only at col 0, less a rounding residue) or past the end.
      for (let k = col; k < n; k++) a[row * n + k]! -= factor * a[col * n + k]!;
      b[row]! -= factor * b[col]!;
    }
  }
  // Stryker disable next-line ArrayDeclaration: every x[row] is written before it is read, from the last row up, so the array's initial length does not matter.
  const x = new Array<number>(n).fill(0);
  // Stryker disable next-line ArithmeticOperator: starting at n + 1 fills x[n + 1] and x[n] with NaN, which no row below reads (k < n) and no caller reads.
  for (let row = n - 1; row >= 0; row--) {
    let sum = b[row]!;
    for (let k = row + 1; k < n; k++) sum -= a[row * n + k]! * x[k]!;
    x[row] = sum / a[row * n + row]!;
  }
  return x;
}
