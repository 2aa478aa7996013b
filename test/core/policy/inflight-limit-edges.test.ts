/**
 * The in-flight limiter's rules pinned at their edges, one scripted window at a time: where a
 * window opens and closes (bursts, its shortest span, calls sent before a change), exactly at each
 * threshold (a gain of 15% or 5%, a loss of 2%, a busy share of a quarter, a full share of a half,
 * a load moved by a third, a gain equal to twice the noise) and just beyond it, what each verdict
 * says and returns, the backoff of failed probes, and the work slots and halving undone at a new
 * level of load. inflight-limit.test.ts drives the limiter with modelled upstreams; these tests
 * choose every completion, with inputs per call that make each throughput and ratio exact in
 * floating point, so a threshold is met exactly, not about.
 */
import { describe, expect, it } from 'vitest';
import { InflightLimit, type InflightLimitSettings, type LimitChange } from '../../../src/core/policy/inflight-limit.js';

/** Between two counted completions of a window. */
const GAP_MS = 32;
/** Counted completions in a window. */
const CALLS = 16;

interface WindowShape {
  /** Inputs of each call, or of each call of the window's first and second half (default 40: 1250 inputs/s). */
  items?: number | readonly [number, number];
  /** Load of every call (default 128). */
  load?: number;
  /** How many of the 16 counted calls left inputs queued (default all). */
  busy?: number;
  /** How many of the 16 counted calls were full (default all). */
  full?: number;
  /** Duration of every call (default 20 ms). */
  durationMs?: number;
}

/**
 * Scripted windows: an opening completion, 16 counted ones GAP_MS apart and the one that closes
 * the window, so a window's throughput is 1000 × 16 × items / 512 (31.25 × items inputs/s). Each
 * window starts 200 ms after the last one's last counted completion, so its calls started after
 * any change the last window made.
 */
class Script {
  /** The last counted completion. */
  time = 0;
  constructor(readonly limiter: InflightLimit) {}

  window(shape: WindowShape = {}): LimitChange | undefined {
    const [first, second] = typeof shape.items === 'object' ? shape.items : [shape.items ?? 40, shape.items ?? 40];
    const busy = shape.busy ?? CALLS;
    const full = shape.full ?? CALLS;
    const duration = shape.durationMs ?? 20;
    const opening = this.time + 200;
    const record = (at: number, items: number, index: number): LimitChange | undefined =>
      this.limiter.record({
        startedAt: at - duration,
        finishedAt: at,
        items,
        load: shape.load ?? 128,
        busy: index < busy,
        full: index < full,
      });
    expect(record(opening, first, 0)).toBeUndefined();
    for (let i = 0; i < CALLS; i++) expect(record(opening + GAP_MS * (i + 1), i < CALLS / 2 ? first : second, i)).toBeUndefined();
    this.time = opening + GAP_MS * CALLS;
    return record(this.time + GAP_MS, first, 0);
  }

  /** Several windows of one shape; the limit after each. */
  windows(count: number, shape: WindowShape = {}): number[] {
    const limits: number[] = [];
    for (let i = 0; i < count; i++) {
      this.window(shape);
      limits.push(this.limiter.limit);
    }
    return limits;
  }

  /** Several windows of one shape; whether batches were halved after each. */
  halvedAfter(count: number, shape: WindowShape = {}): boolean[] {
    return Array.from({ length: count }, () => {
      this.window(shape);
      return this.limiter.halved;
    });
  }

  /** A call that started `offsetMs` after the last counted completion and finished 100 ms after it. */
  straggler(offsetMs: number): void {
    this.limiter.record({ startedAt: this.time + offsetMs, finishedAt: this.time + 100, items: 40, load: 128, busy: true, full: true });
  }
}

function script(settings: Partial<InflightLimitSettings> = {}): Script {
  return new Script(new InflightLimit({ replicas: 1, min: 2, max: 16, initial: 2, ...settings }));
}

/** Why a fresh limiter holds its limit after a baseline window and a probe up of this shape. */
function reasonAfterProbe(probe: WindowShape): string {
  const s = script();
  s.window();
  s.window(probe);
  return s.limiter.reason;
}

/** A fresh limiter after one window of this shape: a probe up moved the limit, a halving probe halved. */
function afterFirst(shape: WindowShape, settings: Partial<InflightLimitSettings> = {}): { limit: number; halved: boolean } {
  const s = script(settings);
  s.window(shape);
  return { limit: s.limiter.limit, halved: s.limiter.halved };
}

describe('in-flight limit: its account before anything was tried', () => {
  it('says why the batch size is whole and why there is one work slot', () => {
    const limiter = new InflightLimit({ replicas: 1, min: 2, max: 16, initial: 2 });
    expect(limiter.halvingReason).toBe('whole batches (halving not tried)');
    expect(limiter.workSlotsReason).toBe('one work slot per replica (more not tried)');
  });
});

describe('in-flight limit: where a window opens and closes', () => {
  /** Completions of 32 inputs from calls of 1 ms; returns the throughput after each. */
  const feed = (limiter: InflightLimit, finishes: readonly number[], items = 32): number[] =>
    finishes.map((at) => {
      limiter.record({ startedAt: at - 1, finishedAt: at, items, load: 128, busy: true });
      return limiter.throughput;
    });
  const from = (first: number, step: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + step * i);

  it('counts a call that started exactly when the limit last changed (restart)', () => {
    const limiter = new InflightLimit({ replicas: 1, min: 2, max: 2, initial: 2 });
    limiter.restart(1000);
    // The opening completion's call started at 1000; ignored, the window would lack one call.
    for (const at of from(1020, GAP_MS, CALLS + 2))
      limiter.record({ startedAt: at === 1020 ? 1000 : at - 20, finishedAt: at, items: 40, load: 128, busy: true });
    expect(limiter.throughput).toBe(1250);
  });

  it('drops completions within 0.5 ms of the opening one (same burst), and counts one just later', () => {
    const limiter = new InflightLimit({ replicas: 1, min: 2, max: 2, initial: 2 });
    // Opening at 0, one at exactly 0.5 (the opening burst), 16 counted at 10..160, closed at 170.
    feed(limiter, [0, 0.5, ...from(10, 10, CALLS), 170]);
    expect(limiter.throughput).toBe((1000 * CALLS * 32) / 160);
  });

  it('counts a completion within 0.5 ms of the last counted one into the window, rather than closing it', () => {
    const limiter = new InflightLimit({ replicas: 1, min: 2, max: 2, initial: 2 });
    const before = feed(limiter, [0, ...from(10, 10, CALLS), 160.5]);
    expect(before.at(-1)).toBe(0);
    feed(limiter, [170]);
    expect(limiter.throughput).toBeCloseTo((1000 * (CALLS + 1) * 32) / 160.5, 9);
  });

  it('closes a window only once it spans 40 ms, counting calls until then, and not the one that closes it', () => {
    const limiter = new InflightLimit({ replicas: 1, min: 2, max: 2, initial: 2 });
    // Opening at 1000, a completion every 2 ms: 16 calls span 32 ms, 20 span exactly 40.
    expect(feed(limiter, [1000, ...from(1002, 2, 20)]).every((throughput) => throughput === 0)).toBe(true);
    feed(limiter, [1042], 100);
    expect(limiter.throughput).toBe((1000 * 20 * 32) / 40);
  });

  describe('does not count a call started less than one mean call duration after the limit changed', () => {
    // The straggler started 10 ms after the last counted completion (calls take 20 ms): counted,
    // it would open the next window 100 ms early and the window's throughput would not be 1250.
    const nextWindowIgnoresStraggler = (s: Script): void => {
      s.straggler(10);
      s.window();
      expect(s.limiter.throughput).toBe(1250);
    };

    it('after a probe starts, and after it is undone', () => {
      const s = script();
      s.window();
      expect(s.limiter.limit).toBe(3);
      nextWindowIgnoresStraggler(s);
      expect(s.limiter.limit).toBe(2);
      expect(s.limiter.reason).toBe('kept 2 per replica: 3 gave +0% throughput (calls only queued upstream)');
      nextWindowIgnoresStraggler(s);
    });

    it('after halving starts, and after it is undone', () => {
      const s = script({ max: 2 });
      s.window({ busy: 0 });
      expect(s.limiter.halved).toBe(true);
      nextWindowIgnoresStraggler(s);
      expect(s.limiter.halved).toBe(false);
      nextWindowIgnoresStraggler(s);
    });
  });
});

describe('in-flight limit: probes of the limit, at their thresholds', () => {
  it('keeps a step up that gains exactly 15%, says so, returns the change over all replicas, and probes on at once while a quarter of the calls were busy', () => {
    const s = script({ replicas: 2 });
    expect(s.window()).toBeUndefined();
    expect(s.limiter.limit).toBe(6);
    const why = 'raised to 3 per replica: throughput +15% (1250 -> 1438 inputs/s)';
    expect(s.window({ items: 46, busy: 4 })).toEqual({ from: 4, to: 6, why });
    expect(s.limiter.limit).toBe(8);
    expect(s.limiter.reason).toBe(`${why}; probing 4 per replica against 3`);
    // Fewer busy calls in the window that paid: the limit stays where it was raised to.
    const calm = script({ replicas: 2 });
    calm.window();
    expect(calm.window({ items: 46, busy: 3 })).toEqual({ from: 4, to: 6, why });
    expect(calm.limiter.limit).toBe(6);
    expect(calm.limiter.reason).toBe(why);
  });

  it('keeps a gain of exactly twice the noise of the windows, and not one just inside it', () => {
    // The probe window's halves deliver 56.25 and 43.75 inputs per call: noise |f - s| / (f + s) = 0.125.
    const s = script();
    s.window();
    s.window({ items: [56.25, 43.75], busy: 0 });
    expect(s.limiter.reason).toMatch(/^raised to 3 per replica: throughput \+25%/);
    // 57 and 43: noise 0.14, so +25% would need to be +28%: no verdict, probed again from the
    // next window, twice per level of load; the third such probe is a verdict.
    const noisy = script();
    noisy.window();
    noisy.window({ items: [57, 43] });
    expect(noisy.limiter.limit).toBe(2);
    expect(noisy.limiter.reason).toBe('kept 2 per replica: 3 gave +25% throughput within the noise (probed again from a fresh window)');
    const limits: number[] = [];
    for (let i = 0; i < 4; i++) {
      noisy.window();
      limits.push(noisy.limiter.limit);
      noisy.window({ items: [57, 43] });
      limits.push(noisy.limiter.limit);
    }
    // The second retry, then verdicts: backoffs of one window (waited out by the baseline
    // window itself), then two.
    expect(limits).toEqual([3, 2, 3, 2, 3, 2, 2, 3]);
    expect(noisy.limiter.reason).toBe('kept 2 per replica: 3 gave +25% throughput (calls only queued upstream); probing 3 per replica against 2');
    // Exactly 15%, the step's threshold, within the noise (0.13): probed again too.
    expect(reasonAfterProbe({ items: [52, 40] })).toBe(
      'kept 2 per replica: 3 gave +15% throughput within the noise (probed again from a fresh window)',
    );
  });

  it('keeps a step down that loses exactly 2%, returns the change over all replicas, and probes lower at once', () => {
    const s = script({ replicas: 2, initial: 4 });
    // Nothing busy: no upward probe competes.
    expect(s.window({ items: 50, busy: 0 })).toBeUndefined();
    expect(s.limiter.limit).toBe(6);
    const why = 'lowered to 3 per replica: throughput -2% with one call fewer in flight';
    expect(s.window({ items: 49, busy: 0 })).toEqual({ from: 8, to: 6, why });
    expect(s.limiter.limit).toBe(4);
    expect(s.limiter.reason).toBe(`${why}; probing 2 per replica against 3`);
  });

  it('undoes a step down that loses 3%, and backs off from probing down exponentially (1, 2, 4 windows)', () => {
    const s = script({ initial: 3, max: 3 });
    const limits: number[] = [];
    for (let i = 0; i < 11; i++) {
      s.window({ items: s.limiter.limit === 3 ? 50 : 48.5 });
      limits.push(s.limiter.limit);
      if (i === 1) expect(s.limiter.reason).toBe('kept 3 per replica: 2 lost -3% of throughput');
    }
    expect(limits).toEqual([2, 3, 2, 3, 3, 2, 3, 3, 3, 3, 2]);
  });

  it('judges a probe whose load moved by exactly a third, and throws away one whose load moved more', () => {
    const s = script();
    s.window({ load: 96 });
    s.window({ load: 64 });
    expect(s.limiter.reason).toBe('kept 2 per replica: 3 gave +0% throughput (calls only queued upstream)');
    const moved = script();
    moved.window({ load: 96 });
    moved.window({ load: 63 });
    expect(moved.limiter.reason).toBe('probe to 3 inconclusive: load moved from 96 to 63 inputs');
  });

  it('is initial until the first verdict, and never again after later ones (a probe, then a halving)', () => {
    const s = script({ max: 3 });
    s.window();
    expect(s.limiter.initial).toBe(true);
    s.window();
    expect(s.limiter.initial).toBe(false);
    s.window({ busy: 0, load: 40 });
    expect(s.limiter.halved).toBe(true);
    s.window({ busy: 0, load: 40 });
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.initial).toBe(false);
  });
});

describe('in-flight limit: shares of busy and full calls, at their thresholds', () => {
  it('probes up from a window where exactly a quarter of the calls left inputs queued, and halves below that', () => {
    expect(afterFirst({ busy: 4 })).toEqual({ limit: 3, halved: false });
    // One call's worth of inputs in the system: the slots were not all filled either.
    expect(afterFirst({ busy: 3, load: 40 })).toEqual({ limit: 2, halved: true });
  });

  it('neither halves nor widens while upward probes of full calls back off at a busy share of a quarter', () => {
    const s = script();
    // Up, undone, up, undone; then a baseline window that waits out the backoff.
    expect(s.windows(5, { busy: 4, full: 16 })).toEqual([3, 2, 3, 2, 2]);
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.workSlotsPerReplica).toBe(1);
  });

  it('widens when fewer than half the calls were full, not at exactly half', () => {
    const s = script({ max: 3 });
    // A halving probe first (nothing busy, one call's worth of inputs), which gains nothing.
    s.windows(2, { busy: 0, load: 40 });
    expect(s.limiter.halvingReason).toBe('kept whole batches: halving gave +0% throughput');
    s.window({ busy: 0, full: 8, load: 40 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    s.window({ busy: 0, full: 7, load: 40 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    expect(s.limiter.limit).toBe(3);
  });

  it('does not widen at the highest limit', () => {
    const s = script({ max: 2 });
    expect(s.windows(6, { busy: 0, full: 0 })).toEqual([2, 2, 2, 2, 2, 2]);
    expect(s.limiter.workSlotsPerReplica).toBe(1);
  });
});

describe('in-flight limit: halving, retried and undone', () => {
  it('retries a halving whose gain of exactly 5% the noise hid, twice per level of load', () => {
    const s = script({ max: 2 });
    let probes = 0;
    for (let i = 0; i < 10; i++) {
      const halved = s.limiter.halved;
      if (halved) probes++;
      // Halved: +5% exactly, through halves of noise 0.125.
      s.window({ busy: 0, items: halved ? [47.25, 36.75] : 40 });
    }
    expect(probes).toBe(3);
    expect(s.limiter.halvingReason).toBe('kept whole batches: halving gave +5% throughput');
  });

  const halvedThenNewLevel = (): Script => {
    const s = script({ max: 2 });
    s.window({ busy: 0 });
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halvingReason).toBe('halved the batch size: throughput +25% with two calls side by side');
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(true);
    // The verdict's echo, then whole batches probed once more from its settled second window:
    // they lose a fifth, and the halving stays.
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.halvingDecided).toBe(true);
    s.window({ busy: 0, items: 40 });
    expect(s.limiter.halved).toBe(true);
    expect(s.limiter.halvingReason).toBe('kept half batches: whole ones gave -20% throughput');
    // The load falls from 128 to 32. The first two windows at 32 are still that verdict's echo;
    // the next is a new level: whole batches again, decided, not probed.
    s.window({ busy: 0, items: 50, load: 32 });
    s.window({ busy: 0, items: 50, load: 32 });
    expect(s.limiter.halved).toBe(true);
    s.window({ busy: 0, items: 50, load: 32 });
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.halvingDecided).toBe(false);
    expect(s.limiter.halvingReason).toBe('whole batches again at a new level of load (halving is probed afresh)');
    // Nothing else is probed from that window (it measured half batches): the limit stays.
    expect(s.limiter.limit).toBe(2);
    return s;
  };

  it('goes back to whole batches at a new level of load, and keeps half ones only when a fresh probe gains 5%', () => {
    const s = halvedThenNewLevel();
    // A call sent before whole batches were in force (10 ms after the last counted completion,
    // within one mean call duration) is not counted: the next window measures 16 calls of 40.
    s.straggler(10);
    // A window of whole batches, then the probe of half ones.
    s.window({ busy: 0, items: 40, load: 32 });
    expect(s.limiter.throughput).toBe(1250);
    expect(s.limiter.halved).toBe(true);
    expect(s.limiter.halvingDecided).toBe(false);
    s.window({ busy: 0, items: 42, load: 32 });
    expect(s.limiter.halved).toBe(true);
    expect(s.limiter.halvingReason).toBe('halved the batch size: throughput +5% with two calls side by side');
  });

  it('stays at whole batches at a new level of load when half ones, probed afresh, gain 4%', () => {
    const s = halvedThenNewLevel();
    s.window({ busy: 0, items: 40, load: 32 });
    s.window({ busy: 0, items: 41.6, load: 32 });
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.halvingReason).toBe('kept whole batches: halving gave +4% throughput');
  });
});

describe('in-flight limit: a kept halving checked once more', () => {
  /** Half batches kept at +25%, then one window of the verdict's echo. */
  const halved = (): Script => {
    const s = script({ max: 2 });
    s.window({ busy: 0 });
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halvingReason).toBe('halved the batch size: throughput +25% with two calls side by side');
    s.window({ busy: 0, items: 50 });
    return s;
  };

  it('gives the halving back when whole batches, checked from a settled window, lose nothing', () => {
    const s = halved();
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(false);
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.halvingReason).toBe('whole batches again: throughput +0%');
    expect(s.halvedAfter(4, { busy: 0, items: 50 })).toEqual([false, false, false, false]);
  });

  it('makes a check again that a restart abandoned, and only once it has a verdict stops', () => {
    const s = halved();
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(false);
    s.limiter.restart(s.time);
    expect(s.limiter.halved).toBe(true);
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(false);
    s.window({ busy: 0, items: 40 });
    expect(s.limiter.halvingReason).toBe('kept half batches: whole ones gave -20% throughput');
    expect(s.halvedAfter(4, { busy: 0, items: 50 })).toEqual([true, true, true, true]);
  });

  it('is not made after a new level of load, where whole batches come back anyway', () => {
    const s = halved();
    // The check starts, and a restart abandons it: half batches, the check still due.
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(false);
    s.limiter.restart(s.time);
    expect(s.limiter.halved).toBe(true);
    // The load moves: a new level, whole batches again. Its calls leave inputs queued, so
    // halving is not probed afresh, and the limit is at its highest: nothing is probed at all.
    s.window({ busy: 16, items: 50, load: 40 });
    expect(s.limiter.halved).toBe(false);
    const why = 'whole batches again at a new level of load (halving is probed afresh)';
    expect(s.limiter.halvingReason).toBe(why);
    for (let i = 0; i < 6; i++) {
      s.window({ busy: 16, items: 50, load: 40 });
      expect(s.limiter.halved).toBe(false);
      expect(s.limiter.halvingReason).toBe(why);
    }
  });
});

describe('in-flight limit: a shape probe’s echo is not a new level of load', () => {
  /** A halving probe that lost 25% while a backlog built (load 40 -> 120), undone. */
  const lostHalving = (): Script => {
    const s = script({ max: 2 });
    s.window({ busy: 0, load: 40 });
    s.window({ busy: 0, items: 30, load: 120 });
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.halvingReason).toBe('kept whole batches: halving gave -25% throughput');
    return s;
  };

  it('does not probe halving again while the backlog it left drains back to the load before it', () => {
    const s = lostHalving();
    for (let i = 0; i < 6; i++) {
      s.window({ busy: 0, load: 40 });
      expect(s.limiter.halved).toBe(false);
    }
    expect(s.limiter.halvingReason).toBe('kept whole batches: halving gave -25% throughput');
  });

  it('does not take a widening probe’s window for a new level either', () => {
    const s = script({ max: 3 });
    // Halving probed and lost; a raise probed and lost (its windows outlast the halving's echo);
    // then one more work slot probed (limit 3).
    s.windows(2, { busy: 0, full: 0 });
    expect(s.limiter.halvingReason).toMatch(/^kept whole batches/);
    s.windows(2, { full: 0 });
    expect(s.limiter.limit).toBe(2);
    s.window({ busy: 0, full: 0 });
    expect(s.limiter.limit).toBe(3);
    // The probe's window: the load falls from 128 to 40 while it runs, throughput flat: undone.
    s.window({ busy: 0, full: 0, load: 40 });
    expect(s.limiter.limit).toBe(2);
    // Read as a new level, that window would have let halving be probed again at once.
    s.window({ busy: 0, full: 0, load: 40 });
    expect(s.limiter.halved).toBe(false);
  });

  it('still finds a new level of load after the echo: compared with the load before the probe', () => {
    const s = lostHalving();
    s.windows(2, { busy: 0, load: 40 });
    // 40 -> 12: more than half of the load before the probe gone, so halving is tried again.
    s.window({ busy: 0, load: 12 });
    expect(s.limiter.halved).toBe(true);
  });
});

describe('in-flight limit: work slots, widened and narrowed', () => {
  /** Halving tried and lost, then a second work slot that paid 50%, at the highest limit 3. */
  const widened = (): Script => {
    const s = script({ max: 3 });
    s.windows(2, { busy: 0, full: 0 });
    expect(s.limiter.initial).toBe(false);
    s.window({ busy: 0, full: 0 });
    expect(s.limiter.limit).toBe(3);
    s.window({ busy: 0, full: 0, items: 60 });
    expect(s.limiter.initial).toBe(false);
    return s;
  };

  it('keeps a work slot that paid, says so, checks it once from a settled window, and then stays there: no third at the highest limit, no probe down into the staging slot', () => {
    const s = widened();
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: throughput +50% with one more');
    expect(s.limiter.limit).toBe(3);
    // A verdict is not a probe: a restart keeps it.
    s.limiter.restart(s.time);
    expect(s.limiter.limit).toBe(3);
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    // The verdict's echo (two windows), then one work slot fewer, probed from the settled second.
    expect(s.windows(2, { busy: 0, full: 0, items: 60 })).toEqual([3, 2]);
    s.window({ busy: 0, full: 0, items: 40 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: one fewer gave -33% throughput');
    expect(s.windows(4, { busy: 0, full: 0, items: 60 })).toEqual([3, 3, 3, 3]);
  });

  it('gives a kept work slot back when, checked from a settled window, one fewer loses nothing (the groups it split)', () => {
    const s = widened();
    expect(s.windows(2, { busy: 0, full: 0, items: 60 })).toEqual([3, 2]);
    s.window({ busy: 0, full: 0, items: 60 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.limit).toBe(2);
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: throughput +0% with one fewer');
    // Checked once per level of load: no probe either way after it.
    expect(s.windows(4, { busy: 0, full: 0, items: 60 })).toEqual([2, 2, 2, 2]);
  });

  /** At a new level of load (128 -> 32): halving tried again and lost, then one work slot fewer probed. */
  const narrowing = (): Script => {
    const s = widened();
    // The widening checked from a settled window (one fewer loses a third: it stays).
    s.windows(2, { busy: 0, full: 0, items: 60 });
    s.window({ busy: 0, full: 0, items: 40 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    // Two windows of that verdict's echo, then the new level: halving tried and lost, narrowing probed.
    s.windows(5, { busy: 0, full: 0, items: 50, load: 32 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.limit).toBe(2);
    return s;
  };

  it('narrows back to one work slot at a new level of load when that loses exactly 2%', () => {
    const s = narrowing();
    s.window({ busy: 0, full: 0, items: 49, load: 32 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.limit).toBe(2);
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: throughput -2% with one fewer');
  });

  it('keeps two work slots at a new level of load when one fewer loses 3%', () => {
    const s = narrowing();
    s.window({ busy: 0, full: 0, items: 48.5, load: 32 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    expect(s.limiter.limit).toBe(3);
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: one fewer gave -3% throughput');
    // That was this level's check: no other follows.
    expect(s.windows(4, { busy: 0, full: 0, items: 50, load: 32 })).toEqual([3, 3, 3, 3]);
  });
});

describe('in-flight limit: a work slot after a staging slot that did not pay, while calls were partial and inputs queued', () => {
  /** A probe up (a staging slot) from a window of busy calls, `full` of them full; `gain`: its window's inputs per call. */
  const stagingProbed = (full: number, gain: number): Script => {
    const s = script();
    s.window({ busy: 16, full });
    expect(s.limiter.limit).toBe(3);
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    s.window({ busy: 16, full, items: gain });
    expect(s.limiter.limit).toBe(2);
    return s;
  };

  it('probes a work slot next when the staging slot gained nothing and fewer than half the calls were full', () => {
    const s = stagingProbed(7, 40);
    expect(s.limiter.reason).toBe('kept 2 per replica: 3 gave +0% throughput (calls only queued upstream)');
    s.window({ busy: 16, full: 7 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    expect(s.limiter.limit).toBe(3);
    // It paid 10%: kept, and the next tried against this window (the highest 16 is far off).
    s.window({ busy: 16, full: 7, items: 44 });
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: throughput +10% with one more');
    expect(s.limiter.workSlotsPerReplica).toBe(3);
    expect(s.limiter.limit).toBe(4);
  });

  it('undoes the work slot when it gains nothing either, and does not probe it again at this level', () => {
    const s = stagingProbed(0, 40);
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.limit).toBe(3);
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.limit).toBe(2);
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: one more gave +0% throughput');
    // The limit's own account says so too, though the work slot is gone.
    expect(s.limiter.reason).toMatch(/; 1 work slot per replica: one more gave \+0% throughput$/);
    // Then the staging probes go on with their backoff, and never a work slot.
    expect(s.windows(6, { busy: 16, full: 0 })).toEqual([3, 2, 2, 3, 2, 2]);
    expect(s.limiter.workSlotsPerReplica).toBe(1);
  });

  it('probes no work slot when half the calls were full', () => {
    const s = stagingProbed(8, 40);
    s.window({ busy: 16, full: 8 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.limit).toBe(3);
  });

  it('probes no work slot when the staging slot gained 5%, if not enough to be kept', () => {
    const s = stagingProbed(0, 42);
    expect(s.limiter.reason).toBe('kept 2 per replica: 3 gave +5% throughput (calls only queued upstream)');
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    // The next staging probe instead, its backoff of one window waited out.
    expect(s.limiter.limit).toBe(3);
  });

  it('forgets a work slot due when the load moves to a new level before it is probed', () => {
    const s = stagingProbed(0, 40);
    s.window({ busy: 16, full: 0, load: 32 });
    // A new level: backoffs reset, so a staging slot is probed first again.
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.limit).toBe(3);
  });
});

describe('in-flight limit: a work slot whose gain the noise hid', () => {
  it('is retried at a gain of exactly 5% hidden by the noise', () => {
    const s = script();
    s.window({ busy: 16, full: 0 });
    s.window({ busy: 16, full: 0 });
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    // 38 then 46 inputs per call: +5% on the mean, halves 21% apart.
    s.window({ busy: 16, full: 0, items: [38, 46] });
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: one more gave +5% throughput');
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
  });

  it('is not due beyond the most work slots', () => {
    const s = script();
    // Halving tried and lost, then three work slots more, each paying 50%.
    s.windows(2, { busy: 0, full: 0 });
    s.window({ busy: 0, full: 0 });
    s.window({ busy: 0, full: 0, items: 60 });
    s.window({ busy: 0, full: 0, items: 90 });
    s.window({ busy: 0, full: 0, items: 135 });
    expect(s.limiter.workSlotsPerReplica).toBe(4);
    expect(s.limiter.limit).toBe(5);
    // The echo of the last verdict, the check from a settled window (one fewer loses a third), its
    // echo, then a new level where a staging slot gains nothing.
    s.windows(2, { busy: 0, full: 0, items: 135 });
    s.window({ busy: 0, full: 0, items: 90 });
    expect(s.limiter.workSlotsPerReplica).toBe(4);
    s.windows(2, { busy: 0, full: 0, items: 135 });
    s.window({ busy: 16, full: 0, items: 135, load: 32 });
    expect(s.limiter.limit).toBe(6);
    s.window({ busy: 16, full: 0, items: 135, load: 32 });
    expect(s.limiter.limit).toBe(5);
    // Due, but there is no fifth work slot: the staging slot is probed again instead.
    s.window({ busy: 16, full: 0, items: 135, load: 32 });
    expect(s.limiter.workSlotsPerReplica).toBe(4);
    expect(s.limiter.limit).toBe(6);
  });

  it('is probed again from the next baseline window, twice at most per level of load', () => {
    const s = script();
    s.window({ busy: 16, full: 0 });
    s.window({ busy: 16, full: 0 });
    // Three tries of a work slot that gains 5% in a window whose halves are 21% apart (noise
    // 0.105): the first two are retried, the third is a verdict (the mean of three, +5%, against
    // twice their noise, 2 × 0.105 × √3 / 3 = 0.12).
    for (let attempt = 0; attempt < 3; attempt++) {
      s.window({ busy: 16, full: 0 });
      expect(s.limiter.workSlotsPerReplica).toBe(2);
      s.window({ busy: 16, full: 0, items: [38, 46] });
      expect(s.limiter.workSlotsPerReplica).toBe(1);
      expect(s.limiter.limit).toBe(2);
      expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: one more gave +5% throughput');
    }
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
  });
});

describe('in-flight limit: new length bands (bandsChanged)', () => {
  /** Work slots per replica over `count` windows of partial calls with inputs left queued. */
  const workSlotsOver = (s: Script, count: number): number[] =>
    Array.from({ length: count }, () => {
      s.window({ busy: 16, full: 0 });
      return s.limiter.workSlotsPerReplica;
    });

  it('judges the work slots afresh: a level whose one try lost probes one again once the bands change', () => {
    const s = script();
    // A staging slot, then a work slot, each gaining nothing: the work slots are settled at this level.
    expect(workSlotsOver(s, 4)).toEqual([1, 1, 2, 1]);
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: one more gave +0% throughput');
    expect(Math.max(...workSlotsOver(s, 8))).toBe(1);
    s.limiter.bandsChanged(s.time);
    // As at a fresh level: a staging slot first, then a work slot, whose try is judged on its own (+25%, no noise: kept).
    expect(workSlotsOver(s, 3)).toEqual([1, 1, 2]);
    s.window({ busy: 16, full: 0, items: 50 });
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: throughput +25% with one more');
  });

  it('leaves the work slots alone when one more is in place: neither a check of it nor another one more', () => {
    const s = script();
    workSlotsOver(s, 3);
    // Kept on one try (+25%), a third tried and lost, then the check of the second: one fewer loses 20%, the slot stays.
    s.window({ busy: 16, full: 0, items: 50 });
    s.windows(4, { busy: 16, full: 0, items: 50 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    s.window({ busy: 16, full: 0, items: 40 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    s.limiter.bandsChanged(s.time);
    const slots = Array.from({ length: 12 }, () => {
      s.window({ busy: 16, full: 0, items: 50 });
      return s.limiter.workSlotsPerReplica;
    });
    expect([Math.min(...slots), Math.max(...slots)]).toEqual([2, 2]);
  });

  it('abandons a probe under way, as a restart does', () => {
    const s = script();
    workSlotsOver(s, 3);
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    s.limiter.bandsChanged(s.time);
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.limit).toBe(2);
  });
});

describe('in-flight limit: the tries of a work slot pooled (widenTrials)', () => {
  /** Two baseline windows, then the first try's baseline: the work slot is being probed. */
  const probing = (): Script => {
    const s = script();
    s.window({ busy: 16, full: 0 });
    s.window({ busy: 16, full: 0 });
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    return s;
  };

  /** Two tries that gain 25% in windows whose halves are 40% apart (noise 0.2), each followed by the next try's baseline. */
  const twoTries = (s: Script, load?: number): void => {
    for (let attempt = 0; attempt < 2; attempt++) {
      s.window({ busy: 16, full: 0, items: [40, 60], load });
      s.window({ busy: 16, full: 0, load });
    }
  };

  it('keeps a work slot on the mean of its tries: +25% three times, each within its noise of 0.2, is kept at the third', () => {
    const s = probing();
    // One try: 1.25 against 1 + 2 × 0.2. Two: against 1 + 2 × 0.2 × √2 / 2 = 1.28.
    for (let attempt = 0; attempt < 2; attempt++) {
      s.window({ busy: 16, full: 0, items: [40, 60] });
      expect(s.limiter.workSlotsPerReplica).toBe(1);
      s.window({ busy: 16, full: 0 });
      expect(s.limiter.workSlotsPerReplica).toBe(2);
    }
    // Three: against 1 + 2 × 0.2 × √3 / 3 = 1.23. Kept, and the next work slot probed against it at once.
    s.window({ busy: 16, full: 0, items: [40, 60] });
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: throughput +25% with one more');
    expect(s.limiter.workSlotsPerReplica).toBe(3);
  });

  it('judges the mean, not the last try: +25%, +25%, then no gain is not kept, and not tried again', () => {
    const s = probing();
    twoTries(s);
    s.window({ busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: one more gave +0% throughput');
    s.windows(3, { busy: 16, full: 0 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
  });

  it('starts the tries afresh at a new level of load', () => {
    const s = probing();
    // +25%, +25%, then +0%: the mean, +17%, is no gain clear of 1 + 2 × 0.2 × √3 / 3; a verdict.
    twoTries(s);
    s.window({ busy: 16, full: 0 });
    // Its echo, then more than one and a half times the load: a new level, where a staging slot
    // is probed (and gains nothing), then the work slot again.
    s.windows(2, { busy: 16, full: 0 });
    s.windows(2, { busy: 16, full: 0, load: 300 });
    s.window({ busy: 16, full: 0, load: 300 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    // Two tries of +25%: pooled with each other only (1.25 against 1.28), not kept; pooled with the
    // three before, they would be (a mean of 1.2 against 1.18).
    s.window({ busy: 16, full: 0, load: 300, items: [40, 60] });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    s.window({ busy: 16, full: 0, load: 300 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    s.window({ busy: 16, full: 0, load: 300, items: [40, 60] });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: one more gave +25% throughput');
    // The third: three tries of this level, 1.25 against 1.23, kept.
    s.window({ busy: 16, full: 0, load: 300 });
    s.window({ busy: 16, full: 0, load: 300, items: [40, 60] });
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: throughput +25% with one more');
  });

  it('keeps a work slot on exactly 5% with no noise, at its first try', () => {
    const s = probing();
    s.window({ busy: 16, full: 0, items: 42 });
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: throughput +5% with one more');
  });

  it('undoes a slot kept on one try on "no loss" when it is checked, as before', () => {
    const s = probing();
    s.window({ busy: 16, full: 0, items: 50 });
    expect(s.limiter.workSlotsReason).toBe('2 work slots per replica: throughput +25% with one more');
    s.window({ busy: 16, full: 0, items: 50 });
    s.windows(3, { busy: 16, full: 0, items: 50 });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    // One fewer, +5% within the noise: no loss, so one work slot again.
    s.window({ busy: 16, full: 0, items: [50, 55] });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
    expect(s.limiter.workSlotsReason).toBe('1 work slot per replica: throughput +5% with one fewer');
  });

  it('undoes a slot kept on pooled tries only on a gain clear of the noise when it is checked', () => {
    const kept = (): Script => {
      const s = probing();
      twoTries(s);
      s.window({ busy: 16, full: 0, items: [40, 60] });
      // A third work slot tried against it gains nothing; a staging slot neither; then the
      // second work slot's recheck from a settled window: one fewer is being probed.
      s.window({ busy: 16, full: 0, items: 50 });
      expect(s.limiter.workSlotsPerReplica).toBe(2);
      s.windows(3, { busy: 16, full: 0, items: 50 });
      expect(s.limiter.workSlotsPerReplica).toBe(1);
      return s;
    };
    // One fewer, +5% within the noise (halves 21% apart): the slot stays.
    const noisy = kept();
    noisy.window({ busy: 16, full: 0, items: [50, 55] });
    expect(noisy.limiter.workSlotsPerReplica).toBe(2);
    expect(noisy.limiter.workSlotsReason).toBe('2 work slots per replica: one fewer gave +5% throughput');
    // One fewer, +20% with halves alike: undone.
    const clear = kept();
    clear.window({ busy: 16, full: 0, items: 60 });
    expect(clear.limiter.workSlotsPerReplica).toBe(1);
    expect(clear.limiter.workSlotsReason).toBe('1 work slot per replica: throughput +20% with one fewer');
  });
});

describe('in-flight limit: a pause in the traffic', () => {
  /** Up, undone, up, undone: the next probe up waits two windows. */
  const backedOff = (): Script => {
    const s = script();
    expect(s.windows(4, { busy: 16, full: 16 })).toEqual([3, 2, 3, 2]);
    return s;
  };

  /** Calls recorded one after another, `gapMs` apart, 40 inputs each, busy and full. */
  const calls = (s: Script, count: number, gapMs = 32): void => {
    for (let i = 0; i < count; i++) {
      s.time += gapMs;
      s.limiter.record({ startedAt: s.time - 20, finishedAt: s.time, items: 40, load: 128, busy: true, full: true });
    }
  };

  it('drops an unfinished window and the probe under way, and starts afresh after it', () => {
    const s = script();
    s.window();
    expect(s.limiter.limit).toBe(3);
    s.time += 200;
    calls(s, 9);
    // A second of nothing, then the same load again: had the window spanned the pause, its
    // throughput (a tenth of the baseline's) would have undone the probe as a loss.
    s.time += 1000;
    calls(s, 18);
    expect(s.limiter.reason).toBe('start: one running call and one staged full batch per replica; probing 3 per replica against 2');
    expect(s.limiter.limit).toBe(3);
  });

  it('closes a window that was complete before the pause on its own completions', () => {
    const s = script();
    s.window();
    expect(s.limiter.limit).toBe(3);
    s.time += 200;
    // A full window at the probe's limit with 25% more throughput, its closing call after a pause.
    for (let i = 0; i < 17; i++) {
      s.time += 32;
      s.limiter.record({ startedAt: s.time - 20, finishedAt: s.time, items: 50, load: 128, busy: true, full: true });
    }
    s.time += 1000;
    const change = s.limiter.record({ startedAt: s.time - 20, finishedAt: s.time, items: 50, load: 128, busy: true, full: true });
    expect(change).toEqual({ from: 2, to: 3, why: 'raised to 3 per replica: throughput +25% (1250 -> 1563 inputs/s)' });
    // The next step up, started against that window, goes on: the load after the pause is the same.
    expect(s.limiter.limit).toBe(4);
    expect(s.limiter.reason).toBe('raised to 3 per replica: throughput +25% (1250 -> 1563 inputs/s); probing 4 per replica against 3');
  });

  it('counts calls that started before the first one recorded (no pause before the first)', () => {
    const limiter = new InflightLimit({ replicas: 1, min: 2, max: 16, initial: 2 });
    limiter.record({ startedAt: 5, finishedAt: 10, items: 40, load: 128, busy: true, full: true });
    // The first of sixteen counted calls was in flight before the first recorded one started.
    for (let i = 1; i <= 17; i++) {
      const finishedAt = 10 + 32 * i;
      limiter.record({ startedAt: i === 1 ? 0 : finishedAt - 20, finishedAt, items: 40, load: 128, busy: true, full: true });
    }
    expect(limiter.throughput).toBe(1250);
  });

  /**
   * A probe's window cut after 9 calls by a gap (from the last finish to the next call's start),
   * then 17 calls more; the throughput of the window they close. Traffic going on: the window
   * spans the gap (853 inputs/s, a stall its halves show, so measured again). A pause: the window
   * is dropped with the probe, and the calls after it make a fresh one (1250).
   */
  const acrossGap = (gapMs: number, alone?: boolean): number => {
    const s = script();
    s.window();
    expect(s.limiter.limit).toBe(3);
    s.time += 200;
    calls(s, 9);
    s.time += gapMs + 20;
    s.limiter.record({
      startedAt: s.time - 20,
      finishedAt: s.time,
      items: 40,
      load: 128,
      busy: true,
      full: true,
      ...(alone === undefined ? {} : { alone }),
    });
    calls(s, 17);
    return Math.round(s.limiter.throughput);
  };

  it('takes a gap of exactly 250 ms for traffic going on, and one just over it for a pause', () => {
    expect(acrossGap(250)).toBe(853);
    expect(acrossGap(251)).toBe(1250);
  });

  it('takes no pause when another call was in flight as the late one started (a slow upstream)', () => {
    expect(acrossGap(1000, false)).toBe(Math.round((1000 * 16 * 40) / (8 * 32 + 1020 + 7 * 32)));
    expect(acrossGap(1000, true)).toBe(1250);
  });

  it('goes back to whole batches after a pause (halving probed afresh), the first call after it not counted', () => {
    const s = script({ max: 2 });
    s.window({ busy: 0 });
    s.window({ busy: 0, items: 50 });
    expect(s.limiter.halved).toBe(true);
    s.time += 1000;
    s.limiter.record({ startedAt: s.time, finishedAt: s.time + 20, items: 20, load: 128, busy: false, full: true });
    expect(s.limiter.halved).toBe(false);
    expect(s.limiter.halvingReason).toBe('whole batches again after a pause (halving is probed afresh)');
    // The next window opens after that call (it was cut at half size): it closes on the 18th
    // call after it, not the 17th, and still measures 16 calls of 40.
    s.time += 20;
    const call = (i: number): void => {
      s.limiter.record({ startedAt: s.time + 32 * i - 20, finishedAt: s.time + 32 * i, items: 40, load: 128, busy: false, full: true });
    };
    for (let i = 1; i <= 17; i++) call(i);
    expect(s.limiter.throughput).toBe(1562.5);
    call(18);
    expect(s.limiter.throughput).toBe(1250);
    // And halving is probed again from that window.
    expect(s.limiter.halved).toBe(true);
  });

  it('keeps the backoff of failed probes through a pause at the same load, and forgets it when the load after the pause moved', () => {
    // Up and undone three times: the next probe up waits four windows.
    const failedThrice = (): Script => {
      const s = backedOff();
      expect(s.windows(3, { busy: 16, full: 16 })).toEqual([2, 3, 2]);
      s.time += 1000;
      return s;
    };
    expect(failedThrice().windows(2, { busy: 16, full: 16 })).toEqual([2, 2]);
    // The first window after the pause is a new level: the step up is probed from it at once.
    expect(failedThrice().windows(2, { busy: 16, full: 16, load: 40 })).toEqual([3, 2]);
  });
});

describe('in-flight limit: a work slot kept is a decision', () => {
  it('returns the limit it moved as a change (logged as any step), and a work slot undone as none', () => {
    const s = script();
    // Halving tried and lost; then a work slot that paid 50%, and a third that gained nothing.
    s.windows(2, { busy: 0, full: 0 });
    expect(s.window({ busy: 0, full: 0 })).toBeUndefined();
    expect(s.window({ busy: 0, full: 0, items: 60 })).toEqual({ from: 2, to: 3, why: '2 work slots per replica: throughput +50% with one more' });
    expect(s.window({ busy: 0, full: 0, items: 60 })).toBeUndefined();
    expect(s.limiter.limit).toBe(3);
  });

  it('returns a work slot given back as a change down, over all replicas', () => {
    const s = script({ replicas: 2 });
    s.windows(3, { busy: 0, full: 0 });
    expect(s.window({ busy: 0, full: 0, items: 60 })).toEqual({ from: 4, to: 6, why: '2 work slots per replica: throughput +50% with one more' });
    s.window({ busy: 0, full: 0, items: 60 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    // A new level of load: the extra work slot is probed away from a settled window, and loses nothing.
    s.windows(2, { busy: 0, full: 0, items: 60, load: 40 });
    expect(s.window({ busy: 0, full: 0, items: 60, load: 40 })).toEqual({
      from: 6,
      to: 4,
      why: '1 work slot per replica: throughput +0% with one fewer',
    });
    expect(s.limiter.workSlotsPerReplica).toBe(1);
  });
});

describe('in-flight limit: probes down keep a staging slot above the work slots', () => {
  it('stops a chain of steps down that paid one above the work slots', () => {
    const s = script();
    // Halving tried and lost; a work slot that paid 50%; a third that gained nothing.
    s.windows(2, { busy: 0, full: 0 });
    s.window({ busy: 0, full: 0 });
    s.window({ busy: 0, full: 0, items: 60 });
    s.window({ busy: 0, full: 0, items: 60 });
    expect(s.limiter.workSlotsPerReplica).toBe(2);
    expect(s.limiter.limit).toBe(3);
    // A staging slot that paid 25%, with nothing left queued after it (no next step up).
    s.window({ busy: 16, full: 16, items: 60 });
    expect(s.limiter.limit).toBe(4);
    s.window({ busy: 0, full: 16, items: 75 });
    expect(s.limiter.limit).toBe(4);
    // Then a step down that loses nothing: kept, and not followed by another into the work slots.
    s.window({ busy: 0, full: 16, items: 75 });
    expect(s.limiter.limit).toBe(3);
    s.window({ busy: 0, full: 16, items: 75 });
    expect(s.limiter.reason).toBe(
      'lowered to 3 per replica: throughput +0% with one call fewer in flight; 2 work slots per replica: one more gave +0% throughput',
    );
    expect(s.limiter.limit).toBe(3);
    expect(s.limiter.workSlotsPerReplica).toBe(2);
  });
});

describe('in-flight limit: full calls, and a load beyond what the slots carry', () => {
  it('probes up when the load exceeds what the slots carry at the window’s call size, and halves at exactly that', () => {
    // Two slots of calls of 40: 80 inputs.
    expect(afterFirst({ busy: 0, load: 81 })).toEqual({ limit: 3, halved: false });
    expect(afterFirst({ busy: 0, load: 80 })).toEqual({ limit: 2, halved: true });
  });

  it('counts the slots of every replica', () => {
    // Two replicas of two slots of 40: 160 inputs.
    expect(afterFirst({ busy: 0, load: 161 }, { replicas: 2 })).toEqual({ limit: 6, halved: false });
    expect(afterFirst({ busy: 0, load: 160 }, { replicas: 2 })).toEqual({ limit: 4, halved: true });
  });

  it('needs half the calls full: with fewer, a high load is not the slots’ doing', () => {
    expect(afterFirst({ busy: 0, full: 7, load: 128 }).limit).toBe(2);
    expect(afterFirst({ busy: 0, full: 8, load: 128 }).limit).toBe(3);
  });
});

describe('in-flight limit: a chained step up judged against the window that raised the limit', () => {
  it('is probed again from a fresh window when it lost, once per level of load', () => {
    const s = script();
    s.window();
    // +15%: raised to 3, and 4 probed at once against this window.
    s.window({ items: 46 });
    expect(s.limiter.limit).toBe(4);
    s.window({ items: 40 });
    expect(s.limiter.limit).toBe(3);
    expect(s.limiter.reason).toBe('kept 3 per replica: 4 gave -13% throughput against the window that raised it (probed again from a fresh window)');
    // The fresh window probes 4 again (before any probe down), which now pays: raised to 4, 5 chained.
    s.window({ items: 46 });
    expect(s.limiter.limit).toBe(4);
    s.window({ items: 53 });
    expect(s.limiter.limit).toBe(5);
    // The second chained loss at this level is a verdict.
    s.window({ items: 46 });
    expect(s.limiter.limit).toBe(4);
    expect(s.limiter.reason).toBe('kept 4 per replica: 5 gave -13% throughput (calls only queued upstream)');
  });

  it('is probed again after a new level of load', () => {
    // A floor of 3, so no probe down comes first at the start.
    const s = script({ min: 3 });
    s.window();
    s.window({ items: 46 });
    s.window({ items: 40 });
    expect(s.limiter.reason).toMatch(/against the window that raised it/);
    expect(s.limiter.limit).toBe(4);
    // The load halves and more: a new level (the window is no verdict). A probe down comes
    // first there and loses clearly, then up again: raised, and the chained step that lost
    // against the window that raised it is probed again, as at the first level.
    s.window({ load: 60 });
    s.window({ load: 60 });
    expect(s.limiter.limit).toBe(3);
    s.window({ items: 30, load: 60 });
    expect(s.limiter.limit).toBe(4);
    s.window({ load: 60 });
    expect(s.limiter.limit).toBe(5);
    s.window({ items: 46, load: 60 });
    expect(s.limiter.limit).toBe(6);
    s.window({ load: 60 });
    expect(s.limiter.limit).toBe(5);
    expect(s.limiter.reason).toBe('kept 5 per replica: 6 gave -13% throughput against the window that raised it (probed again from a fresh window)');
  });
});

describe('in-flight limit: a probe down that lost clearly', () => {
  /** A limit of 3 probed down to 2, which delivers `items` per call (3: `base`); the limits in the next windows at 3. */
  const after = (items: WindowShape['items'], windows: number, base: WindowShape['items'] = 40): number[] => {
    const s = script({ initial: 3, max: 3 });
    s.window({ items: base });
    expect(s.limiter.limit).toBe(2);
    s.window({ items });
    expect(s.limiter.limit).toBe(3);
    return s.windows(windows);
  };

  it('backs off 8 windows after a loss of exactly 10%', () => {
    expect(after(36, 8)).toEqual([3, 3, 3, 3, 3, 3, 3, 2]);
  });

  it('backs off 1 window after a loss just under 10%, or one of 10% within twice the noise', () => {
    expect(after(36.5, 1)).toEqual([2]);
    // Halves 40.5 and 31.5: noise 0.125, so a clear loss would be 25%.
    expect(after([40.5, 31.5], 1)).toEqual([2]);
    // Both windows of noise 0.125: two combined standard errors are 35%, and 20% is within them.
    expect(after([36, 28], 1, [45, 35])).toEqual([2]);
  });

  it('backs off 8 windows after a loss of exactly twice the noise (25% at a noise of 0.125)', () => {
    expect(after([33.75, 26.25], 8)).toEqual([3, 3, 3, 3, 3, 3, 3, 2]);
  });
});

describe('in-flight limit: a window with a stall', () => {
  it('is measured again when its halves differ by more than 13 to 7, and judged at exactly that', () => {
    const stalled = script();
    stalled.window();
    stalled.window({ items: [52.5, 28] });
    expect(stalled.limiter.limit).toBe(3);
    expect(stalled.limiter.reason).toBe('start: one running call and one staged full batch per replica; probing 3 per replica against 2');
    stalled.window();
    expect(stalled.limiter.limit).toBe(2);
    expect(stalled.limiter.reason).toBe('kept 2 per replica: 3 gave +0% throughput (calls only queued upstream)');
    expect(reasonAfterProbe({ items: [52, 28] })).toBe('kept 2 per replica: 3 gave +0% throughput (calls only queued upstream)');
  });

  it('is no baseline either', () => {
    const s = script();
    s.window({ items: [52.5, 28] });
    expect(s.limiter.limit).toBe(2);
    s.window();
    expect(s.limiter.limit).toBe(3);
  });
});
