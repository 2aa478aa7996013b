/**
 * Simulated time for the dispatch-policy model: the core's Clock interface on a virtual clock
 * that jumps from event to event. Time never passes while an event runs, so what the model
 * measures is the policy and the modelled costs, never this machine's speed or load.
 *
 * Events due at the same time run in the order they were scheduled (a timer set for "now" by an
 * event runs after the events already due now), like Node's timers. The queue is a binary heap:
 * a 128-client run schedules tens of thousands of events.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface SimTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

function earlier(a: SimTimer, b: SimTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class SimClock implements Clock {
  private time = 0;
  private sequence = 0;
  private readonly heap: SimTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: SimTimer = { at: this.time + Math.max(0, delayMs), seq: ++this.sequence, callback, cancelled: false };
    this.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as SimTimer).cancelled = true;
  }

  defer(callback: () => void): void {
    this.setTimer(callback, 0);
  }

  /** Runs one due event; false when none is left at or before `until`. */
  step(until: number): boolean {
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.at > until) return false;
      this.pop();
      if (next.cancelled) continue;
      this.time = next.at;
      next.callback();
      return true;
    }
  }

  /**
   * Runs every event up to `until`. Between events the microtask queue is drained (promise
   * callbacks of the core and of the modelled clients), so each event runs to completion with
   * all it causes at the same instant before time moves on.
   */
  async runUntil(until: number): Promise<void> {
    while (this.step(until)) await new Promise((resolve) => setImmediate(resolve));
    this.time = Math.max(this.time, until);
  }

  private push(timer: SimTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && earlier(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && earlier(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}
