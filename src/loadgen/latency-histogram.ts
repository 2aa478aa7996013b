// Latency percentiles from an HDR histogram: constant memory however many requests a level
// sends, and every percentile within 0.1% of the exact value (3 significant digits).
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** Latency statistics of one level and target, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

// Recorded in microseconds: sub-millisecond answers from a loopback upstream stay distinct.
const MICROS_PER_MS = 1000;
// One hour; longer values are clamped (a request timeout is far below this).
const HIGHEST_TRACKABLE_MICROS = 3_600_000_000;

export class LatencyHistogram {
  readonly #histogram: Histogram;

  constructor() {
    this.#histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_TRACKABLE_MICROS,
      numberOfSignificantValueDigits: 3,
      autoResize: false,
    });
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  record(latencyMs: number): void {
    const micros = Math.round(latencyMs * MICROS_PER_MS);
    this.#histogram.recordValue(Math.min(Math.max(micros, 1), HIGHEST_TRACKABLE_MICROS));
  }

  /** The value at `percentile` (0..100), in milliseconds. */
  percentile(percentile: number): number {
    return this.#histogram.getValueAtPercentile(percentile) / MICROS_PER_MS;
  }

  summary(): LatencySummary | undefined {
    const h = this.#histogram;
    if (h.totalCount === 0) return undefined;
    return {
      count: h.totalCount,
      min: h.minNonZeroValue / MICROS_PER_MS,
      mean: h.mean / MICROS_PER_MS,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: h.maxValue / MICROS_PER_MS,
    };
  }

  /** The whole histogram (microseconds), in HdrHistogram's compressed base64 form. */
  encode(): string {
    return encodeIntoCompressedBase64(this.#histogram);
  }
}
