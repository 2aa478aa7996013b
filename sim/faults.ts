/**
 * Fault injection: an upstream that sometimes fails, so a proxy's failure handling can be
 * tested and soaked. Per inference call a seeded generator decides whether the call answers a
 * 5xx, loses its connection without an answer, answers late, or runs normally. The same seed and
 * the same order of calls give the same faults, so a failing run can be replayed.
 */
import { teiErrorBody, type ErrorType } from './tei-error.js';
import { mulberry32 } from './random.js';

export interface TeiSimFaults {
  /** Share of calls answered 503 Unhealthy or 500 (half each), TEI-shaped. Default 0. */
  errorRate?: number;
  /** Share of calls whose connection is destroyed without an answer. Default 0. */
  resetRate?: number;
  /** Share of calls answered `slowMs` later than they would be. Default 0. */
  slowRate?: number;
  /** Default 1000. */
  slowMs?: number;
  /** Default 1. */
  seed?: number;
}

/** What happens to one call. */
export type Fault =
  | { readonly kind: 'none' }
  | { readonly kind: 'error'; readonly status: 500 | 503 }
  | { readonly kind: 'reset' }
  | { readonly kind: 'slow'; readonly delayMs: number };

/** Faults injected so far. */
export interface FaultCounts {
  errors: number;
  resets: number;
  slow: number;
}

const NONE: Fault = { kind: 'none' };

function rate(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new TypeError(`faults.${name} must be between 0 and 1, got ${String(value)}`);
  return v;
}

export class FaultInjector {
  readonly counts: FaultCounts = { errors: 0, resets: 0, slow: 0 };
  private readonly errorRate: number;
  private readonly resetRate: number;
  private readonly slowRate: number;
  private readonly slowMs: number;
  private readonly random: () => number;

  constructor(options: TeiSimFaults) {
    this.errorRate = rate('errorRate', options.errorRate);
    this.resetRate = rate('resetRate', options.resetRate);
    this.slowRate = rate('slowRate', options.slowRate);
    if (this.errorRate + this.resetRate + this.slowRate > 1) throw new TypeError('faults: errorRate + resetRate + slowRate must not exceed 1');
    const slowMs = options.slowMs ?? 1000;
    if (!Number.isFinite(slowMs) || slowMs < 0) throw new TypeError(`faults.slowMs must be a non-negative number, got ${String(options.slowMs)}`);
    this.slowMs = slowMs;
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed)) throw new TypeError(`faults.seed must be an integer, got ${String(seed)}`);
    this.random = mulberry32(seed);
  }

  /** The fault for the next call. Always two draws, so one call's outcome never shifts the next. */
  next(): Fault {
    const pick = this.random();
    const detail = this.random();
    let edge = this.errorRate;
    if (pick < edge) {
      this.counts.errors += 1;
      return { kind: 'error', status: detail < 0.5 ? 503 : 500 };
    }
    edge += this.resetRate;
    if (pick < edge) {
      this.counts.resets += 1;
      return { kind: 'reset' };
    }
    edge += this.slowRate;
    if (pick < edge) {
      this.counts.slow += 1;
      return { kind: 'slow', delayMs: this.slowMs };
    }
    return NONE;
  }

  resetCounts(): void {
    this.counts.errors = 0;
    this.counts.resets = 0;
    this.counts.slow = 0;
  }
}

/** The injected error's body, in the route's own error shape. */
export function faultErrorBody(status: 500 | 503, openAi: boolean): string {
  // TEI's health check failure says "unhealthy"; a 500 is what a crashing backend would give.
  const [message, type]: [string, ErrorType] = status === 503 ? ['unhealthy', 'Unhealthy'] : ['injected fault: internal error', 'Backend'];
  return teiErrorBody(type, message, openAi, status);
}
