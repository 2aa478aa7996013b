/**
 * The batching core with a fake executor whose calls the test answers by hand, so every ordering
 * of submissions, answers and failures is explicit. Shared by the core's behaviour tests and the
 * tests that kill its mutants, which differ only in the clock they watch and a few limits.
 */
import { Batcher, type BatcherLimits, type BatcherObserver, type CallOutcome, type CallRequest } from '../../src/core/batcher.js';
import type { CancelSignal } from '../../src/core/cancel-signal.js';
import { systemClock, type Clock } from '../../src/core/clock.js';

export type Failure = { message: string };

export interface PendingCall {
  request: CallRequest<string, string>;
  /** Settles the call; by default every item answers `answer:<item>`, so a shifted answer shows. */
  answer(outcome?: CallOutcome<string, Failure>): void;
}

export interface HandAnsweredOptions {
  limits?: Partial<BatcherLimits>;
  clock?: Clock;
  observer?: BatcherObserver;
}

export function handAnsweredBatcher(options: HandAnsweredOptions = {}) {
  const calls: PendingCall[] = [];
  const batcher = new Batcher<string, string, string, Failure>({
    limits: {
      maxBatchSize: 4,
      maxBatchBytes: 1_000_000,
      maxWaitMs: 10,
      maxInflight: 2,
      maxQueue: 1_000,
      queueTimeoutMs: Infinity,
      ...options.limits,
    },
    clock: options.clock ?? systemClock,
    internalFailure: (message) => ({ message }),
    ...(options.observer ? { observer: options.observer } : {}),
    executor: (request) =>
      new Promise((resolve) => {
        calls.push({
          request,
          answer: (outcome) => resolve(outcome ?? { ok: true, answers: request.items.map((item) => `answer:${item}`) }),
        });
      }),
  });
  // Item bytes are the item's length plus a separator; every call body has 10 bytes of envelope.
  const submit = (items: string[], key = 'k', signal?: CancelSignal) =>
    batcher.submit({ key, group: key, items, itemBytes: items.map((item) => item.length + 1), overheadBytes: 10, signal });
  return { batcher, calls, submit };
}
