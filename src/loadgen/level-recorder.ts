// Collects the outcomes of one level for one target and sums them up.
//
// Outcomes count when they COMPLETE inside the measurement window (after the warm-up, before
// the end), so requests/s is a true rate over a steady state, and the requests still in flight
// when the window closes neither inflate nor deflate it. Open-loop drops count at their due time.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';
import { ERROR_DROPPED, type RequestOutcome } from './request-outcome.js';

export interface BatchSizeSummary {
  /** Successful answers that carried x-autobatch-batch-size. */
  answers: number;
  /** Mean batch size as seen by a request (request-weighted: big batches weigh more). */
  mean: number;
  min: number;
  max: number;
  distribution: Array<{ size: number; count: number }>;
}

export interface LevelMeasurement {
  /** Length of the measurement window, in seconds. */
  measuredSeconds: number;
  /** Correct answers (status 200, right shape) completed in the window. */
  requestsOk: number;
  inputsOk: number;
  requestsPerSecond: number;
  inputsPerSecond: number;
  /** Latency of the correct answers; from the intended send time in open loop. */
  latencyMs: LatencySummary | null;
  /** Errors by kind: HTTP status ("503"), "network", "timeout", "wrong answer", "dropped". */
  errors: Record<string, number>;
  errorCount: number;
  /** A few distinct error descriptions, to tell what went wrong without a debugger. */
  errorSamples: string[];
  batchSize: BatchSizeSummary | null;
  /** CPU the bench process used during the window, in % of one core (all its threads, and any
   * server running in the same process). */
  clientCpuPercent: number;
  /** Share of the window the bench's event loop was busy (0..1): near 1, the single-threaded
   * load generator, not the target, was the limit. */
  clientEventLoopUtilization: number;
  /** The latency histogram (microseconds), HdrHistogram compressed base64. */
  latencyHistogram: string | null;
}

const MAX_ERROR_SAMPLES = 5;

export class LevelRecorder {
  readonly #from: number;
  readonly #to: number;
  readonly #inputsPerRequest: number;
  readonly #latency = new LatencyHistogram();
  readonly #errors = new Map<string, number>();
  readonly #errorSamples = new Set<string>();
  readonly #batchSizes = new Map<number, number>();
  #requestsOk = 0;
  #batchAnswers = 0;
  #batchSum = 0;
  #batchCount = 0;
  #cpuAtStart: NodeJS.CpuUsage | undefined;
  #cpuMicros = 0;
  #eventLoopAtStart: EventLoopUtilization | undefined;
  #eventLoopUtilization = 0;

  /** The window is [from, to) on the clock the load loop uses, in milliseconds. */
  constructor(window: { from: number; to: number }, inputsPerRequest: number) {
    this.#from = window.from;
    this.#to = window.to;
    this.#inputsPerRequest = inputsPerRequest;
  }

  /** Requests that completed or were dropped so far, in the window (for progress display). */
  get okCount(): number {
    return this.#requestsOk;
  }

  get errorCount(): number {
    let total = 0;
    for (const count of this.#errors.values()) total += count;
    return total;
  }

  #inWindow(at: number): boolean {
    return at >= this.#from && at < this.#to;
  }

  /** Records a finished request sent (or due, in open loop) at `sentAt` and done at `doneAt`. */
  record(outcome: RequestOutcome, sentAt: number, doneAt: number): void {
    if (!this.#inWindow(doneAt)) return;
    if (!outcome.ok) {
      this.#countError(outcome.error, outcome.detail);
      return;
    }
    this.#requestsOk += 1;
    this.#latency.record(doneAt - sentAt);
    if (outcome.batchSizes !== undefined) {
      this.#batchAnswers += 1;
      for (const size of outcome.batchSizes) {
        this.#batchSum += size;
        this.#batchCount += 1;
        this.#batchSizes.set(size, (this.#batchSizes.get(size) ?? 0) + 1);
      }
    }
  }

  /** Records an open-loop request that was due at `dueAt` but not sent (cap reached). */
  recordDropped(dueAt: number, outstanding: number): void {
    if (!this.#inWindow(dueAt)) return;
    this.#countError(ERROR_DROPPED, `${outstanding} requests were already outstanding`);
  }

  #countError(kind: string, detail: string): void {
    this.#errors.set(kind, (this.#errors.get(kind) ?? 0) + 1);
    if (this.#errorSamples.size < MAX_ERROR_SAMPLES) {
      this.#errorSamples.add(`${kind}: ${detail.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
  }

  /** Call when the measurement window opens and when it closes, to measure the bench's own load. */
  markWindow(phase: 'start' | 'end'): void {
    if (phase === 'start') {
      this.#cpuAtStart = process.cpuUsage();
      this.#eventLoopAtStart = performance.eventLoopUtilization();
    } else if (this.#cpuAtStart !== undefined && this.#eventLoopAtStart !== undefined) {
      const used = process.cpuUsage(this.#cpuAtStart);
      this.#cpuMicros = used.user + used.system;
      this.#eventLoopUtilization = performance.eventLoopUtilization(this.#eventLoopAtStart).utilization;
    }
  }

  result(): LevelMeasurement {
    const seconds = (this.#to - this.#from) / 1000;
    const errors: Record<string, number> = {};
    for (const [kind, count] of [...this.#errors.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      errors[kind] = count;
    }
    let batchSize: BatchSizeSummary | null = null;
    if (this.#batchCount > 0) {
      const sizes = [...this.#batchSizes.keys()].sort((a, b) => a - b);
      batchSize = {
        answers: this.#batchAnswers,
        mean: this.#batchSum / this.#batchCount,
        min: sizes[0] ?? 0,
        max: sizes[sizes.length - 1] ?? 0,
        distribution: sizes.map((size) => ({ size, count: this.#batchSizes.get(size) ?? 0 })),
      };
    }
    return {
      measuredSeconds: seconds,
      requestsOk: this.#requestsOk,
      inputsOk: this.#requestsOk * this.#inputsPerRequest,
      requestsPerSecond: this.#requestsOk / seconds,
      inputsPerSecond: (this.#requestsOk * this.#inputsPerRequest) / seconds,
      latencyMs: this.#latency.summary() ?? null,
      errors,
      errorCount: this.errorCount,
      errorSamples: [...this.#errorSamples],
      batchSize,
      clientCpuPercent: seconds > 0 ? this.#cpuMicros / 1e4 / seconds : 0,
      clientEventLoopUtilization: this.#eventLoopUtilization,
      latencyHistogram: this.#latency.count > 0 ? this.#latency.encode() : null,
    };
  }
}
