/**
 * The dispatch policy seen from outside: GET /autobatch/policy, the policy gauges at
 * /autobatch/metrics, and flags pinning values (a number means exactly that number).
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy, type StartOptions } from '../../src/proxy.js';
import type { PolicySnapshot } from '../../src/core/policy/dispatch-policy.js';
import { post, send } from '../support/http.js';
import { startTinyTei, type TinyTei } from '../support/tiny-tei.js';

const logger = createLogger('silent', 'json');
let upstream: TinyTei;
let proxy: RunningProxy | undefined;

beforeAll(async () => {
  upstream = await startTinyTei(8);
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function start(options: Partial<StartOptions> = {}): Promise<RunningProxy> {
  proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, logger, ...options });
  return proxy;
}

type PolicyAnswer = PolicySnapshot & { upstreams: string[] };

describe('GET /autobatch/policy', () => {
  it('shows the adaptive policy per upstream and route, each value with its source and reason', async () => {
    const running = await start();
    for (let i = 0; i < 3; i++) expect((await post(running.url, '/embed', { inputs: `text ${i}` })).status).toBe(200);
    const reply = await send(running.url, '/autobatch/policy');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    const policy = reply.json() as PolicyAnswer;
    expect(policy.upstreams).toEqual([new URL(upstream.url).href]);
    expect(policy.policy).toBe('adaptive');
    expect(policy.inflightLimit).toMatchObject({ value: 2, source: 'default' });
    expect(policy.inflightLimit.why).toEqual(expect.any(String));
    const embed = policy.routes.find((route) => route.route === '/embed')!;
    // The upstream's /info says 8.
    expect(embed.batchSize).toMatchObject({ value: 8 });
    expect(embed.bucketFactor.value).toBeNull();
    expect(embed.holdMs).toMatchObject({ value: 5, source: 'default' });
    expect(embed).toHaveProperty('pads');
    expect(embed).toHaveProperty('costFit');
    // The library API gives the same.
    expect(running.policy().routes.map((route) => route.route)).toContain('/embed');
  });

  it('refuses other methods like the other own endpoints', async () => {
    const running = await start();
    expect((await send(running.url, '/autobatch/policy', { method: 'POST', body: {} })).status).toBe(405);
  });
});

describe('policy gauges', () => {
  it('exports the in-flight limit and the per-route decisions', async () => {
    const running = await start({ maxInflight: 3 });
    expect((await post(running.url, '/embed', { inputs: 'hello' })).status).toBe(200);
    const text = (await send(running.url, '/autobatch/metrics')).text;
    expect(text).toMatch(/^autobatch_policy_inflight_limit 3$/m);
    expect(text).toMatch(/^autobatch_policy_batch_size\{route="\/embed"\} 8$/m);
    expect(text).toMatch(/^autobatch_policy_bucket_factor\{route="\/embed"\} 0$/m);
    expect(text).toMatch(/^autobatch_policy_hold_seconds\{route="\/embed"\} 0.005$/m);
    expect(text).toMatch(/^autobatch_policy_pads\{route="\/embed"\} -1$/m);
    expect(text).toContain('autobatch_policy_throughput_inputs_per_second');
  });
});

describe('flags pin values', () => {
  it('--max-inflight 4 means exactly 4 (per replica), --bucket-by-length 2 and --max-batch-size 4 as given', async () => {
    const running = await start({ maxInflight: 4, bucketByLength: 2, maxBatchSize: 4 });
    expect((await post(running.url, '/embed', { inputs: 'x' })).status).toBe(200);
    const policy = running.policy();
    expect(policy.policy).toBe('adaptive');
    expect(policy.inflightLimit).toMatchObject({ value: 4, source: 'pinned' });
    const embed = policy.routes.find((route) => route.route === '/embed')!;
    expect(embed.bucketFactor).toMatchObject({ value: 2, source: 'pinned' });
    expect(embed.batchSize).toMatchObject({ value: 4, source: 'pinned' });
  });

  it('all four dispatch flags given make a static setting; --bucket-by-length off means no buckets', async () => {
    const running = await start({ maxInflight: 1, bucketByLength: 'off', maxBatchSize: 8, maxWaitMs: 0 });
    expect((await post(running.url, '/embed', { inputs: 'x' })).status).toBe(200);
    const policy = running.policy();
    expect(policy.policy).toBe('static');
    expect(policy.inflightLimit).toMatchObject({ value: 1, source: 'pinned' });
    const embed = policy.routes.find((route) => route.route === '/embed')!;
    expect(embed.bucketFactor.value).toBeNull();
    expect(embed.holdMs.value).toBe(0);
  });

  it('several replicas: the pinned limit is per replica', async () => {
    const second = await startTinyTei(8);
    try {
      const running = await start({ upstream: [upstream.url, second.url], maxInflight: 3 });
      expect(running.policy().inflightLimit.value).toBe(6);
      expect(running.policy().stagingSlots).toBe(2);
    } finally {
      await proxy?.close();
      proxy = undefined;
      await second.close();
    }
  });
});
