/**
 * Starvation: a key whose partial batch is kept out of the staging slots while other keys keep
 * filling full batches. Staging slots take full batches only (batcher.ts), so under full-batch
 * load of one key, another key's partial batch could wait for a work slot that never frees.
 * What counts as being passed over (OVERTAKES in batcher.ts) is pinned here case by case: a call
 * of a younger request leaving while the key has no batch-mate on its way.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handAnsweredBatcher } from '../support/hand-answered-batcher.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** One work slot and one staging slot, batches of four; the majority key's clients send one input each. */
function underMajorityLoad() {
  const batcher = handAnsweredBatcher({ limits: { maxBatchSize: 4, maxInflight: 2, stagingSlots: 1, queueTimeoutMs: 30_000 } });
  let next = 0;
  let answered = 0;
  const majorityBatch = (key = 'b'): void => {
    for (let i = 0; i < 4; i++) void batcher.submit([`${key}${next++}`], key);
  };
  const answerNext = (): void => batcher.calls[answered++]!.answer();
  /** Until `done()`: at each call end the majority has a full batch ready (128 clients answered and back). */
  const keepFilling = async (done: () => boolean, key = 'b'): Promise<void> => {
    for (let rounds = 0; !done() && rounds < 60; rounds++) {
      await vi.advanceTimersByTimeAsync(1);
      majorityBatch(key);
      answerNext();
      await vi.advanceTimersByTimeAsync(5);
    }
  };
  /** Two full batches of the majority, one in each slot; a millisecond later. */
  const fillBothSlots = async (): Promise<void> => {
    majorityBatch();
    majorityBatch();
    await vi.advanceTimersByTimeAsync(1);
    expect(batcher.calls).toHaveLength(2);
  };
  const callCarrying = (item: string): number => batcher.calls.findIndex((call) => call.request.items.includes(item));
  /** The name the next majority input will have. */
  const nextMajorityItem = (key = 'b'): string => `${key}${next}`;
  return { ...batcher, majorityBatch, fillBothSlots, answerNext, keepFilling, callCarrying, nextMajorityItem };
}

describe('a minority key under full-batch load of another', () => {
  it('is sent within a few calls, not at the queue timeout', async () => {
    const { calls, fillBothSlots, submit, keepFilling, callCarrying } = underMajorityLoad();
    await fillBothSlots();
    let minority: unknown;
    void submit(['a0'], 'a').then((outcome) => (minority = outcome));
    await keepFilling(() => minority !== undefined);
    expect(minority).toMatchObject({ status: 'ok', answers: ['answer:a0'] });
    // Passed over by eight full batches of younger requests (OVERTAKES in batcher.ts), it goes
    // ninth, alone, in the staging slot.
    const carried = callCarrying('a0');
    expect(carried).toBe(2 + 8);
    expect(calls[carried]!.request.items).toEqual(['a0']);
    expect(calls.slice(2, carried).every((call) => call.request.items.length === 4)).toBe(true);
  });

  it('waits its eight passes again for its next request', async () => {
    const { submit, fillBothSlots, keepFilling, callCarrying, nextMajorityItem } = underMajorityLoad();
    await fillBothSlots();
    let first: unknown;
    void submit(['a0'], 'a').then((outcome) => (first = outcome));
    await keepFilling(() => first !== undefined);
    expect(callCarrying('a0')).toBe(10);
    let second: unknown;
    void submit(['a1'], 'a').then((outcome) => (second = outcome));
    const firstYounger = nextMajorityItem();
    await keepFilling(() => second !== undefined);
    // The count starts over once the key has sent: a1 too waits out eight younger full batches.
    expect(callCarrying('a1')).toBe(callCarrying(firstYounger) + 8);
  });

  it('counts afresh for what a send leaves behind', async () => {
    const { calls, fillBothSlots, submit, keepFilling, callCarrying } = underMajorityLoad();
    await fillBothSlots();
    let left: unknown;
    void submit(['a0'], 'a');
    let rounds = 0;
    await keepFilling(() => rounds++ === 5);
    // Passed over five times, a0 is joined by four more: a full batch, which goes at once and
    // leaves a4 behind with a count of its own, from zero.
    for (let i = 1; i < 4; i++) void submit([`a${i}`], 'a');
    void submit(['a4'], 'a').then((outcome) => (left = outcome));
    await keepFilling(() => left !== undefined);
    const sent = callCarrying('a0');
    expect(calls[sent]!.request.items).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(callCarrying('a4')).toBe(sent + 1 + 8);
  });

  it('counts calls that leave, not arrivals that find nothing to send', async () => {
    const { calls, fillBothSlots, submit, majorityBatch, answerNext, keepFilling, callCarrying } = underMajorityLoad();
    await fillBothSlots();
    let minority: unknown;
    void submit(['a0'], 'a').then((outcome) => (minority = outcome));
    // A call ends with no full batch ready: the staging slot is free, the work slot busy. Ten lone
    // requests of other keys arrive; each looks for a batch to send and finds none, which passes
    // no one over.
    answerNext();
    await vi.advanceTimersByTimeAsync(1);
    for (let i = 0; i < 10; i++) void submit([`c${i}`], `c${i}`);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    // A full batch takes the staging slot, the first call to pass a0 over; then as in the first case.
    majorityBatch();
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
    await keepFilling(() => minority !== undefined);
    expect(callCarrying('a0')).toBe(2 + 8);
  });

  it('does not count a call of a request that arrived with its own', async () => {
    const { submit, fillBothSlots, majorityBatch, keepFilling, callCarrying } = underMajorityLoad();
    await fillBothSlots();
    let minority: unknown;
    // A full batch of another key that arrived in the same instant as a0 is not younger: its call
    // is not counted. (a0's queue is made first, so it is visited before the batch's.)
    void submit(['a0'], 'a').then((outcome) => (minority = outcome));
    majorityBatch('c');
    await keepFilling(() => minority !== undefined, 'c');
    expect(callCarrying('a0')).toBe(2 + 1 + 8);
  });

  it('does not count calls of older requests', async () => {
    const { submit, fillBothSlots, majorityBatch, keepFilling, callCarrying } = underMajorityLoad();
    await fillBothSlots();
    // The minority's queue is made before a backlog of another key, then its head is replaced by
    // a younger request, so the queues are visited minority first with the older backlog after it.
    const early = new AbortController();
    void submit(['a0'], 'a', early.signal);
    await vi.advanceTimersByTimeAsync(1);
    for (let i = 0; i < 3; i++) majorityBatch('c');
    await vi.advanceTimersByTimeAsync(1);
    let minority: unknown;
    void submit(['a1'], 'a').then((outcome) => (minority = outcome));
    early.abort();
    await keepFilling(() => minority !== undefined, 'c');
    // The three older batches go first uncounted, then eight younger ones are counted.
    expect(callCarrying('a1')).toBe(2 + 3 + 8);
  });

  it('does not count calls while batch-mates of its own are on their way', async () => {
    const { calls, submit, majorityBatch, keepFilling, callCarrying } = underMajorityLoad();
    // The minority key had three inputs in the proxy for 200 ms (one call in the work slot)...
    void submit(['x0', 'x1', 'x2'], 'a');
    majorityBatch();
    majorityBatch();
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.map((call) => call.request.items.length)).toEqual([3, 4]);
    calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(3);
    // ...and answered just now: its recent average says more are coming, so a lone request of it
    // waits for them, and the calls leaving meanwhile do not count until that average has decayed.
    let minority: unknown;
    void submit(['a0'], 'a').then((outcome) => (minority = outcome));
    await keepFilling(() => minority !== undefined);
    expect(minority).toMatchObject({ status: 'ok' });
    expect(callCarrying('a0')).toBeGreaterThan(3 + 8);
  });
});
