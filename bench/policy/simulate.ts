/**
 * A deterministic, discrete-event model of the proxy's dispatch policy: the real batching core
 * on fake time, in front of a modelled upstream (fixed cost per call + cost per item, N slots)
 * and closed-loop clients with a fixed network round trip. No sockets and no machine noise, so
 * a policy change can be judged in seconds, before it is measured for real with `autobatch bench`.
 *
 *   npx tsx bench/policy/simulate.ts [--clients 1,8,16,64] [--call-ms 10] [--item-ms 0.1]
 */
import { parseArgs } from 'node:util';
import { Batcher } from '../../src/core/batcher.js';
import type { Clock, TimerHandle } from '../../src/core/clock.js';

class ManualClock implements Clock {
  private time = 0;
  private sequence = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = ++this.sequence;
    this.timers.set(id, { at: this.time + Math.max(0, delayMs), callback });
    return { id };
  }
  clearTimer(handle: TimerHandle): void {
    this.timers.delete((handle as { id: number }).id);
  }
  defer(callback: () => void): void {
    this.setTimer(callback, 0);
  }
  /** Runs the next due event; false when none is left before `until`. */
  step(until: number): boolean {
    let nextId = -1;
    let next: { at: number; callback: () => void } | undefined;
    for (const [id, timer] of this.timers) {
      if (next === undefined || timer.at < next.at || (timer.at === next.at && id < nextId)) {
        next = timer;
        nextId = id;
      }
    }
    if (next === undefined || next.at > until) return false;
    this.timers.delete(nextId);
    this.time = next.at;
    next.callback();
    return true;
  }
}

interface Scenario {
  clients: number;
  callMs: number;
  itemMs: number;
  slots: number;
  rttMs: number;
  maxBatchSize: number;
  maxWaitMs: number;
  maxInflight: number;
  durationMs: number;
}

export async function simulate(s: Scenario): Promise<{ inputsPerSecond: number; meanBatch: number; p50: number; p99: number }> {
  const clock = new ManualClock();
  const slotFreeAt = new Array<number>(s.slots).fill(0);
  const batchSizes: number[] = [];
  const latencies: number[] = [];
  const batcher = new Batcher<string, number, number, string>({
    limits: { maxBatchSize: s.maxBatchSize, maxBatchBytes: 1e9, maxWaitMs: s.maxWaitMs, maxInflight: s.maxInflight, maxQueue: 1e9, queueTimeoutMs: Infinity },
    clock,
    internalFailure: (m) => m,
    executor: ({ items }) =>
      new Promise((resolve) => {
        batchSizes.push(items.length);
        // Half the round trip to reach the upstream, then FIFO on the first free slot.
        const arrive = clock.now() + s.rttMs / 2;
        const slot = slotFreeAt.indexOf(Math.min(...slotFreeAt));
        const start = Math.max(arrive, slotFreeAt[slot]!);
        const done = start + s.callMs + s.itemMs * items.length;
        slotFreeAt[slot] = done;
        clock.setTimer(() => resolve({ ok: true, answers: items }), done + s.rttMs / 2 - clock.now());
      }),
  });
  const client = (): void => {
    const sentAt = clock.now();
    clock.setTimer(() => {
      void batcher.submit({ key: 'k', group: 'k', items: [1], itemBytes: [1], overheadBytes: 0 }).then(() => {
        clock.setTimer(() => {
          if (sentAt > s.durationMs * 0.2) latencies.push(clock.now() - sentAt);
          if (clock.now() < s.durationMs) client();
        }, s.rttMs / 2);
      });
    }, s.rttMs / 2);
  };
  for (let i = 0; i < s.clients; i++) clock.setTimer(client, (i * s.rttMs) / s.clients);
  // Each event runs to completion, promise callbacks included, before the next one.
  while (clock.step(s.durationMs * 2)) await new Promise((resolve) => setImmediate(resolve));
  latencies.sort((a, b) => a - b);
  const measured = latencies.length / (s.durationMs * 0.8 / 1000);
  return {
    inputsPerSecond: measured,
    meanBatch: batchSizes.reduce((a, b) => a + b, 0) / batchSizes.length,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '1,4,8,16,32,64' },
      'call-ms': { type: 'string', default: '10' },
      'item-ms': { type: 'string', default: '0.1' },
      slots: { type: 'string', default: '1' },
      'rtt-ms': { type: 'string', default: '0.3' },
      'max-batch-size': { type: 'string', default: '32' },
      'max-wait-ms': { type: 'string', default: '5' },
      'max-inflight': { type: 'string', default: '2' },
    },
  });
  const base = {
    callMs: Number(values['call-ms']),
    itemMs: Number(values['item-ms']),
    slots: Number(values.slots),
    rttMs: Number(values['rtt-ms']),
    maxBatchSize: Number(values['max-batch-size']),
    maxWaitMs: Number(values['max-wait-ms']),
    maxInflight: Number(values['max-inflight']),
    durationMs: 5_000,
  };
  console.log('| clients | inputs/s | limit (full batches) | % of limit | unbatched | x unbatched | mean batch | p50 ms | p99 ms |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const clients of values.clients!.split(',').map(Number)) {
    const r = await simulate({ ...base, clients });
    const full = Math.min(clients, base.maxBatchSize);
    const limit = (1000 * full * base.slots) / (base.callMs + base.itemMs * full);
    const unbatched = Math.min((1000 * base.slots) / (base.callMs + base.itemMs), (1000 * clients) / (base.callMs + base.itemMs + base.rttMs));
    console.log(
      `| ${clients} | ${r.inputsPerSecond.toFixed(0)} | ${limit.toFixed(0)} | ${((100 * r.inputsPerSecond) / limit).toFixed(0)}% | ${unbatched.toFixed(0)} | ${(r.inputsPerSecond / unbatched).toFixed(1)} | ${r.meanBatch.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`,
    );
  }
}

await main();
