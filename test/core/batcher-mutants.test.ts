/**
 * The batching core's behaviours that mutation testing (docs/mutation-testing.md) found no test
 * watching: counters behind "is this batch full", stats, failures during bisection, what the core
 * asks of its clock, close(), limit validation, the observer, and the bounded per-key traffic memory.
 * Everything goes through the public API on fake time; the clock is the production one wrapped so
 * the test can see which timers and deferred pumps the core asks for (the Clock is its contract).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatcherLimits, type BatcherObserver, type CallOutcome, type JobOutcome } from '../../src/core/batcher.js';
import { ClientGone, type CancelSignal } from '../../src/core/cancel-signal.js';
import { systemClock, type Clock, type TimerHandle } from '../../src/core/clock.js';
import { handAnsweredBatcher, type Failure, type PendingCall } from '../support/hand-answered-batcher.js';

/** The production clock (on vitest's fake timers), recording what the core asks of it. */
function recordingClock() {
  const pending = new Set<TimerHandle>();
  const misuse: string[] = [];
  const counts = { timersSet: 0, defers: 0 };
  const clock: Clock = {
    now: () => systemClock.now(),
    setTimer: (callback, delayMs) => {
      counts.timersSet++;
      if (!Number.isFinite(delayMs)) {
        misuse.push(`setTimer with delay ${delayMs}`);
        return {};
      }
      const handle = systemClock.setTimer(() => {
        pending.delete(handle);
        callback();
      }, delayMs);
      pending.add(handle);
      return handle;
    },
    clearTimer: (handle) => {
      // The contract: only a handle this clock's setTimer returned, and not one already done.
      if (!pending.delete(handle)) misuse.push('clearTimer of a handle that is not pending');
      systemClock.clearTimer(handle);
    },
    defer: (callback) => {
      counts.defers++;
      systemClock.defer(callback);
    },
  };
  return { clock, pending, misuse, counts };
}

function setup(limits: Partial<BatcherLimits> = {}, observer?: BatcherObserver) {
  const recorded = recordingClock();
  const harness = handAnsweredBatcher({ limits: { maxQueue: 10_000, ...limits }, clock: recorded.clock, ...(observer ? { observer } : {}) });
  return { ...harness, ...recorded };
}

/** Lets deferred pumps and promise callbacks run without moving the clock. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** The outcome if the promise has settled by now, else 'pending' (never waits on a hang). */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  let value: T | 'pending' = 'pending';
  void promise.then((v) => (value = v));
  await settle();
  return value;
}

const failure = (message: string): CallOutcome<string, Failure> => ({ ok: false, failure: { message }, blame: 'call' });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('submit edge cases', () => {
  it('answers an empty job at once, without a call', async () => {
    const { calls, submit } = setup();
    expect(await peek(submit([]))).toEqual({ status: 'ok', answers: [], stats: { queueMs: 0, batchSize: 0, calls: 0 } });
    expect(calls).toHaveLength(0);
  });

  it('refuses item sizes that do not match the items, as a programming error', () => {
    const { batcher } = setup();
    expect(() => batcher.submit({ key: 'k', group: 'k', items: ['a', 'b'], itemBytes: [2], overheadBytes: 0 })).toThrow(
      new TypeError('itemBytes must give one size per item'),
    );
  });

  it('accepts an item exactly as large as a call can carry', async () => {
    // 30 bytes per call, 10 of envelope: a 19-character item (20 bytes with its separator) fits exactly.
    const { calls, submit } = setup({ maxBatchBytes: 30 });
    const outcome = submit(['x'.repeat(19)]);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['x'.repeat(19)]]);
    calls[0]!.answer();
    expect((await outcome).status).toBe('ok');
  });
});

describe('what counts as a full batch while the upstream is busy', () => {
  // maxInflight 2 with the default staging slot: one call may run on a work slot, and the second
  // slot takes full batches only. So a queued batch goes now exactly when the core counts it full.

  it("counts a job's bytes: two items that overflow one call are staged at once", async () => {
    const { calls, submit } = setup({ maxBatchBytes: 30 }); // 20 bytes of items per call
    void submit(['busy']);
    await settle();
    void submit(['a'.repeat(9), 'b'.repeat(11)]); // 10 + 12 bytes: more than one call, fewer than 4 items
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['busy'], ['a'.repeat(9)]]);
  });

  it("takes a cancelled job's items and bytes out of the count", async () => {
    const { calls, submit } = setup({ maxBatchBytes: 30, maxBatchSize: 3 });
    void submit(['busy']);
    await settle();
    const gone = new ClientGone();
    void submit(['x'.repeat(6)]); // 7 bytes
    const cancelled = submit(['z'.repeat(13)], 'k', gone); // 14 bytes: with x, more than a call
    gone.abort();
    await settle();
    // Without z, x alone is a partial batch: it waits for the running call.
    expect(calls).toHaveLength(1);
    expect(await cancelled).toEqual({ status: 'rejected', reason: 'cancelled' });
    void submit(['y'.repeat(14)]); // 15 bytes: x and y overflow a call, so the batch is full
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['busy'], ['x'.repeat(6)]]);
  });

  it('counts what is left of a split job, not what was sent', async () => {
    // Two work slots and one staging slot; calls of at most 2 items and 12 bytes of items.
    const { calls, submit } = setup({ maxBatchSize: 2, maxBatchBytes: 22, maxInflight: 3 });
    void submit(['j1', 'j2', 'j3', 'j4', 'j5']);
    await settle();
    // Both work slots busy; j5 alone is partial, so it waits.
    expect(calls.map((c) => c.request.items)).toEqual([
      ['j1', 'j2'],
      ['j3', 'j4'],
    ]);
    void submit(['k1', 'k2']);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([
      ['j1', 'j2'],
      ['j3', 'j4'],
      ['j5', 'k1'],
    ]);
  });
});

describe('stats', () => {
  it('measures queueing from arrival to first send, and counts only the calls that carried the job', async () => {
    const { calls, submit } = setup({ maxBatchSize: 2 });
    const first = submit(['a1', 'a2']);
    const second = submit(['b1']); // does not fit the first call: it waits for the running call
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['a1', 'a2']]);
    await vi.advanceTimersByTimeAsync(30);
    calls[0]!.answer();
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['a1', 'a2'], ['b1']]);
    calls[1]!.answer();
    expect(await first).toEqual({ status: 'ok', answers: ['answer:a1', 'answer:a2'], stats: { queueMs: 0, batchSize: 2, calls: 1 } });
    expect(await second).toEqual({ status: 'ok', answers: ['answer:b1'], stats: { queueMs: 30, batchSize: 1, calls: 1 } });
  });

  it('reports the largest call that carried a split job, whichever call finished last', async () => {
    const { calls, submit } = setup({ maxBatchSize: 2, maxInflight: 3 });
    const outcome = submit(['j1', 'j2', 'j3']);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['j1', 'j2'], ['j3']]);
    calls[0]!.answer();
    await settle();
    calls[1]!.answer();
    expect(await outcome).toMatchObject({ status: 'ok', stats: { batchSize: 2, calls: 2 } });
  });
});

describe('failures across calls', () => {
  it.each([
    ['the earlier part fails first', [0, 1]],
    ['the later part fails first', [1, 0]],
  ])("keeps a split job's earliest failure by input position when %s", async (_order, order) => {
    const { calls, submit } = setup({ maxBatchSize: 2, maxInflight: 3 });
    const outcome = submit(['a', 'b', 'c', 'd']);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    const messages = ['first part', 'second part'];
    for (const index of order) {
      calls[index]!.answer(failure(messages[index]!));
      await settle();
    }
    expect(await outcome).toMatchObject({ status: 'failed', failure: { message: 'first part' } });
  });

  it('does not resend, while bisecting a call, a job that failed meanwhile in another call', async () => {
    const { calls, submit } = setup({ maxBatchSize: 2, maxInflight: 3 });
    const a = submit(['a1']);
    const b = submit(['b1', 'b2', 'b3']);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([
      ['a1', 'b1'],
      ['b2', 'b3'],
    ]);
    calls[0]!.answer({ ok: false, failure: { message: 'bad input' }, blame: 'inputs' });
    await settle();
    expect(calls[2]!.request.items).toEqual(['a1']); // first half of the bisection
    calls[1]!.answer(failure('b broke'));
    await settle();
    calls[2]!.answer();
    await settle();
    // b1 (second half) is not sent: b has already failed.
    expect(calls).toHaveLength(3);
    expect((await a).status).toBe('ok');
    expect(await b).toMatchObject({ status: 'failed', failure: { message: 'b broke' } });
  });

  it('does not resend, while bisecting a call, a job cancelled meanwhile, nor make an empty call', async () => {
    const { calls, submit } = setup();
    const gone = new ClientGone();
    const a = submit(['a1']);
    const b = submit(['b1'], 'k', gone);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['a1', 'b1']]);
    calls[0]!.answer({ ok: false, failure: { message: 'bad input' }, blame: 'inputs' });
    await settle();
    expect(calls[1]!.request.items).toEqual(['a1']);
    gone.abort();
    calls[1]!.answer();
    await settle();
    expect(calls).toHaveLength(2);
    expect((await a).status).toBe('ok');
    expect(await b).toEqual({ status: 'rejected', reason: 'cancelled' });
  });
});

describe('what the core asks of its clock', () => {
  /** Keeps four inputs of key k in the proxy for 300 ms, so k's clients are known to come back. */
  async function warmUp(calls: PendingCall[], submit: (items: string[], key?: string) => Promise<unknown>, key = 'k') {
    void submit(['w1', 'w2', 'w3', 'w4'], key);
    await settle();
    await vi.advanceTimersByTimeAsync(300);
    calls[calls.length - 1]!.answer();
    await settle();
  }

  it('schedules one deferred pump for a burst of submissions', async () => {
    const { calls, submit, counts } = setup({ maxBatchSize: 10 });
    for (let i = 0; i < 5; i++) void submit([`x${i}`]);
    expect(counts.defers).toBe(1);
    await settle();
    expect(calls).toHaveLength(1);
  });

  it('arms no hold timer while the upstream is busy: the end of the running call re-pumps', async () => {
    const { calls, submit, pending } = setup();
    void submit(['busy']);
    await settle();
    void submit(['partial']);
    await settle();
    expect(calls).toHaveLength(1);
    expect(pending.size).toBe(0);
  });

  it('arms no expiry timer for a job already partly sent (it never expires)', async () => {
    const { calls, submit, pending } = setup({ maxBatchSize: 2, maxInflight: 1, queueTimeoutMs: 50 });
    void submit(['j1', 'j2', 'j3', 'j4', 'j5', 'j6']);
    await settle();
    expect(calls).toHaveLength(1);
    expect(pending.size).toBe(0);
  });

  it('holds with one timer, not re-armed by arrivals, and cancels it when the batch fills first', async () => {
    const { calls, submit, pending, misuse, counts } = setup();
    await warmUp(calls, submit);
    const timersBefore = counts.timersSet;
    void submit(['first']);
    await settle();
    expect(calls).toHaveLength(1); // held for batch-mates
    expect(pending.size).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    void submit(['second']);
    await vi.advanceTimersByTimeAsync(2);
    void submit(['third']);
    await settle();
    expect(counts.timersSet - timersBefore).toBe(1);
    void submit(['fourth']); // the batch is full: it goes before max-wait
    await settle();
    expect(calls[1]!.request.items).toEqual(['first', 'second', 'third', 'fourth']);
    expect(pending.size).toBe(0);
    expect(misuse).toEqual([]);
  });
});

describe('how long a hold lasts', () => {
  it('ends max-wait after arrival when no work slot was ever short, whatever other calls finish', async () => {
    // Three work slots: the upstream is never saturated, so only the arrival anchors the hold.
    const { calls, submit } = setup({ maxInflight: 4, maxBatchSize: 10 });
    void submit(['w1', 'w2', 'w3']);
    void submit(['other'], 'other');
    await settle();
    await vi.advanceTimersByTimeAsync(300);
    calls[0]!.answer(); // k's clients are now between answer and next request
    await settle();
    void submit(['first']);
    await settle();
    expect(calls).toHaveLength(2); // held
    await vi.advanceTimersByTimeAsync(5);
    calls[1]!.answer(); // a call ending while slots were free frees no work slot that was short
    await vi.advanceTimersByTimeAsync(4);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.request.items)[2]).toEqual(['first']);
  });

  it('starts when the work slot freed for a request that queued behind a busy upstream', async () => {
    const { calls, submit } = setup({ maxBatchSize: 10 });
    void submit(['a1', 'a2', 'a3']);
    await settle();
    void submit(['b']); // the work slot is busy: b queues
    await settle();
    await vi.advanceTimersByTimeAsync(100);
    calls[0]!.answer();
    await settle();
    // b arrived 100 ms ago, but the hold counts from now: k's clients are expected back.
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(9);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.request.items)).toEqual([['a1', 'a2', 'a3'], ['b']]);
  });
});

describe('close()', () => {
  it('resolves at once on an idle batcher, and again when called twice', async () => {
    const { batcher } = setup();
    expect(await peek(batcher.close())).toBeUndefined();
    expect(await peek(batcher.close())).toBeUndefined();
  });

  it('resolves only once every in-flight call has finished', async () => {
    const { batcher, calls, submit } = setup({ maxInflight: 3 });
    void submit(['a'], 'x');
    void submit(['b'], 'y');
    await settle();
    expect(calls).toHaveLength(2);
    let closed = false;
    void batcher.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    calls[0]!.answer();
    await settle();
    expect(closed).toBe(false);
    calls[1]!.answer();
    await settle();
    expect(closed).toBe(true);
  });
});

describe('limits validation', () => {
  const valid: BatcherLimits = { maxBatchSize: 4, maxBatchBytes: 100, maxWaitMs: 0, maxInflight: 1, maxQueue: 1, queueTimeoutMs: 1 };
  const make = (limits: Partial<BatcherLimits>) => () =>
    new Batcher({
      limits: { ...valid, ...limits },
      executor: async () => ({ ok: true, answers: [] }),
      internalFailure: (message) => message,
      clock: systemClock,
    });

  it('accepts the smallest valid limits', () => {
    expect(make({})).not.toThrow();
  });

  it.each([
    [{ maxBatchSize: 0 }, 'maxBatchSize must be a positive integer'],
    [{ maxBatchSize: 1.5 }, 'maxBatchSize must be a positive integer'],
    [{ maxBatchSize: Number.NaN }, 'maxBatchSize must be a positive integer'],
    [{ maxBatchBytes: 0 }, 'maxBatchBytes must be a positive integer'],
    [{ maxInflight: 0 }, 'maxInflight must be a positive integer'],
    [{ maxWaitMs: -1 }, 'maxWaitMs must be zero or more'],
    [{ maxWaitMs: Number.NaN }, 'maxWaitMs must be zero or more'],
    [{ maxQueue: 0 }, 'maxQueue must be at least 1'],
    [{ queueTimeoutMs: 0 }, 'queueTimeoutMs must be more than zero'],
    [{ queueTimeoutMs: Number.NaN }, 'queueTimeoutMs must be more than zero'],
  ])('refuses %o', (limits, message) => {
    expect(make(limits)).toThrow(new RangeError(message));
  });
});

describe('observer', () => {
  it("hears each call's size, its duration on the core's clock, and whether it succeeded", async () => {
    const heard: unknown[] = [];
    const observer: BatcherObserver = {
      callStarted: (items) => heard.push(['started', items]),
      callFinished: (items, durationMs, ok) => heard.push(['finished', items, durationMs, ok]),
    };
    const { calls, submit } = setup({ maxInflight: 1 }, observer);
    await vi.advanceTimersByTimeAsync(1000); // durations are differences, not clock readings
    void submit(['a', 'b']);
    await settle();
    await vi.advanceTimersByTimeAsync(25);
    calls[0]!.answer();
    await settle();
    void submit(['c']);
    await settle();
    await vi.advanceTimersByTimeAsync(5);
    calls[1]!.answer(failure('down'));
    await settle();
    expect(heard).toEqual([
      ['started', 2],
      ['finished', 2, 25, true],
      ['started', 1],
      ['finished', 1, 5, false],
    ]);
  });
});

// A thousand keys take a second or more under Stryker's instrumentation on a busy machine.
describe('per-key traffic memory', { timeout: 30_000 }, () => {
  // A key whose clients were just answered holds its next request for them; that knowledge is
  // kept for the 1024 most recently used keys only (memory bounded by design).
  async function probe(otherKeysBefore: number, options: { refreshAfter?: number } = {}): Promise<'held' | 'sent'> {
    const { calls, submit } = setup({ maxInflight: 2048, maxBatchSize: 8 });
    void submit(['w1', 'w2', 'w3', 'w4'], 'k');
    await settle();
    await vi.advanceTimersByTimeAsync(300);
    calls[0]!.answer();
    await settle();
    for (let i = 0; i < otherKeysBefore; i++) {
      void submit(['o'], `other${i}`);
      if (i === options.refreshAfter) {
        // Using k again makes it the most recently used key.
        await settle();
        void submit(['again'], 'k');
        await vi.advanceTimersByTimeAsync(10);
      }
    }
    await settle();
    for (const call of calls) call.answer();
    await settle();
    const before = calls.length;
    void submit(['probe'], 'k');
    await settle();
    return calls.length > before ? 'sent' : 'held';
  }

  it('remembers a key while fewer than 1024 others were used since', async () => {
    expect(await probe(1023)).toBe('held');
  });

  it('forgets the least recently used key beyond 1024', async () => {
    expect(await probe(1024)).toBe('sent');
  });

  it("counts a key's reuse as recent", async () => {
    expect(await probe(1100, { refreshAfter: 1000 })).toBe('held');
  });
});

describe('signals', () => {
  /** A CancelSignal that keeps listeners by event type, as an EventTarget does. */
  class TypedSignal implements CancelSignal {
    aborted = false;
    readonly listeners = new Map<string, Set<() => void>>();
    constructor(private readonly honoursRemove = true) {}
    addEventListener(type: string, listener: () => void): void {
      if (!this.listeners.has(type)) this.listeners.set(type, new Set());
      this.listeners.get(type)!.add(listener);
    }
    removeEventListener(type: string, listener: () => void): void {
      if (this.honoursRemove) this.listeners.get(type)?.delete(listener);
    }
    abort(): void {
      this.aborted = true;
      for (const listener of this.listeners.get('abort') ?? []) listener();
    }
  }

  it('leaves no abort listener on the signal of a settled job', async () => {
    const { calls, submit } = setup();
    const signal = new TypedSignal();
    const outcome = submit(['a'], 'k', signal);
    await settle();
    expect(signal.listeners.get('abort')?.size).toBe(1);
    calls[0]!.answer();
    expect((await outcome).status).toBe('ok');
    expect(signal.listeners.get('abort')?.size).toBe(0);
  });

  it('ignores an abort that comes after the job settled, even from a signal that keeps its listeners', async () => {
    const { calls, submit } = setup();
    const signal = new TypedSignal(false);
    const outcome = submit(['a'], 'k', signal);
    await settle();
    await vi.advanceTimersByTimeAsync(100);
    calls[0]!.answer();
    expect((await outcome).status).toBe('ok');
    signal.abort();
    await settle();
    // k had one input at a time: its next lone request still goes at once.
    void submit(['b']);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['a'], ['b']]);
  });
});

describe('a long queue', () => {
  it('keeps order and answers right while the queue drops its consumed prefix', async () => {
    const { calls, submit } = setup({ maxBatchSize: 1, maxInflight: 1 });
    const outcomes: Promise<JobOutcome<string, Failure>>[] = [];
    for (let i = 0; i < 200; i++) outcomes.push(submit([`j${i}`]));
    for (let i = 0; i < 200; i++) {
      await settle();
      expect(calls[i]!.request.items).toEqual([`j${i}`]);
      calls[i]!.answer();
    }
    const results = await Promise.all(outcomes);
    expect(results.map((r) => (r.status === 'ok' ? r.answers[0] : r.status))).toEqual(outcomes.map((_, i) => `answer:j${i}`));
  });
});
