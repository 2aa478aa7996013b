/**
 * POST / and /invocations answer as TEI's router/src/http/server.rs `run` wires them: the route of
 * the model type, and /similarity for an embedding model under TASK=sentence-similarity; GET /
 * stays the public health check.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTeiSim, type TeiSim, type TeiSimOptions } from '../index.js';
import { post, send } from '../../test/support/http.js';

const sims: TeiSim[] = [];
afterAll(async () => {
  await Promise.all(sims.map((sim) => sim.close()));
});

async function sim(options: TeiSimOptions): Promise<TeiSim> {
  const started = await startTeiSim({ dimensions: 4, ...options });
  sims.push(started);
  return started;
}

async function sameAnswer(upstream: TeiSim, root: string, route: string, body: unknown): Promise<void> {
  const viaRoot = await post(upstream.url, root, body);
  const viaRoute = await post(upstream.url, route, body);
  expect(viaRoot.status).toBe(200);
  expect(viaRoot.text).toBe(viaRoute.text);
}

describe('root routes by model type', () => {
  it('embedding: /embed; splade: /embed_sparse; classifier: /predict; reranker: /rerank', async () => {
    const cases: [TeiSimOptions, string, unknown][] = [
      [{ model: 'embedding' }, '/embed', { inputs: ['a', 'b'] }],
      [{ model: 'splade' }, '/embed_sparse', { inputs: 'a' }],
      [{ model: 'classifier' }, '/predict', { inputs: [['a'], ['b', 'c']] }],
      [{ model: 'reranker' }, '/rerank', { query: 'q', texts: ['a', 'b'] }],
    ];
    for (const [options, route, body] of cases) {
      const upstream = await sim(options);
      for (const root of ['/', '/invocations']) await sameAnswer(upstream, root, route, body);
      expect((await send(upstream.url, '/')).status).toBe(200);
    }
  });

  it('TASK=sentence-similarity: an embedding model serves them as /similarity, and refuses an /embed body', async () => {
    const upstream = await sim({ model: 'embedding', task: 'sentence-similarity' });
    const body = { inputs: { source_sentence: 'a', sentences: ['b', 'c'] } };
    for (const root of ['/', '/invocations']) await sameAnswer(upstream, root, '/similarity', body);
    const refused = await post(upstream.url, '/', { inputs: ['a'] });
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toMatch(/^text\/plain/);
    expect((await post(upstream.url, '/embed', { inputs: ['a'] })).status).toBe(200);
  });
});
