/**
 * TEI's root routes (POST / and /invocations) through the proxy, batched with the rule of the
 * model's task as /info says, with the `@huggingface/inference` client that posts there
 * (featureExtraction given an endpoint URL): answers equal the same call made directly, with
 * fewer upstream calls than requests. Other model types: a classifier's root is /predict, a
 * SPLADE model's is /embed_sparse, a reranker's passes through, and an embedding model serving
 * /similarity (TASK=sentence-similarity, which /info does not show) still answers every client
 * exactly as TEI does.
 */
import { InferenceClient } from '@huggingface/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { startTeiSim, type TeiSim, type TeiSimOptions } from '../../sim/index.js';
import { post } from '../support/http.js';

const logger = createLogger('silent', 'json');
const started: { sim: TeiSim; proxy: RunningProxy }[] = [];

async function pair(options: TeiSimOptions): Promise<{ sim: TeiSim; proxy: RunningProxy }> {
  // A small cost per call keeps the upstream busy long enough for batches to form.
  const sim = await startTeiSim({
    dimensions: 8,
    maxClientBatchSize: 16,
    cost: { perCallMs: 5, perItemMs: 0.05, slots: 1, merge: false },
    ...options,
  });
  const proxy = await startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger, maxWaitMs: 20 });
  const both = { sim, proxy };
  started.push(both);
  return both;
}

afterAll(async () => {
  await Promise.all(
    started.map(async ({ sim, proxy }) => {
      await proxy.close();
      await sim.close();
    }),
  );
});

/** Sends every body directly and then through the proxy, concurrently; checks equal answers; returns the upstream calls the proxied round made on `path`. */
async function compareConcurrent({ sim, proxy }: { sim: TeiSim; proxy: RunningProxy }, path: string, bodies: unknown[]): Promise<number> {
  const direct = await Promise.all(bodies.map((body) => post(sim.url, path, body)));
  sim.resetStats();
  const proxied = await Promise.all(bodies.map((body) => post(proxy.url, path, body)));
  const calls = sim.stats.callsByRoute[path] ?? 0;
  for (let i = 0; i < bodies.length; i++) {
    expect({ status: proxied[i]!.status, body: proxied[i]!.text }).toEqual({ status: direct[i]!.status, body: direct[i]!.text });
  }
  return calls;
}

describe('@huggingface/inference featureExtraction with an endpoint URL (POST /)', () => {
  let embedding: { sim: TeiSim; proxy: RunningProxy };
  beforeAll(async () => {
    embedding = await pair({ model: 'embedding' });
  });

  it('batches concurrent calls, each answered as directly', async () => {
    const hf = new InferenceClient();
    const args = Array.from({ length: 32 }, (_, i) => ({ inputs: i % 4 === 0 ? [`text ${i}`, `more ${i}`] : `text number ${i}` }));
    const direct = await Promise.all(args.map((a) => hf.featureExtraction({ endpointUrl: embedding.sim.url, ...a })));
    embedding.sim.resetStats();
    const proxied = await Promise.all(args.map((a) => hf.endpoint(embedding.proxy.url).featureExtraction(a)));
    expect(proxied).toEqual(direct);
    const calls = embedding.sim.stats.callsByRoute['/'] ?? 0;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(args.length);
  });

  it('POST /invocations (SageMaker) is batched the same way, parameters kept apart', async () => {
    const bodies = Array.from({ length: 16 }, (_, i) => ({ inputs: `invocation ${i}`, ...(i % 2 === 0 ? { normalize: false } : {}) }));
    const calls = await compareConcurrent(embedding, '/invocations', bodies);
    expect(calls).toBeLessThan(bodies.length);
  });

  it('bodies it cannot take apart go alone and get TEI’s own answer', async () => {
    for (const body of [{ inputs: '' }, { inputs: 42 }, { inputs: { source_sentence: 'a', sentences: ['b'] } }, { nothing: true }]) {
      const direct = await post(embedding.sim.url, '/', body);
      const proxied = await post(embedding.proxy.url, '/', body);
      expect({ status: proxied.status, body: proxied.text }).toEqual({ status: direct.status, body: direct.text });
    }
  });
});

describe('the root routes of other model types', () => {
  it('a classifier: POST / is /predict, batched', async () => {
    const classifier = await pair({ model: 'classifier' });
    const bodies = Array.from({ length: 16 }, (_, i) => ({
      inputs: i % 3 === 0 ? [`a ${i}`, `b ${i}`] : i % 3 === 1 ? `single ${i}` : [[`x ${i}`], [`y ${i}`, 'z']],
    }));
    expect(await compareConcurrent(classifier, '/', bodies)).toBeLessThan(bodies.length);
  });

  it('a SPLADE model: POST / is /embed_sparse, batched', async () => {
    const splade = await pair({ model: 'splade' });
    const bodies = Array.from({ length: 16 }, (_, i) => ({ inputs: `sparse text ${i}` }));
    expect(await compareConcurrent(splade, '/', bodies)).toBeLessThan(bodies.length);
  });

  it('a reranker: POST / passes through, one call per request', async () => {
    const reranker = await pair({ model: 'reranker' });
    const bodies = Array.from({ length: 8 }, (_, i) => ({ query: `q ${i}`, texts: ['a', `b ${i}`] }));
    expect(await compareConcurrent(reranker, '/', bodies)).toBe(bodies.length);
  });

  it('TASK=sentence-similarity (not in /info): every client still gets TEI’s exact answer', async () => {
    const similarity = await pair({ model: 'embedding', task: 'sentence-similarity' });
    const bodies = Array.from({ length: 8 }, (_, i) =>
      i % 2 === 0 ? { inputs: { source_sentence: `s ${i}`, sentences: ['a', 'b'] } } : { inputs: `an embed-shaped body ${i}` },
    );
    await compareConcurrent(similarity, '/', bodies);
  });
});
