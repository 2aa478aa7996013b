/**
 * The simulator's per-token and padding costs (--per-token-ms, --pad): a backend that pads every
 * input of a batch to its longest charges n × longest tokens, one that does not charges the
 * total. bench:perf P6 runs the padded CPU model of issue 10 against this.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BackendScheduler } from '../backend-scheduler.js';
import { optionsFromArgs } from '../cli-options.js';
import { type TeiSim, startTeiSim } from '../index.js';
import { encode } from '../tokenizer.js';

const limits = { maxBatchTokens: 10_000, maxBatchRequests: undefined };

describe('per-token cost', () => {
  it('charges a padded batch n × longest tokens, an unpadded one its total', async () => {
    const padded = new BackendScheduler({ perCallMs: 1, perItemMs: 0, slots: 1, merge: false, perTokenMs: 0.5, pad: true }, limits);
    const unpadded = new BackendScheduler({ perCallMs: 1, perItemMs: 0, slots: 1, merge: false, perTokenMs: 0.5 }, limits);
    // One call of 3 items with 12 tokens, the longest 8.
    const [p] = await padded.run([{ tokens: 12, weight: 3, longest: 8 }], () => false);
    const [u] = await unpadded.run([{ tokens: 12, weight: 3, longest: 8 }], () => false);
    expect(p?.inferenceMs).toBe(1 + 0.5 * 3 * 8);
    expect(u?.inferenceMs).toBe(1 + 0.5 * 12);
    padded.close();
    unpadded.close();
  });

  it('pads a merged batch to the longest input of any call in it', async () => {
    const scheduler = new BackendScheduler({ perCallMs: 1, perItemMs: 0, slots: 1, merge: true, perTokenMs: 0.25, pad: true }, limits);
    const first = scheduler.run([{ tokens: 2, weight: 1 }], () => false);
    const short = scheduler.run([{ tokens: 2, weight: 1 }], () => false);
    const long = scheduler.run([{ tokens: 40, weight: 1 }], () => false);
    const [a, b, c] = await Promise.all([first, short, long]);
    expect(a?.[0]?.inferenceMs).toBe(1 + 0.25 * 2);
    // The short and the long input queued together: both cost as much as two long ones.
    expect(b?.[0]?.inferenceMs).toBe(1 + 0.25 * 2 * 40);
    expect(c?.[0]?.inferenceMs).toBe(1 + 0.25 * 2 * 40);
    scheduler.close();
  });

  it('reads --per-token-ms and --pad', () => {
    expect(optionsFromArgs(['--per-call-ms', '2', '--per-token-ms', '0.02', '--pad'])).toEqual({
      cost: { perCallMs: 2, perItemMs: 0, slots: 1, merge: false, perTokenMs: 0.02, pad: true },
    });
    expect(() => optionsFromArgs(['--per-token-ms', '-1'])).toThrow(/--per-token-ms/);
  });

  describe('over HTTP', () => {
    let sim: TeiSim;
    afterAll(async () => sim?.close());

    it('a call with one long input costs every input as much as the long one', async () => {
      sim = await startTeiSim({ dimensions: 4, cost: { perCallMs: 0, perItemMs: 0, slots: 1, merge: false, perTokenMs: 0.5, pad: true } });
      const long = 'padding makes every short query cost as much as the longest paragraph in its batch';
      const inputs = ['hi', long];
      const response = await fetch(`${sim.url}/embed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs }),
      });
      expect(response.status).toBe(200);
      const longest = encode(long, true).ids.length;
      // x-inference-time is the call's per-item average, whole milliseconds.
      expect(Number(response.headers.get('x-inference-time'))).toBe(Math.floor(0.5 * 2 * longest));
    });
  });
});
