/**
 * Shedding before dying, as Envoy's overload manager does: when the V8 heap nears its limit for
 * whatever reason (a budget set too high for --max-old-space-size, a leak, a burst of garbage),
 * new work is refused (503) until it falls back, rather than letting V8 abort the process and
 * lose every request it holds. The byte budget is the design bound; this is the backstop.
 *
 * The heap is read once per turn of the event loop in which requests are admitted, not once per
 * request: v8.getHeapStatistics costs about a microsecond and was 2.7% of the proxy's busy time at
 * 256 clients (bench/perf/cpu-profile.ts, P3), while the requests admitted in one turn are parsed
 * from what the sockets had already delivered, so they add little heap between them. Only changes
 * of state are logged, so a flood of refusals writes two lines, not one per request.
 */
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';

export interface HeapReading {
  usedBytes: number;
  limitBytes: number;
}

export function readV8Heap(): HeapReading {
  const stats = getHeapStatistics();
  return { usedBytes: stats.used_heap_size, limitBytes: stats.heap_size_limit };
}

/**
 * Share of the heap limit past which new work is refused, and below which it is taken again
 * (the gap keeps it from flapping on every collection).
 */
export const SHED_ABOVE = 0.85;
export const RESUME_BELOW = 0.75;

export class HeapPressure {
  private shedding = false;
  private refusedWhileShedding = 0;
  /** The reading of this turn of the event loop; cleared by setImmediate at its end. */
  private reading: HeapReading | undefined;
  private readonly forget = (): void => {
    this.reading = undefined;
  };

  constructor(
    private readonly log: Logger,
    private readonly read: () => HeapReading = readV8Heap,
  ) {}

  /** True when new work must be refused now. */
  high(): boolean {
    if (this.reading === undefined) {
      this.reading = this.read();
      setImmediate(this.forget);
    }
    const { usedBytes, limitBytes } = this.reading;
    const share = usedBytes / limitBytes;
    if (!this.shedding && share >= SHED_ABOVE) {
      this.shedding = true;
      this.refusedWhileShedding = 0;
      this.log.warn({ heapUsedBytes: usedBytes, heapLimitBytes: limitBytes }, 'heap near its limit: refusing new requests (503) until it falls');
    } else if (this.shedding && share < RESUME_BELOW) {
      this.shedding = false;
      this.log.info({ heapUsedBytes: usedBytes, refused: this.refusedWhileShedding }, 'heap back below its shedding mark: taking requests again');
    }
    if (this.shedding) this.refusedWhileShedding++;
    return this.shedding;
  }
}
