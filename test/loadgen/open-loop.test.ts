import { describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { LevelRecorder } from '../../src/loadgen/level-recorder.js';
import { runOpenLoop } from '../../src/loadgen/open-loop.js';

/** A clock that moves only when the test says so; timers (the loop's sleeps) fire in due order. */
class ManualClock implements Clock {
  time = 0;
  readonly #sleepers: Array<{ at: number; wake: () => void }> = [];

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { at: this.time + Math.max(delayMs, 0), wake: callback };
    this.#sleepers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    const index = this.#sleepers.indexOf(handle as { at: number; wake: () => void });
    if (index >= 0) this.#sleepers.splice(index, 1);
  }

  defer(callback: () => void): void {
    this.setTimer(callback, 0);
  }

  get sleeping(): number {
    return this.#sleepers.length;
  }

  /** Moves to `to`, waking each sleeper at its own due time. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      this.#sleepers.sort((a, b) => a.at - b.at);
      const next = this.#sleepers[0];
      if (next === undefined || next.at > to) break;
      this.#sleepers.shift();
      this.time = Math.max(this.time, next.at);
      next.wake();
      await settle();
    }
    this.time = to;
    await settle();
  }

  /** Jumps to `to` at once, as a late timer would: every sleeper due by then wakes at `to`. */
  async jumpTo(to: number): Promise<void> {
    this.time = to;
    await this.advanceTo(to);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A send whose completion the test controls. */
function controlledSends(clock: ManualClock) {
  const sent: Array<{ dueAt: number; sentAt: number; finish: () => void }> = [];
  const send = (dueAt: number): Promise<void> =>
    new Promise<void>((resolve) => {
      sent.push({ dueAt, sentAt: clock.now(), finish: resolve });
    });
  return { sent, send };
}

describe('runOpenLoop', () => {
  it('sends one request per interval at the intended times and stops before the end', async () => {
    const clock = new ManualClock();
    const due: number[] = [];
    const run = runOpenLoop(
      { startAt: 0, endAt: 100, ratePerSecond: 100, maxOutstanding: 1000 },
      {
        send: async (dueAt) => {
          due.push(dueAt);
        },
        dropped: () => {
          throw new Error('nothing should be dropped');
        },
      },
      clock,
    );
    await clock.advanceTo(200);
    const counts = await run;
    expect(due).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(counts).toEqual({ due: 10, sent: 10, dropped: 0 });
  });

  it('sends what fell due while it was late at once, and latency counts from the due time', async () => {
    const clock = new ManualClock();
    const { sent, send } = controlledSends(clock);
    const recorder = new LevelRecorder({ from: 0, to: 1000 }, 1);
    const run = runOpenLoop(
      { startAt: 0, endAt: 40, ratePerSecond: 100, maxOutstanding: 100 },
      {
        send: async (dueAt) => {
          await send(dueAt);
          recorder.record({ ok: true, batchSizes: undefined }, dueAt, clock.now());
        },
        dropped: () => {},
      },
      clock,
    );
    await settle();
    expect(sent.map((s) => s.dueAt)).toEqual([0]);
    // The timer that should have fired at 10 fires at 35 (a busy event loop).
    await clock.jumpTo(35);
    expect(sent.map((s) => [s.dueAt, s.sentAt])).toEqual([
      [0, 0],
      [10, 35],
      [20, 35],
      [30, 35],
    ]);
    await clock.advanceTo(40);
    for (const request of sent) request.finish();
    await settle();
    await run;
    const latency = recorder.result().latencyMs;
    // Completed at 40: 40 - 0, 40 - 10, 40 - 20, 40 - 30; not 5 ms for the late three.
    expect(latency?.count).toBe(4);
    expect(latency?.max).toBeCloseTo(40, 1);
    expect(latency?.min).toBeCloseTo(10, 1);
    expect(latency?.p50).toBeCloseTo(20, 1);
  });

  it('drops requests that fall due while the outstanding cap is reached', async () => {
    const clock = new ManualClock();
    const { sent, send } = controlledSends(clock);
    const dropped: Array<[number, number]> = [];
    const run = runOpenLoop(
      { startAt: 0, endAt: 60, ratePerSecond: 100, maxOutstanding: 2 },
      { send, dropped: (dueAt, outstanding) => dropped.push([dueAt, outstanding]) },
      clock,
    );
    await clock.advanceTo(25);
    expect(sent.map((s) => s.dueAt)).toEqual([0, 10]);
    expect(dropped).toEqual([[20, 2]]);
    sent[0]?.finish(); // one slot frees up
    await settle();
    await clock.advanceTo(45);
    expect(sent.map((s) => s.dueAt)).toEqual([0, 10, 30]);
    expect(dropped).toEqual([
      [20, 2],
      [40, 2],
    ]);
    for (const request of sent) request.finish();
    await settle();
    await clock.advanceTo(100);
    for (const request of sent) request.finish();
    const counts = await run;
    expect(sent.map((s) => s.dueAt)).toEqual([0, 10, 30, 50]);
    expect(counts).toEqual({ due: 6, sent: 4, dropped: 2 });
  });

  it('waits for requests still in flight after the last one is due', async () => {
    const clock = new ManualClock();
    const { sent, send } = controlledSends(clock);
    let finished = false;
    const run = runOpenLoop({ startAt: 0, endAt: 20, ratePerSecond: 100, maxOutstanding: 10 }, { send, dropped: () => {} }, clock).then((counts) => {
      finished = true;
      return counts;
    });
    await clock.advanceTo(100);
    expect(sent).toHaveLength(2);
    expect(finished).toBe(false);
    expect(clock.sleeping).toBe(0);
    for (const request of sent) request.finish();
    expect(await run).toEqual({ due: 2, sent: 2, dropped: 0 });
  });
});
