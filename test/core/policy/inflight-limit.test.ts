/**
 * The adaptive in-flight limit on synthetic completions: the limiter sees only finished calls,
 * so a modelled upstream (inputs per second as a function of the limit) drives it on made-up
 * time, and each test says how the upstream answers more calls in flight.
 */
import { describe, expect, it } from 'vitest';
import { InflightLimit } from '../../../src/core/policy/inflight-limit.js';

const CALL_ITEMS = 32;
const CALL_MS = 20;

/**
 * Feeds `calls` completions at the rate `throughput(limit)` (inputs per second) for the limit in
 * force at each moment; returns the clock at the end and the per-replica limits seen.
 */
function drive(
  limiter: InflightLimit,
  throughput: (perReplicaLimit: number) => number,
  calls: number,
  options: {
    start?: number;
    load?: number;
    busy?: boolean;
    full?: boolean;
    replicas?: number;
    slowEvery?: number;
    alone?: boolean | ((call: number) => boolean);
  } = {},
): { time: number; limits: number[] } {
  let time = options.start ?? 0;
  const limits: number[] = [];
  for (let i = 0; i < calls; i++) {
    const perReplica = limiter.limit / (options.replicas ?? 1);
    const gap = (1000 * CALL_ITEMS) / throughput(perReplica);
    const slow = options.slowEvery !== undefined && i % options.slowEvery === options.slowEvery - 1;
    time += slow ? gap * 20 : gap;
    limiter.record({
      startedAt: time - CALL_MS,
      finishedAt: time,
      items: CALL_ITEMS,
      load: options.load ?? 128,
      busy: options.busy ?? true,
      full: options.full ?? true,
      ...(options.alone === undefined ? {} : { alone: typeof options.alone === 'boolean' ? options.alone : options.alone(i) }),
    });
    limits.push(limiter.limit / (options.replicas ?? 1));
  }
  return { time, limits };
}

const settings = { replicas: 1, min: 2, max: 16, initial: 2 };

describe('adaptive in-flight limit', () => {
  it('climbs while more calls in flight deliver more (an upstream that merges them), and stops where they stop paying', () => {
    const limiter = new InflightLimit(settings);
    // Throughput grows with the limit up to 5, flat beyond.
    const merging = (limit: number): number => 1000 * Math.min(limit, 5);
    const { limits } = drive(limiter, merging, 2000);
    expect(limiter.limit).toBeGreaterThanOrEqual(4);
    expect(limiter.limit).toBeLessThanOrEqual(6);
    // Bounded steps: the limit never jumps by more than one at a time.
    for (let i = 1; i < limits.length; i++) expect(Math.abs(limits[i]! - limits[i - 1]!)).toBeLessThanOrEqual(1);
    expect(limiter.reason).toMatch(/per replica/);
  });

  it('keeps the limit learned under load through a lone client (one call at a time cannot judge a step down), and steps down where calls overlap', () => {
    const merging = (limit: number): number => 1000 * Math.min(limit, 5);
    const quiet = { load: 1, busy: false, full: false };
    // Every call alone; none; one in four (a share, not a count, decides: still steps down).
    for (const alone of [true, false, (call: number): boolean => call % 4 === 0]) {
      const limiter = new InflightLimit(settings);
      const { time } = drive(limiter, merging, 2000);
      const learned = limiter.limit;
      const slots = limiter.workSlotsPerReplica;
      expect(learned).toBeGreaterThanOrEqual(4);
      // The quiet spell: the same upstream, now carrying one call at a time whatever the limit.
      const { limits } = drive(limiter, () => 1000, 2000, { ...quiet, start: time + 1000, alone });
      if (alone === true) {
        expect(Math.min(...limits)).toBe(learned);
        expect(limiter.workSlotsPerReplica).toBe(slots);
      } else {
        // The control: calls that overlapped judge steps down, kept since they lose nothing.
        expect(limiter.limit).toBe(2);
      }
    }
  });

  it('stays at one running call and one staged batch when more calls only queue (a one-slot upstream)', () => {
    const limiter = new InflightLimit(settings);
    const { limits } = drive(limiter, () => 2400, 3000);
    expect(limiter.limit).toBe(2);
    // Probes are rare once they have failed (exponential backoff): most of the time at 2.
    const atTwo = limits.filter((limit) => limit === 2).length;
    expect(atTwo / limits.length).toBeGreaterThan(0.85);
  });

  it('never probes upward while nothing waits in the proxy (the limit is not what holds traffic back)', () => {
    const limiter = new InflightLimit(settings);
    // Full calls, one call's worth of inputs in the system (the staging slot stays empty): the
    // probe for this shape is halving the batch size, which leaves the limit alone.
    const { limits } = drive(limiter, (limit) => 1000 * limit, 1000, { busy: false, load: 32 });
    expect(Math.max(...limits)).toBe(2);
  });

  it('with partial calls holding the whole load, adds work slots while partial batches side by side pay (an upstream that merges them)', () => {
    const limiter = new InflightLimit(settings);
    expect(limiter.workSlotsPerReplica).toBe(1);
    // Throughput grows with the work slots (the limit moves with them, the staging slot stays).
    drive(limiter, (limit) => 1000 * limit, 1000, { busy: false, full: false });
    expect(limiter.workSlotsPerReplica).toBe(4);
    expect(limiter.limit).toBe(5);
    // The fourth, checked from a settled window once more (one fewer loses a quarter), stays.
    expect(limiter.workSlotsReason).toMatch(/4 work slots per replica: one fewer gave -\d+% throughput/);
    expect(limiter.reason).toContain(limiter.workSlotsReason);
  });

  it('undoes a work slot that did not pay, and does not try again at the same load', () => {
    const limiter = new InflightLimit(settings);
    const { limits } = drive(limiter, () => 2000, 1000, { busy: false, full: false });
    expect(limiter.workSlotsPerReplica).toBe(1);
    expect(limiter.limit).toBe(2);
    // One probe window at 3, then never again.
    expect(limits.filter((limit) => limit === 3).length).toBeLessThan(40);
    expect(limiter.workSlotsReason).toMatch(/1 work slot per replica: one more gave/);
  });

  it('halves the batch size when full calls hold the whole load and half batches deliver more (two backend slots), once per load', () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    const halvedSeen: boolean[] = [];
    for (let i = 0; i < 600; i++) {
      // Calls of 16 side by side deliver 2600 inputs/s, calls of 32 one at a time 2300.
      const items = limiter.halved ? 16 : 32;
      time += (1000 * items) / (limiter.halved ? 2600 : 2300);
      limiter.record({ startedAt: time - CALL_MS, finishedAt: time, items, load: 32, busy: false, full: true });
      halvedSeen.push(limiter.halved);
    }
    expect(limiter.halved).toBe(true);
    expect(limiter.limit).toBe(2);
    // Kept at +13%, then checked once from a settled window: whole batches lost 12%.
    expect(limiter.halvingReason).toBe('kept half batches: whole ones gave -12% throughput');
  });

  it('never probes halving while most calls hold half a batch or less (halving would leave them as they are)', () => {
    for (const overHalfEvery of [0, 3]) {
      const limiter = new InflightLimit(settings);
      let time = 0;
      let probed = false;
      for (let i = 0; i < 600; i++) {
        // One client's calls of one input (a third of them over half a batch in the second run):
        // any difference a halving probe measured would be noise, and noise was kept as a gain.
        time += limiter.halved ? 9 : 10;
        const overHalf = overHalfEvery > 0 && i % overHalfEvery === 0;
        limiter.record({ startedAt: time - 9, finishedAt: time, items: 1, load: 1, busy: false, full: false, overHalf });
        probed ||= limiter.halved;
      }
      expect(probed).toBe(false);
      expect(limiter.halvingReason).toBe('whole batches (halving not tried)');
    }
    // From half the calls on, it is probed (and this upstream, 10% faster halved, keeps it).
    const limiter = new InflightLimit(settings);
    let time = 0;
    for (let i = 0; i < 600; i++) {
      time += limiter.halved ? 9 : 10;
      limiter.record({ startedAt: time - 9, finishedAt: time, items: 1, load: 1, busy: false, full: false, overHalf: i % 2 === 0 });
    }
    expect(limiter.halved).toBe(true);
  });

  it('keeps whole batches when halving loses (a one-slot upstream pays the fixed cost twice), after one probe', () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    let halvedCalls = 0;
    for (let i = 0; i < 600; i++) {
      const items = limiter.halved ? 16 : 32;
      if (limiter.halved) halvedCalls++;
      time += (1000 * items) / (limiter.halved ? 1380 : 2320);
      limiter.record({ startedAt: time - CALL_MS, finishedAt: time, items, load: 32, busy: false, full: true });
    }
    expect(limiter.halved).toBe(false);
    expect(halvedCalls).toBeLessThan(40);
    expect(limiter.halvingReason).toMatch(/kept whole batches: halving gave -\d+% throughput/);
  });

  it("does not keep a gain that is within the windows' noise", () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    // A merging upstream that gains 20% per call in flight, measured through heavy noise: every
    // other pair of calls comes four times slower (halves of a window differ by far more than 20%).
    for (let i = 0; i < 400; i++) {
      const perReplica = limiter.limit;
      const gap = (1000 * CALL_ITEMS) / (1000 * (1 + 0.2 * (perReplica - 2)));
      time += Math.floor(i / 8) % 2 === 0 ? gap * 0.4 : gap * 1.6;
      limiter.record({ startedAt: time - CALL_MS, finishedAt: time, items: CALL_ITEMS, load: 128, busy: true, full: true });
    }
    expect(limiter.limit).toBe(2);
  });

  it('comes back down when load falls and fewer calls deliver as much', () => {
    const limiter = new InflightLimit(settings);
    const { time } = drive(limiter, (limit) => 1000 * Math.min(limit, 6), 2000);
    expect(limiter.limit).toBeGreaterThanOrEqual(5);
    // Load falls to a level any limit serves equally (and the calls come less often).
    drive(limiter, () => 500, 600, { start: time, load: 8 });
    expect(limiter.limit).toBe(2);
  });

  it('is not moved by one slow call in a window', () => {
    const limiter = new InflightLimit(settings);
    // A one-slot upstream with an occasional call twenty times slower than the rest.
    drive(limiter, () => 2400, 3000, { slowEvery: 37 });
    expect(limiter.limit).toBe(2);
  });

  it('moves all replicas together, one call per replica per step', () => {
    const limiter = new InflightLimit({ ...settings, replicas: 3 });
    expect(limiter.limit).toBe(6);
    drive(limiter, (limit) => 1000 * Math.min(limit, 4), 2000, { replicas: 3 });
    expect(limiter.limit % 3).toBe(0);
    expect(limiter.limit).toBeGreaterThanOrEqual(9);
  });

  it('keeps within its bounds', () => {
    const limiter = new InflightLimit({ replicas: 1, min: 2, max: 3, initial: 2 });
    drive(limiter, (limit) => 1000 * limit, 2000);
    expect(limiter.limit).toBeLessThanOrEqual(3);
    expect(limiter.limit).toBeGreaterThanOrEqual(2);
  });

  it('abandons a probe under way when what calls cost changes (restart), back to its baseline', () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    while (!/probing/.test(limiter.reason)) time = drive(limiter, (limit) => 1000 * limit, 1, { start: time }).time;
    expect(limiter.limit).toBe(3);
    limiter.restart(time);
    expect(limiter.limit).toBe(2);
    expect(limiter.reason).not.toMatch(/probing/);
  });

  it('measures the inputs delivered per second between completions, and says why it moved', () => {
    const limiter = new InflightLimit(settings);
    expect(limiter.initial).toBe(true);
    expect(limiter.reason).toBe('start: one running call and one staged full batch per replica');
    drive(limiter, () => 2400, 40);
    expect(limiter.throughput).toBeCloseTo(2400, -1);
    const merging = new InflightLimit(settings);
    drive(merging, (limit) => 1000 * Math.min(limit, 5), 2000);
    expect(merging.initial).toBe(false);
    expect(merging.reason).toMatch(
      /^(raised to \d+ per replica: throughput \+\d+% \(\d+ -> \d+ inputs\/s\)|kept \d+ per replica: \d+ (gave [-+]\d+% throughput \(calls only queued upstream\)|lost -\d+% of throughput))/,
    );
  });

  it('probes again after a failed probe, less and less often (exponential backoff)', () => {
    const limiter = new InflightLimit(settings);
    const { limits } = drive(limiter, () => 2400, 6000);
    let probes = 0;
    for (let i = 1; i < limits.length; i++) if (limits[i] === 3 && limits[i - 1] === 2) probes++;
    // Waits of 1, 2, 4 ... 32 windows: 14 probes in about 375 windows.
    expect(probes).toBeGreaterThanOrEqual(12);
    expect(probes).toBeLessThanOrEqual(16);
    expect(limiter.reason).toBe('kept 2 per replica: 3 gave +0% throughput (calls only queued upstream)');
  });

  it('throws a probe away when the load moved under it, and goes back to its baseline', () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    // Baseline at load 128; the probe window sees a load of 80 (clients left), whatever the throughput.
    while (!/probing/.test(limiter.reason)) time = drive(limiter, () => 2400, 1, { start: time }).time;
    for (let i = 0; i < 200 && !/inconclusive/.test(limiter.reason); i++) time = drive(limiter, () => 4000, 1, { start: time, load: 80 }).time;
    expect(limiter.reason).toMatch(/^probe to 3 inconclusive: load moved from 128 to 80 inputs/);
    expect(limiter.limit).toBe(2);
  });

  it('abandons a probe at a new level of load, and goes back to its baseline', () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    // Baseline at load 128; the probe window sees a load of 40: a new level.
    while (!/probing/.test(limiter.reason)) time = drive(limiter, () => 2400, 1, { start: time }).time;
    for (let i = 0; i < 200 && !/abandoned/.test(limiter.reason); i++) time = drive(limiter, () => 4000, 1, { start: time, load: 40 }).time;
    expect(limiter.reason).toBe('probe to 3 per replica abandoned: a new level of load (128 -> 40 inputs)');
    expect(limiter.limit).toBe(2);
  });

  it('keeps a lowered limit when one call fewer delivers as much, and says so', () => {
    const limiter = new InflightLimit(settings);
    const { time } = drive(limiter, (limit) => 1000 * Math.min(limit, 6), 2000);
    drive(limiter, () => 500, 100, { start: time, load: 8 });
    expect(limiter.reason).toMatch(/lowered to \d+ per replica: throughput [-+]\d+% with one call fewer/);
  });

  it('counts only calls sent after a restart', () => {
    const limiter = new InflightLimit(settings);
    limiter.restart(10_000);
    drive(limiter, () => 2400, 200);
    expect(limiter.throughput).toBe(0);
    drive(limiter, () => 2400, 100, { start: 10_000 + CALL_MS });
    expect(limiter.throughput).toBeGreaterThan(0);
    // A restart never moves the boundary back.
    limiter.restart(0);
    const before = limiter.throughput;
    limiter.record({ startedAt: 5_000, finishedAt: 1e6, items: 32, load: 128, busy: true });
    expect(limiter.throughput).toBe(before);
  });

  it('starts within its bounds and scales with the replicas', () => {
    expect(new InflightLimit({ replicas: 1, min: 2, max: 4, initial: 9 }).limit).toBe(4);
    expect(new InflightLimit({ replicas: 1, min: 2, max: 4, initial: 1 }).limit).toBe(2);
    const limiter = new InflightLimit(settings);
    limiter.setReplicas(3);
    expect(limiter.limit).toBe(6);
  });

  it('counts answers that come together (a merging upstream) as one burst, not as a burst rate', () => {
    const limiter = new InflightLimit({ ...settings, max: 2 });
    // Four calls of 32 answered within 0.3 ms, every 40 ms: 3200 inputs/s.
    for (let burst = 1; burst <= 40; burst++) {
      for (let k = 0; k < 4; k++) {
        const at = 40 * burst + 0.1 * k;
        limiter.record({ startedAt: at - 30, finishedAt: at, items: 32, load: 128, busy: true });
      }
    }
    expect(Math.abs(limiter.throughput / 3200 - 1)).toBeLessThan(0.03);
  });

  it('spans a window over at least four mean call durations (long calls, many in flight)', () => {
    const limiter = new InflightLimit({ ...settings, max: 2 });
    // Calls of 100 ms answered every 5 ms: a window needs 400 ms, 80 answers, not 16.
    const at = (i: number): number => 5 * (i + 1);
    for (let i = 0; i < 60; i++) limiter.record({ startedAt: at(i) - 100, finishedAt: at(i), items: 8, load: 160, busy: true });
    expect(limiter.throughput).toBe(0);
    for (let i = 60; i < 100; i++) limiter.record({ startedAt: at(i) - 100, finishedAt: at(i), items: 8, load: 160, busy: true });
    expect(limiter.throughput).toBeCloseTo(1600, -1);
  });

  it('keeps a clear gain through mild noise (answers ±5% apart)', () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    for (let i = 0; i < 1500; i++) {
      const gap = (1000 * CALL_ITEMS) / (1000 * Math.min(limiter.limit, 5));
      time += gap * (i % 2 === 0 ? 0.95 : 1.05);
      limiter.record({ startedAt: time - CALL_MS, finishedAt: time, items: CALL_ITEMS, load: 128, busy: true });
    }
    expect(limiter.limit).toBeGreaterThanOrEqual(4);
  });

  it('judges a probe whose load moved by less than a third (128 -> 90)', () => {
    const limiter = new InflightLimit(settings);
    let time = 0;
    while (!/probing/.test(limiter.reason)) time = drive(limiter, () => 2400, 1, { start: time }).time;
    for (let i = 0; i < 200 && /probing/.test(limiter.reason); i++) time = drive(limiter, () => 2400, 1, { start: time, load: 90 }).time;
    expect(limiter.reason).toMatch(/^kept 2 per replica: 3 gave/);
  });

  it('halves and widens on the shares of calls, not their counts (one call in 16 busy, or full)', () => {
    const halving = new InflightLimit(settings);
    let time = 0;
    for (let i = 0; i < 600; i++) {
      const items = halving.halved ? 16 : 32;
      time += (1000 * items) / (halving.halved ? 2600 : 2300);
      halving.record({ startedAt: time - CALL_MS, finishedAt: time, items, load: 32, busy: i % 16 === 0, full: true });
    }
    expect(halving.halved).toBe(true);
    const widening = new InflightLimit(settings);
    drive(widening, (limit) => 1000 * limit, 1000, { busy: false, full: false });
    const few = new InflightLimit(settings);
    time = 0;
    for (let i = 0; i < 1000; i++) {
      time += (1000 * CALL_ITEMS) / (1000 * few.limit);
      few.record({ startedAt: time - CALL_MS, finishedAt: time, items: CALL_ITEMS, load: 128, busy: false, full: i % 16 === 0 });
    }
    expect(few.workSlotsPerReplica).toBe(widening.workSlotsPerReplica);
  });
});
