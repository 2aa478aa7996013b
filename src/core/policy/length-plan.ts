/**
 * For an upstream that pads: which length buckets (and, among the sizes offered, which batch
 * size) give the lowest cost per input, from the route's mix of request lengths and the fitted
 * cost model.
 *
 * Buckets trade padding for batch size: splitting lengths into bands cuts the padding each input
 * pays (a short query no longer pays for the paragraph in its call), but splits the traffic into
 * smaller batches, each paying the fixed cost per call. Both sides are computed, not guessed:
 * for each candidate (factor, batch size) and each band, the expected batch is the band's share
 * of the inputs in the system (capped by the batch size), the expected padded length is the
 * expected longest of that many draws from the band's lengths, and the cost per input is
 *
 *   fixed / batch + perInput + perByte · mean length + padPerByte · (expected longest − mean length)
 *
 * weighted by the band's share. The lengths are a histogram on a geometric scale (eighths of an
 * octave) with fading weights, so memory is bounded and the mix tracks the traffic.
 */
import type { CostFit } from './dispatch-policy.js';
import { lengthBucket } from '../length-bucket.js';

/** Factors tried, none first (undefined: no buckets). Those of the benchmark grid, and a wide one. */
export const CANDIDATE_FACTORS: readonly (number | undefined)[] = [undefined, 3, 2, 1.5];

const BINS_PER_OCTAVE = 8;
/** Every this many requests, old lengths lose a tenth of their weight. */
const FADE_EVERY = 64;
const FADE = 0.9;
/** Requests (weighted) before the mix is trusted. */
const MIN_REQUESTS = 30;

/** The length a histogram bin stands for (its middle, on the geometric scale). */
function binLength(bin: number): number {
  return 2 ** ((bin + 0.5) / BINS_PER_OCTAVE);
}

/** The histogram bin of a length. */
function binOf(bytes: number): number {
  return Math.floor(Math.log2(Math.max(1, bytes)) * BINS_PER_OCTAVE);
}

/**
 * Mean length and expected longest of `batch` draws from lengths sorted ascending, with weights
 * summing to `total`: P(longest of `batch` draws is in this bin) = F(bin)^batch − F(previous)^batch.
 */
function draws(entries: readonly { length: number; weight: number }[], total: number, batch: number): { mean: number; expectedLongest: number } {
  let mean = 0;
  let expectedLongest = 0;
  let below = 0;
  for (const entry of entries) {
    const p = entry.weight / total;
    mean += p * entry.length;
    const above = below + p;
    expectedLongest += entry.length * (above ** batch - below ** batch);
    below = above;
  }
  return { mean, expectedLongest };
}

export interface LengthPlan {
  factor: number | undefined;
  batchSize: number;
  /** Predicted upstream milliseconds per input. */
  costPerInputMs: number;
}

export class LengthProfile {
  private readonly bins = new Map<number, number>();
  private arrivals = 0;
  private weight = 0;

  /** Records a request's longest input. */
  add(longestBytes: number): void {
    const bin = binOf(longestBytes);
    this.bins.set(bin, (this.bins.get(bin) ?? 0) + 1);
    this.weight++;
    // Stryker disable next-line UpdateOperator: counting down fades at the same requests (-64 % 64 is -0, and -0 === 0).
    if (++this.arrivals % FADE_EVERY === 0) {
      this.weight = 0;
      for (const [key, value] of this.bins) {
        const faded = value * FADE;
        // Stryker: EqualityOperator equivalent: `<=` differs only on a weight of exactly the double 0.01, which n × 0.9^k does not hit (none for n up to 2000 requests, any k).
        if (faded < 0.01) this.bins.delete(key);
        else {
          this.bins.set(key, faded);
          this.weight += faded;
        }
      }
    }
  }

  get known(): boolean {
    return this.weight >= MIN_REQUESTS;
  }

  /** Mean longest input of a request, in bytes (0 before any). */
  get meanBytes(): number {
    if (this.weight <= 0) return 0;
    let sum = 0;
    for (const [bin, weight] of this.bins) sum += weight * binLength(bin);
    return sum / this.weight;
  }

  /**
   * True when buckets of this factor would split the mix: no band holds more than `share` of
   * the requests. A mix of one length gains nothing from buckets, and tells nothing by them.
   */
  splits(factor: number, share: number): boolean {
    if (this.weight <= 0) return false;
    const bands = new Map<number, number>();
    for (const [bin, weight] of this.bins) {
      const band = lengthBucket(binLength(bin), factor);
      bands.set(band, (bands.get(band) ?? 0) + weight);
    }
    return Math.max(...bands.values()) <= share * this.weight;
  }

  /**
   * The share of the requests in the band of a request this long, under buckets of `factor`:
   * what the plan takes a band's call to be cut from (costPerInput), read for a call answered.
   */
  bandShare(longestBytes: number, factor: number): number {
    if (this.weight <= 0) return 0;
    const band = lengthBucket(binLength(binOf(longestBytes)), factor);
    let weight = 0;
    for (const [bin, value] of this.bins) if (lengthBucket(binLength(bin), factor) === band) weight += value;
    return weight / this.weight;
  }

  /** Padding bytes a call of `batch` inputs drawn from the whole mix holds (no buckets). */
  expectedWaste(batch: number): number {
    // Stryker: ConditionalExpression, EqualityOperator equivalent: -> false or `< 0` reach the lines below with no bins, which give no draws and a waste of 0 anyway.
    if (this.weight <= 0) return 0;
    const entries = [...this.bins].sort((a, b) => a[0] - b[0]).map(([bin, weight]) => ({ length: binLength(bin), weight }));
    const { mean, expectedLongest } = draws(entries, this.weight, batch);
    return batch * Math.max(0, expectedLongest - mean);
  }

  /**
   * Cost per input of one plan. `inSystem`: inputs of this route in the proxy and the upstream
   * at once (what a batch can be cut from).
   */
  costPerInput(fit: CostFit, factor: number | undefined, batchSize: number, inSystem: number): number {
    const bands = new Map<number, { length: number; weight: number }[]>();
    for (const [bin, weight] of [...this.bins].sort((a, b) => a[0] - b[0])) {
      const length = binLength(bin);
      // Stryker: ConditionalExpression equivalent: -> false gives lengthBucket(length, undefined), NaN for every length, and a Map keeps NaN as one key: one band, as 0 is.
      const band = factor === undefined ? 0 : lengthBucket(length, factor);
      let list = bands.get(band);
      if (list === undefined) bands.set(band, (list = []));
      list.push({ length, weight });
    }
    let cost = 0;
    for (const list of bands.values()) {
      const bandWeight = list.reduce((sum, entry) => sum + entry.weight, 0);
      const share = bandWeight / this.weight;
      const batch = Math.max(1, Math.min(batchSize, Math.round(share * inSystem)));
      const { mean, expectedLongest } = draws(list, bandWeight, batch);
      const perInput = fit.fixedMs / batch + fit.perInputMs + fit.perByteMs * mean + fit.padPerByteMs * Math.max(0, expectedLongest - mean);
      cost += share * perInput;
    }
    return cost;
  }

  /**
   * The cheapest plan per input among the candidate factors and the given batch sizes (default:
   * only `maxBatchSize`). The proxy asks for one batch size per route, and smaller ones were
   * measured to lose: on the simulator's padded upstream at 128 clients the model chose batches of
   * 4 to spare the paragraphs' bands padding, and the short inputs' bands then paid the fixed cost
   * per call 8 times as often (165 inputs/s against 415 at the largest batch).
   */
  bestPlan(
    fit: CostFit,
    maxBatchSize: number,
    inSystem: number,
    factors: readonly (number | undefined)[] = CANDIDATE_FACTORS,
    sizes: readonly number[] = [maxBatchSize],
  ): LengthPlan {
    let best: LengthPlan | undefined;
    for (const factor of factors) {
      for (const batchSize of sizes) {
        const costPerInputMs = this.costPerInput(fit, factor, batchSize, inSystem);
        // Ties go to the larger batch and the fewer buckets (listed first): less to split.
        if (best === undefined || costPerInputMs < best.costPerInputMs * 0.999) best = { factor, batchSize, costPerInputMs };
      }
    }
    return best!;
  }
}
