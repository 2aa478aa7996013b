/**
 * Abuse of the batching core: random interleavings of submissions, cancellations, time,
 * upstream answers, whole-call failures and bad inputs. Whatever happens, every job settles
 * exactly once, an answer is only ever its own input's, no call breaks a limit or mixes keys,
 * and a cancelled job's inputs are never sent after it was cancelled.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type CallOutcome, type CallRequest, type JobOutcome } from '../../src/core/batcher.js';
import { systemClock } from '../../src/core/clock.js';

type Failure = { message: string };

const action = fc.oneof(
  fc.record({
    kind: fc.constant('submit' as const),
    key: fc.constantFrom('a', 'b', 'c'),
    size: fc.integer({ min: 1, max: 9 }),
    bad: fc.boolean().map((b) => b && Math.random() < 0.3),
    cancel: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ kind: fc.constant('answer' as const), which: fc.nat(), fail: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel' as const), which: fc.nat() }),
);

const limitsArb = fc.record({
  maxBatchSize: fc.integer({ min: 1, max: 8 }),
  maxBatchBytes: fc.integer({ min: 18, max: 120 }),
  maxWaitMs: fc.integer({ min: 0, max: 10 }),
  maxInflight: fc.integer({ min: 1, max: 4 }),
  maxQueue: fc.integer({ min: 5, max: 60 }),
  queueTimeoutMs: fc.constantFrom(Infinity, 7, 30),
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('batcher under abuse', () => {
  it('keeps its promises whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(action, { maxLength: 80 }), async (limits, actions) => {
        interface Open {
          request: CallRequest<string, string>;
          resolve: (outcome: CallOutcome<string, Failure>) => void;
          done: boolean;
        }
        const open: Open[] = [];
        let inflight = 0;
        const cancelledAt = new Map<string, number>();
        let callCount = 0;
        const overhead = 10;
        // Recorded, not thrown: the batcher turns an executor's exception into a failure.
        const violations: string[] = [];
        const check = (ok: boolean, what: string): void => {
          if (!ok) violations.push(what);
        };

        const batcher = new Batcher<string, string, string, Failure>({
          limits,
          clock: systemClock,
          internalFailure: (message) => ({ message }),
          executor: (request) => {
            callCount++;
            inflight++;
            check(inflight <= limits.maxInflight, `inflight ${inflight} > ${limits.maxInflight}`);
            check(request.items.length > 0, 'empty call');
            check(request.items.length <= limits.maxBatchSize, `call of ${request.items.length} items`);
            const bytes = request.items.reduce((sum, item) => sum + item.length + 1, overhead);
            check(bytes <= limits.maxBatchBytes, `call of ${bytes} bytes`);
            for (const item of request.items) {
              // Items are "<key>:<job>:<index>": a call never mixes keys...
              check(item.split(':')[0] === request.group, `item ${item} in a call for ${request.group}`);
              // ...and never carries a job cancelled before the call was made.
              check(!cancelledAt.has(item.split(':')[1]!), `cancelled ${item} sent`);
            }
            return new Promise((resolve) => {
              open.push({
                request,
                done: false,
                resolve: (outcome) => {
                  inflight--;
                  resolve(outcome);
                },
              });
            });
          },
        });

        const jobs: {
          id: string;
          items: string[];
          bad: boolean;
          controller: AbortController;
          outcome?: JobOutcome<string, Failure>;
          settled: number;
        }[] = [];
        const answerCall = (call: Open, failWhole: boolean): void => {
          if (call.done) return;
          call.done = true;
          if (call.request.items.some((item) => item.endsWith(':BAD'))) {
            call.resolve({ ok: false, failure: { message: 'bad input' }, blame: 'inputs' });
          } else if (failWhole) {
            call.resolve({ ok: false, failure: { message: 'upstream down' }, blame: 'call' });
          } else {
            call.resolve({ ok: true, answers: call.request.items.map((item) => `answer(${item})`) });
          }
        };

        for (const step of actions) {
          if (step.kind === 'submit') {
            const id = `j${jobs.length}`;
            const items = Array.from({ length: step.size }, (_, i) => `${step.key}:${id}:${i}`);
            if (step.bad) items[items.length - 1] = `${step.key}:${id}:BAD`;
            const controller = new AbortController();
            const job = { id, items, bad: step.bad, controller, settled: 0 } as (typeof jobs)[number];
            jobs.push(job);
            void batcher
              .submit({
                key: step.key,
                group: step.key,
                items,
                itemBytes: items.map((item) => item.length + 1),
                overheadBytes: overhead,
                signal: controller.signal,
              })
              .then((outcome) => {
                job.outcome = outcome;
                job.settled++;
              });
            if (step.cancel) {
              cancelledAt.set(id, callCount);
              controller.abort();
            }
          } else if (step.kind === 'advance') {
            await vi.advanceTimersByTimeAsync(step.ms);
          } else if (step.kind === 'answer') {
            const pending = open.filter((call) => !call.done);
            if (pending.length > 0) answerCall(pending[step.which % pending.length]!, step.fail);
            await vi.advanceTimersByTimeAsync(0);
          } else {
            const job = jobs[step.which % Math.max(1, jobs.length)];
            if (job && job.settled === 0) {
              cancelledAt.set(job.id, callCount);
              job.controller.abort();
            }
          }
        }

        // Drain: answer everything until nothing is left, then every job must have settled.
        for (let round = 0; round < 500; round++) {
          for (const call of open) answerCall(call, false);
          await vi.advanceTimersByTimeAsync(20);
          if (jobs.every((job) => job.settled > 0) && batcher.inflight === 0) break;
        }
        expect(violations).toEqual([]);
        expect(batcher.inflight).toBe(0);
        expect(batcher.queuedItems).toBe(0);
        for (const job of jobs) {
          expect(job.settled).toBe(1);
          const outcome = job.outcome!;
          if (outcome.status === 'ok') {
            expect(job.bad).toBe(false);
            expect(outcome.answers).toEqual(job.items.map((item) => `answer(${item})`));
          } else if (outcome.status === 'failed') {
            if (job.bad) expect(['bad input', 'upstream down']).toContain(outcome.failure.message);
            else expect(outcome.failure.message).toBe('upstream down');
          } else {
            expect(['cancelled', 'queue-full', 'item-too-large', 'expired']).toContain(outcome.reason);
            if (outcome.reason === 'cancelled') expect(cancelledAt.has(job.id)).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
