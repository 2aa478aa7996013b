/** The core's in-flight limit (per replica, the policy's) follows the number of upstream replicas as they join and leave (DNS discovery). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type CallOutcome } from '../../src/core/batcher.js';
import { systemClock } from '../../src/core/clock.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const answers: (() => void)[] = [];
  const batcher = new Batcher<string, string, string, string>({
    // One input per call, so every queued input is a full batch waiting for a slot.
    limits: { maxBatchSize: 1, maxBatchBytes: 1_000_000, maxWaitMs: 0, maxInflight: 2, stagingSlots: 1, maxQueue: 1_000, queueTimeoutMs: Infinity },
    clock: systemClock,
    internalFailure: (message) => message,
    executor: ({ items }) =>
      new Promise<CallOutcome<string, string>>((resolve) => answers.push(() => resolve({ ok: true, answers: items.map(String) }))),
  });
  const outcomes = Array.from({ length: 8 }, (_, i) => batcher.submit({ key: 'k', group: 'k', items: [`x${i}`], itemBytes: [3], overheadBytes: 2 }));
  return { batcher, answers, outcomes };
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('Batcher.setReplicas', () => {
  it('uses a raised limit at once and lets calls over a lowered one finish before sending more', async () => {
    const { batcher, answers, outcomes } = setup();
    await settle();
    expect(batcher.inflight).toBe(2);
    batcher.setReplicas(2);
    await settle();
    expect(batcher.inflight).toBe(4);
    batcher.setReplicas(1);
    answers[0]!();
    await settle();
    // Three still running: over the new limit, so nothing new is sent.
    expect(batcher.inflight).toBe(3);
    expect(answers).toHaveLength(4);
    answers[1]!();
    answers[2]!();
    await settle();
    expect(batcher.inflight).toBe(2);
    expect(answers).toHaveLength(5);
    for (let i = 3; i < 8; i++) {
      answers[i]!();
      await settle();
    }
    expect((await Promise.all(outcomes)).every((outcome) => outcome.status === 'ok')).toBe(true);
  });

  it('refuses a limit the core cannot work with', () => {
    const { batcher } = setup();
    expect(() => batcher.setReplicas(0)).toThrow(RangeError);
    expect(() => batcher.setReplicas(1.5)).toThrow(RangeError);
  });
});
