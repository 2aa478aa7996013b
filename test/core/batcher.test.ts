/**
 * The batching core on fake time: dispatch policy, limits, splitting, isolation, cancellation.
 * The executor is a fake whose calls the test answers by hand, so every ordering is explicit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatcherLimits, type JobOutcome } from '../../src/core/batcher.js';
import { ClientGone, type CancelSignal } from '../../src/core/cancel-signal.js';
import { systemClock } from '../../src/core/clock.js';
import { handAnsweredBatcher, type Failure } from '../support/hand-answered-batcher.js';

type Item = string;
type Answer = string;

function setup(limits: Partial<BatcherLimits> = {}) {
  return handAnsweredBatcher({ limits });
}

/** Lets deferred pumps and promise callbacks run without moving the clock. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('dispatch policy', () => {
  it('sends a lone request at once when the upstream is idle', async () => {
    const { calls, submit } = setup();
    const outcome = submit(['a']);
    await settle();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.request.items).toEqual(['a']);
    calls[0]!.answer();
    const result = await outcome;
    expect(result).toEqual({ status: 'ok', answers: ['answer:a'], stats: { queueMs: 0, batchSize: 1, calls: 1 } });
  });

  it('merges requests that arrive in the same event-loop turn', async () => {
    const { calls, submit } = setup();
    const outcomes = [submit(['a']), submit(['b']), submit(['c'])];
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['a', 'b', 'c']]);
    calls[0]!.answer();
    const results = await Promise.all(outcomes);
    expect(results.map((r) => (r.status === 'ok' ? r.answers : r))).toEqual([['answer:a'], ['answer:b'], ['answer:c']]);
  });

  it('lets a batch grow while the upstream is busy and stages it once full', async () => {
    const { calls, submit } = setup({ maxBatchSize: 3, maxWaitMs: 1_000 });
    void submit(['first']);
    await settle();
    expect(calls).toHaveLength(1);
    // The upstream is busy: these wait for batch-mates instead of going one by one.
    void submit(['a']);
    void submit(['b']);
    await settle();
    expect(calls).toHaveLength(1);
    void submit(['c']);
    await settle();
    // Full: it takes the staging slot while the first call still runs.
    expect(calls).toHaveLength(2);
    expect(calls[1]!.request.items).toEqual(['a', 'b', 'c']);
  });

  it('holds a partial batch for batch-mates known to be coming, at most max-wait, not re-armed by arrivals', async () => {
    const { calls, submit } = setup({ maxBatchSize: 100, maxWaitMs: 10 });
    // Eight clients keep eight inputs in the proxy for a while...
    for (let i = 0; i < 8; i++) void submit([`c${i}`]);
    await settle();
    await vi.advanceTimersByTimeAsync(300);
    calls[0]!.answer();
    await settle();
    // ...so when one comes back to an idle upstream, the others are expected: it waits for them.
    void submit(['first']);
    await settle();
    expect(calls).toHaveLength(1);
    // A trickle of arrivals (fewer than expected) must not push the flush later.
    for (let t = 0; t < 5; t++) {
      await vi.advanceTimersByTimeAsync(1);
      void submit([`t${t}`]);
    }
    await vi.advanceTimersByTimeAsync(4);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.request.items).toEqual(['first', ...Array.from({ length: 5 }, (_, t) => `t${t}`)]);
  });

  it('never holds a lone client: one request at a time always goes at once', async () => {
    const { calls, submit } = setup({ maxWaitMs: 10 });
    for (let i = 0; i < 50; i++) {
      const outcome = submit([`r${i}`]);
      await settle();
      expect(calls).toHaveLength(i + 1);
      await vi.advanceTimersByTimeAsync(5);
      calls[i]!.answer();
      const result = await outcome;
      expect(result.status === 'ok' && result.stats.queueMs).toBe(0);
      await vi.advanceTimersByTimeAsync(0.3);
    }
  });

  it('sends the whole group at once when the expected batch-mates have arrived', async () => {
    const { calls, submit } = setup({ maxBatchSize: 100, maxWaitMs: 50 });
    for (let i = 0; i < 4; i++) void submit([`c${i}`]);
    await settle();
    await vi.advanceTimersByTimeAsync(300);
    calls[0]!.answer();
    await settle();
    for (let i = 0; i < 4; i++) void submit([`again${i}`]);
    await settle();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.request.items).toHaveLength(4);
  });

  it('goes at once when the running call finishes, without waiting out max-wait', async () => {
    const { calls, submit } = setup({ maxBatchSize: 100, maxWaitMs: 1_000 });
    void submit(['busy']);
    await settle();
    const waiting = submit(['a']);
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.answer();
    await settle();
    expect(calls).toHaveLength(2);
    calls[1]!.answer();
    const result = await waiting;
    expect(result.status).toBe('ok');
  });

  it('never has more than max-inflight calls running', async () => {
    const { batcher, calls, submit } = setup({ maxBatchSize: 1, maxInflight: 3, maxWaitMs: 0 });
    const outcomes = Array.from({ length: 10 }, (_, i) => submit([`x${i}`]));
    await settle();
    expect(calls).toHaveLength(3);
    expect(batcher.inflight).toBe(3);
    let answered = 0;
    while (answered < 10) {
      const open = calls.length - answered;
      expect(open).toBeLessThanOrEqual(3);
      calls[answered++]!.answer();
      await settle();
    }
    const results = await Promise.all(outcomes);
    expect(results.map((r) => (r.status === 'ok' ? r.answers[0] : r))).toEqual(Array.from({ length: 10 }, (_, i) => `answer:x${i}`));
    expect(batcher.inflight).toBe(0);
  });

  it('keeps the staging slot for full batches: a partial batch waits for the running call', async () => {
    const { calls, submit } = setup({ maxBatchSize: 3, maxInflight: 2, maxWaitMs: 5 });
    void submit(['run']);
    await settle();
    void submit(['partial']);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(1);
    void submit(['b', 'c']);
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['run'], ['partial', 'b', 'c']]);
  });

  it('serves the oldest key first when several are ready', async () => {
    const { calls, submit } = setup({ maxInflight: 1 });
    void submit(['busy'], 'x');
    await settle();
    void submit(['b1'], 'b');
    await vi.advanceTimersByTimeAsync(1);
    void submit(['a1'], 'a');
    await settle();
    calls[0]!.answer();
    await settle();
    expect(calls[1]!.request.group).toBe('b');
  });
});

describe('limits', () => {
  it('never puts different keys in one call', async () => {
    const { calls, submit } = setup();
    void submit(['a'], 'k1');
    void submit(['b'], 'k2');
    void submit(['c'], 'k1');
    await settle();
    // k2 waits: its only free slot is the staging one, kept for full batches.
    expect(calls).toHaveLength(1);
    calls[0]!.answer();
    await settle();
    expect(calls.map((c) => [c.request.group, c.request.items])).toEqual([
      ['k1', ['a', 'c']],
      ['k2', ['b']],
    ]);
  });

  it('splits a job larger than max-batch-size and reassembles it in order', async () => {
    const { calls, submit } = setup({ maxBatchSize: 4, maxInflight: 4 });
    const items = Array.from({ length: 10 }, (_, i) => `i${i}`);
    const outcome = submit(items);
    await settle();
    expect(calls.map((c) => c.request.items.length)).toEqual([4, 4, 2]);
    // Answer out of order: the reassembly must follow input order, not completion order.
    calls[2]!.answer();
    calls[0]!.answer();
    calls[1]!.answer();
    const result = await outcome;
    expect(result.status === 'ok' && result.answers).toEqual(items.map((item) => `answer:${item}`));
    expect(result.status === 'ok' && result.stats).toMatchObject({ batchSize: 4, calls: 3 });
  });

  it('cuts batches by bytes and refuses an item that cannot fit in any call', async () => {
    const { calls, submit } = setup({ maxBatchSize: 100, maxBatchBytes: 10 + 12, maxInflight: 4 });
    void submit(['aaaaa', 'bbbbb', 'ccccc']); // 6 bytes each with separator: two per call
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['aaaaa', 'bbbbb'], ['ccccc']]);
    const tooLarge = await submit(['x'.repeat(20)]);
    expect(tooLarge).toEqual({ status: 'rejected', reason: 'item-too-large' });
  });

  it('refuses new jobs beyond max-queue at once and keeps counting right', async () => {
    const { batcher, calls, submit } = setup({ maxQueue: 3, maxInflight: 1, maxBatchSize: 1 });
    void submit(['run']);
    await settle();
    void submit(['a', 'b']);
    const refused = await submit(['c', 'd']);
    expect(refused).toEqual({ status: 'rejected', reason: 'queue-full' });
    expect(batcher.queuedItems).toBe(2);
    const accepted = submit(['e']);
    expect(batcher.queuedItems).toBe(3);
    calls[0]!.answer();
    await settle();
    expect(batcher.queuedItems).toBe(2);
    for (let i = 1; i < 4; i++) {
      calls[i]!.answer();
      await settle();
    }
    expect((await accepted).status).toBe('ok');
  });
});

describe('failures', () => {
  it('fails the jobs of a call that failed as a whole with its failure', async () => {
    const { calls, submit } = setup();
    const outcomes = [submit(['a']), submit(['b'])];
    await settle();
    calls[0]!.answer({ ok: false, failure: { message: 'down' }, blame: 'call' });
    const results = await Promise.all(outcomes);
    expect(results.map((r) => r.status === 'failed' && r.failure)).toEqual([{ message: 'down' }, { message: 'down' }]);
  });

  it('isolates a bad input by bisection: only its job fails, the others succeed', async () => {
    const { calls, submit } = setup({ maxBatchSize: 8 });
    const names = ['a', 'b', 'c', 'BAD', 'e', 'f', 'g', 'h'];
    const outcomes = names.map((name) => submit([name]));
    await settle();
    // The fake upstream fails any call that contains BAD, as TEI does.
    for (let i = 0; i < 20 && calls.some((c) => !('done' in c)); i++) {
      for (const call of calls) {
        if ('done' in call) continue;
        Object.assign(call, { done: true });
        call.answer(call.request.items.includes('BAD') ? { ok: false, failure: { message: 'bad input' }, blame: 'inputs' } : undefined);
      }
      await settle();
    }
    const results = await Promise.all(outcomes);
    results.forEach((result, i) => {
      if (names[i] === 'BAD') expect(result).toMatchObject({ status: 'failed', failure: { message: 'bad input' } });
      else expect(result).toMatchObject({ status: 'ok', answers: [`answer:${names[i]}`] });
    });
    // 1 merged call, then 2 per level of bisection over 8 jobs.
    expect(calls).toHaveLength(7);
  });

  it('never hands out answers when their count does not match the inputs', async () => {
    const { calls, submit } = setup();
    const outcomes = [submit(['a']), submit(['b'])];
    await settle();
    calls[0]!.answer({ ok: true, answers: ['only one'] });
    const results = await Promise.all(outcomes);
    for (const result of results) {
      expect(result).toMatchObject({ status: 'failed', failure: { message: 'upstream answered 1 elements for 2 inputs' } });
    }
  });

  it('turns an executor that throws into a failure, not a hang', async () => {
    const batcher = new Batcher<string, Item, Answer, Failure>({
      limits: { maxBatchSize: 4, maxBatchBytes: 1000, maxWaitMs: 1, maxInflight: 1, maxQueue: 10, queueTimeoutMs: Infinity },
      clock: systemClock,
      internalFailure: (message) => ({ message }),
      executor: () => Promise.reject(new Error('boom')),
    });
    const outcome = batcher.submit({ key: 'k', group: 'k', items: ['a'], itemBytes: [2], overheadBytes: 0 });
    await settle();
    expect(await outcome).toMatchObject({ status: 'failed', failure: { message: 'boom' } });
    expect(batcher.inflight).toBe(0);
  });

  it('fails a split job with its earliest failure and sends none of its remaining items', async () => {
    const { calls, submit } = setup({ maxBatchSize: 2, maxInflight: 1 });
    const outcome = submit(['a', 'b', 'c', 'd', 'e', 'f']);
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.answer({ ok: false, failure: { message: 'first half bad' }, blame: 'inputs' });
    await settle();
    expect(await outcome).toMatchObject({ status: 'failed', failure: { message: 'first half bad' } });
    expect(calls).toHaveLength(1);
  });
});

describe('cancellation and shutdown', () => {
  /** The two kinds of signal the core is handed: a library user's AbortSignal, the proxy's ClientGone. */
  const signalKinds: [string, () => { signal: CancelSignal; abort(): void }][] = [
    [
      'AbortSignal',
      () => {
        const controller = new AbortController();
        return { signal: controller.signal, abort: () => controller.abort() };
      },
    ],
    [
      'ClientGone',
      () => {
        const gone = new ClientGone();
        return { signal: gone, abort: () => gone.abort() };
      },
    ],
  ];

  it.each(signalKinds)('drops a job cancelled through %s before it reaches the upstream', async (_kind, makeSignal) => {
    const { calls, submit } = setup({ maxInflight: 1 });
    void submit(['busy']);
    await settle();
    const gone = makeSignal();
    const cancelled = submit(['gone'], 'k', gone.signal);
    const staying = makeSignal();
    const letGo = vi.spyOn(staying.signal, 'removeEventListener');
    const kept = submit(['kept'], 'k', staying.signal);
    await settle();
    gone.abort();
    gone.abort(); // a second close event changes nothing
    expect(await cancelled).toEqual({ status: 'rejected', reason: 'cancelled' });
    calls[0]!.answer();
    await settle();
    expect(calls[1]!.request.items).toEqual(['kept']);
    calls[1]!.answer();
    expect((await kept).status).toBe('ok');
    // A settled job lets go of its listener, so a long-lived signal does not pin finished jobs.
    expect(letGo).toHaveBeenCalledTimes(1);
  });

  it('aborts an in-flight call once every client on it is gone', async () => {
    const { calls, submit } = setup();
    const first = new AbortController();
    const second = new AbortController();
    void submit(['a'], 'k', first.signal);
    void submit(['b'], 'k', second.signal);
    await settle();
    const signal = calls[0]!.request.signal;
    first.abort();
    expect(signal.aborted).toBe(false);
    second.abort();
    expect(signal.aborted).toBe(true);
  });

  it('ClientGone runs each listener once, skips removed ones and ignores late ones', () => {
    const gone = new ClientGone();
    const heard: string[] = [];
    const a = (): void => void heard.push('a');
    const b = (): void => void heard.push('b');
    gone.addEventListener('abort', a);
    gone.addEventListener('abort', b);
    gone.removeEventListener('abort', a);
    gone.abort();
    gone.abort();
    gone.addEventListener('abort', a);
    expect(heard).toEqual(['b']);
    expect(gone.aborted).toBe(true);
  });

  it('refuses at once a job whose ClientGone has already fired', async () => {
    const { calls, submit } = setup();
    const gone = new ClientGone();
    gone.abort();
    expect(await submit(['x'], 'k', gone)).toEqual({ status: 'rejected', reason: 'cancelled' });
    await settle();
    expect(calls).toHaveLength(0);
  });

  it('close() sends what is queued without waiting and refuses new jobs', async () => {
    const { batcher, calls, submit } = setup({ maxBatchSize: 10, maxInflight: 2, maxWaitMs: 60_000 });
    void submit(['busy']);
    await settle();
    const queued = submit(['queued']);
    await settle();
    expect(calls).toHaveLength(1);
    const closed = batcher.close();
    await settle();
    expect(calls).toHaveLength(2);
    expect(await submit(['late'])).toEqual({ status: 'rejected', reason: 'closed' });
    calls[0]!.answer();
    calls[1]!.answer();
    await closed;
    expect((await queued).status).toBe('ok');
  });

  it('resolves every submitted job exactly once', async () => {
    const { calls, submit } = setup({ maxBatchSize: 3, maxInflight: 2, maxWaitMs: 2 });
    const outcomes: Promise<JobOutcome<Answer, Failure>>[] = [];
    for (let i = 0; i < 50; i++) outcomes.push(submit([`${i}a`, `${i}b`].slice(0, 1 + (i % 2))));
    for (let round = 0; round < 200; round++) {
      for (const call of calls) {
        if ('done' in call) continue;
        Object.assign(call, { done: true });
        call.answer();
      }
      await vi.advanceTimersByTimeAsync(1);
    }
    const results = await Promise.all(outcomes);
    results.forEach((result, i) => {
      expect(result.status).toBe('ok');
      if (result.status === 'ok') expect(result.answers[0]).toBe(`answer:${i}a`);
    });
  });
});

describe('queue timeout', () => {
  it('drops a job still unsent at its deadline, before any upstream work, and keeps the rest', async () => {
    const { batcher, calls, submit } = setup({ maxInflight: 1, maxBatchSize: 1, queueTimeoutMs: 100 });
    void submit(['running']);
    await settle();
    const stuck = submit(['stuck']);
    await vi.advanceTimersByTimeAsync(60);
    const later = submit(['later']);
    await vi.advanceTimersByTimeAsync(40);
    // The deadline fires on its own, while the upstream is still busy.
    expect(await stuck).toEqual({ status: 'rejected', reason: 'expired' });
    expect(batcher.queuedItems).toBe(1);
    calls[0]!.answer();
    await settle();
    expect(calls.map((c) => c.request.items)).toEqual([['running'], ['later']]);
    calls[1]!.answer();
    expect((await later).status).toBe('ok');
  });

  it('never expires a job that is already partly sent', async () => {
    const { calls, submit } = setup({ maxInflight: 1, maxBatchSize: 2, queueTimeoutMs: 10 });
    const big = submit(['a', 'b', 'c', 'd']);
    await settle();
    await vi.advanceTimersByTimeAsync(50);
    calls[0]!.answer();
    await settle();
    calls[1]!.answer();
    expect(await big).toMatchObject({ status: 'ok', answers: ['answer:a', 'answer:b', 'answer:c', 'answer:d'] });
  });
});

describe('job tags (how the HTTP layer relates calls to requests, e.g. for trace links)', () => {
  const tagged = (batcher: ReturnType<typeof setup>['batcher'], items: string[], tag: unknown) =>
    batcher.submit({ key: 'k', group: 'k', items, itemBytes: items.map((item) => item.length + 1), overheadBytes: 10, tag });

  it('hands each call the tag of every job it carries, once per job, and none when jobs have none', async () => {
    const { batcher, calls, submit } = setup({ maxBatchSize: 4, maxInflight: 1 });
    const untagged = submit(['x']);
    await settle();
    expect(calls[0]!.request.tags).toEqual([]);
    // Queued behind the running call: an untagged job, then a tagged one split over two calls.
    const outcomes = [submit(['d']), tagged(batcher, ['a', 'b', 'c', 'z'], 'A'), tagged(batcher, ['e', 'f'], 'E')];
    await settle();
    calls[0]!.answer();
    await settle();
    expect(calls[1]!.request.items).toEqual(['d', 'a', 'b', 'c']);
    expect(calls[1]!.request.tags).toEqual(['A']);
    calls[1]!.answer();
    await settle();
    expect(calls[2]!.request.items).toEqual(['z', 'e', 'f']);
    expect(calls[2]!.request.tags).toEqual(['A', 'E']);
    calls[2]!.answer();
    await Promise.all([untagged, ...outcomes]);
  });

  it('gives the halves of an isolated call the tags of their own jobs only', async () => {
    const { batcher, calls } = setup({ maxBatchSize: 4, maxInflight: 1 });
    const outcomes = [tagged(batcher, ['a'], 'A'), tagged(batcher, ['b'], 'B')];
    await settle();
    expect(calls[0]!.request.tags).toEqual(['A', 'B']);
    calls[0]!.answer({ ok: false, failure: { message: 'bad input' }, blame: 'inputs' });
    await settle();
    expect(calls[1]!.request.tags).toEqual(['A']);
    calls[1]!.answer();
    await settle();
    expect(calls[2]!.request.tags).toEqual(['B']);
    calls[2]!.answer();
    await Promise.all(outcomes);
  });
});
