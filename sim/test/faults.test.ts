/**
 * The simulator's fault injection: seeded and replayable, the configured shares, and over HTTP
 * the three faults as a proxy meets them (a TEI-shaped 5xx, a connection lost without an
 * answer, a late but correct answer), striking only calls that reach the model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Fault, FaultInjector } from '../faults.js';
import { type TeiSim, type TeiSimOptions, startTeiSim } from '../index.js';
import { post, send } from '../../test/support/http.js';

const sims: TeiSim[] = [];
async function sim(options: TeiSimOptions): Promise<TeiSim> {
  const started = await startTeiSim({ dimensions: 8, ...options });
  sims.push(started);
  return started;
}

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

const call = (target: TeiSim, body: unknown) =>
  typeof body === 'string'
    ? send(target.url, '/embed', { raw: body, headers: { 'content-type': 'application/json' } })
    : post(target.url, '/embed', body);

const draw = (injector: FaultInjector, n: number): Fault[] => Array.from({ length: n }, () => injector.next());

describe('FaultInjector', () => {
  it('gives the same faults for the same seed, other faults for another seed', () => {
    const options = { errorRate: 0.2, resetRate: 0.2, slowRate: 0.2, slowMs: 5 };
    const a = draw(new FaultInjector({ ...options, seed: 42 }), 500);
    const b = draw(new FaultInjector({ ...options, seed: 42 }), 500);
    const c = draw(new FaultInjector({ ...options, seed: 43 }), 500);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('injects each fault at about its configured share, both error statuses, and counts them', () => {
    const injector = new FaultInjector({ errorRate: 0.1, resetRate: 0.05, slowRate: 0.2, slowMs: 7, seed: 9 });
    const faults = draw(injector, 20_000);
    const share = (kind: Fault['kind']) => faults.filter((f) => f.kind === kind).length / faults.length;
    expect(share('error')).toBeCloseTo(0.1, 1);
    expect(share('reset')).toBeCloseTo(0.05, 1);
    expect(share('slow')).toBeCloseTo(0.2, 1);
    const statuses = faults.flatMap((f) => (f.kind === 'error' ? [f.status] : []));
    expect(new Set(statuses)).toEqual(new Set([500, 503]));
    expect(faults.find((f) => f.kind === 'slow')).toEqual({ kind: 'slow', delayMs: 7 });
    expect(injector.counts).toEqual({
      errors: statuses.length,
      resets: faults.filter((f) => f.kind === 'reset').length,
      slow: faults.filter((f) => f.kind === 'slow').length,
    });
    injector.resetCounts();
    expect(injector.counts).toEqual({ errors: 0, resets: 0, slow: 0 });
  });

  it('injects nothing by default and refuses impossible settings', () => {
    expect(draw(new FaultInjector({}), 100).every((f) => f.kind === 'none')).toBe(true);
    expect(() => new FaultInjector({ errorRate: 1.5 })).toThrow(/errorRate/);
    expect(() => new FaultInjector({ resetRate: -0.1 })).toThrow(/resetRate/);
    expect(() => new FaultInjector({ errorRate: 0.6, slowRate: 0.6 })).toThrow(/exceed 1/);
    expect(() => new FaultInjector({ slowMs: -1 })).toThrow(/slowMs/);
    expect(() => new FaultInjector({ seed: 0.5 })).toThrow(/seed/);
  });
});

describe('faults over HTTP', () => {
  it('errors are TEI-shaped 503 Unhealthy or 500, in the OpenAI shape on /v1/embeddings', async () => {
    const failing = await sim({ faults: { errorRate: 1, seed: 3 } });
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const native = await post(failing.url, '/embed', { inputs: `text ${i}` });
      seen.add(native.status);
      expect(native.headers['content-type']).toBe('application/json');
      expect(native.json()).toEqual(
        native.status === 503 ? { error: 'unhealthy', error_type: 'Unhealthy' } : { error: expect.any(String), error_type: 'Backend' },
      );
      const openai = await post(failing.url, '/v1/embeddings', { input: `text ${i}` });
      expect(openai.json()).toEqual({ message: expect.any(String), code: openai.status, type: openai.status === 503 ? 'Unhealthy' : 'Backend' });
    }
    expect(seen).toEqual(new Set([500, 503]));
    expect(failing.faults.errors).toBe(40);
  });

  it("only calls whose body parsed fail: the JSON extractor's rejections, health and /info are untouched", async () => {
    const failing = await sim({ faults: { errorRate: 1 } });
    const plain = await sim({});
    for (const body of [{ inputs: 42 }, { inputs: 'x', normalize: 'yes' }, '{"inputs":']) {
      const [got, want] = await Promise.all([call(failing, body), call(plain, body)]);
      expect({ status: got.status, text: got.text }).toEqual({ status: want.status, text: want.text });
    }
    expect((await send(failing.url, '/health')).status).toBe(200);
    expect((await send(failing.url, '/info')).status).toBe(200);
    expect(failing.faults.errors).toBe(0);
    expect((await call(failing, { inputs: [] })).status).toBeGreaterThanOrEqual(500);
    expect(failing.faults.errors).toBe(1);
  });

  it('a reset closes the connection without an answer', async () => {
    const resetting = await sim({ faults: { resetRate: 1 } });
    await expect(post(resetting.url, '/embed', { inputs: 'x' })).rejects.toThrow();
    expect(resetting.faults.resets).toBe(1);
    expect(resetting.stats.calls).toBe(1);
  });

  it('a slow call answers exactly what it would, at least slowMs later', async () => {
    const slow = await sim({ faults: { slowRate: 1, slowMs: 150 } });
    const plain = await sim({});
    const body = { inputs: ['slow but right', 'second'] };
    const started = performance.now();
    const got = await post(slow.url, '/embed', body);
    const elapsed = performance.now() - started;
    const want = await post(plain.url, '/embed', body);
    expect({ status: got.status, text: got.text }).toEqual({ status: want.status, text: want.text });
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(slow.faults.slow).toBe(1);
  });

  it('sequential calls meet the faults the same seed predicts, and resetStats clears the counts', async () => {
    const faults = { errorRate: 0.25, resetRate: 0.25, slowRate: 0.25, slowMs: 20, seed: 1234 };
    const faulty = await sim({ faults });
    const predicted = draw(new FaultInjector(faults), 40);
    const observed: string[] = [];
    for (let i = 0; i < predicted.length; i++) {
      try {
        const reply = await post(faulty.url, '/embed', { inputs: `call ${i}` });
        observed.push(reply.status === 200 ? 'ok' : `error ${reply.status}`);
      } catch {
        observed.push('reset');
      }
    }
    expect(observed).toEqual(predicted.map((f) => (f.kind === 'error' ? `error ${f.status}` : f.kind === 'reset' ? 'reset' : 'ok')));
    expect(faulty.faults.errors + faulty.faults.resets + faulty.faults.slow).toBeGreaterThan(0);
    faulty.resetStats();
    expect(faulty.faults).toEqual({ errors: 0, resets: 0, slow: 0 });
  });
});
