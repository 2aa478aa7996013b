/** bench:perf P6's pieces that need no servers: the static candidates, their flags, the policy line. */
import { describe, expect, it } from 'vitest';
import { candidates, joinAlso, median, parseRounds, roundSpread, sideOrder, staticArgs, summarizePolicyJson } from '../../bench/perf/dispatch.js';
import { settingLabel, staticSetting } from '../../bench/policy/sim-proxy.js';

describe('P6 static candidates', () => {
  it('takes the simulator’s best static setting at 8, 32 and 128 clients, each once', () => {
    for (const upstream of ['gpu', 'tei', 'cpu-pad'] as const) {
      const picked = candidates(upstream).map(settingLabel);
      expect(picked.length).toBeGreaterThanOrEqual(1);
      expect(picked.length).toBeLessThanOrEqual(3);
      expect(new Set(picked).size).toBe(picked.length);
    }
    // The padded model's best settings all use length buckets.
    expect(candidates('cpu-pad').every((s) => s.kind === 'static' && s.bucketByLength !== undefined)).toBe(true);
  });

  it('pins every dispatch flag of a static setting', () => {
    expect(staticArgs(staticSetting(4, 16, 1.5))).toEqual([
      '--max-inflight',
      '4',
      '--max-batch-size',
      '16',
      '--max-wait-ms',
      '5',
      '--bucket-by-length',
      '1.5',
    ]);
  });
});

describe('P6 order of the sides', () => {
  it('measures every side once per level, and no side first at two levels running', () => {
    const orders = [0, 1, 2, 3].map((level) => sideOrder(5, level));
    for (const order of orders) expect([...order].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(orders.map((o) => o[0])).toEqual([0, 1, 2, 3]);
    expect(orders.map((o) => o.at(-1))).toEqual([4, 0, 1, 2]);
  });
});

describe('P6 rounds', () => {
  it('reports the median of a level’s rounds, leaving out rounds that could not be measured', () => {
    expect(median([300, 100, 200])).toBe(200);
    expect(median([400, 100, 300, 200])).toBe(250);
    expect(median([NaN, 100, 300])).toBe(200);
    expect(median([NaN])).toBeNaN();
  });

  it('takes a whole number of rounds from 1 to 3600, for bench:perf and the script alike', () => {
    expect(parseRounds('3')).toBe(3);
    expect(parseRounds('3600')).toBe(3600);
    for (const bad of ['0', '2.5', '3601', 'x', '-1']) expect(() => parseRounds(bad)).toThrow(/--rounds/);
  });

  it('shows the lowest and highest round’s ratio to that round’s best static setting, only with two rounds or more', () => {
    // Round 1: 90 of the best 100; round 2: 110 of the best 100 (the other static did better in round 1 only).
    expect(
      roundSpread(
        [90, 110],
        [
          [100, 80],
          [50, 100],
        ],
      ),
    ).toBe(' (rounds 90-110%)');
    expect(roundSpread([90], [[100]])).toBe('');
    // A round no static setting measured says nothing.
    expect(roundSpread([90, 95], [[NaN, 100]])).toBe('');
  });
});

describe('P6 --also', () => {
  it('takes a value that starts with a dash, as documented (parseArgs alone refuses it)', () => {
    expect(joinAlso(['--model', '--also', '--bucket-by-length 2', '--also=--max-inflight 4', '--levels', '8'])).toEqual([
      '--model',
      '--also=--bucket-by-length 2',
      '--also=--max-inflight 4',
      '--levels',
      '8',
    ]);
    // A trailing --also is left for parseArgs to refuse (no value).
    expect(joinAlso(['--also'])).toEqual(['--also']);
  });
});

describe('P6 policy line', () => {
  it('summarises GET /autobatch/policy, per upstream when it lists several', () => {
    const decision = (value: unknown): unknown => ({ value, source: 'learned', why: '' });
    const route = { route: '/embed', batchSize: decision(16), bucketFactor: decision(2), holdMs: decision(5), pads: decision(true) };
    expect(summarizePolicyJson({ inflightLimit: decision(3), routes: [route] })).toBe(
      'in flight 3; /embed: batch 16, buckets 2, hold 5 ms, pads true',
    );
    expect(summarizePolicyJson({ upstreams: ['http://127.0.0.1:8081/'], inflightLimit: decision(4), routes: [] })).toBe('in flight 4');
    expect(summarizePolicyJson({ upstreams: [{ inflightLimit: decision(2), routes: [] }] })).toBe('in flight 2');
  });
});
