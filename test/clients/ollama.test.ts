/**
 * The `ollama` npm package's `embed` against an Ollama-shaped upstream (sim/ollama.ts), directly
 * and through the proxy: /api/embed is batched out of the box, each client gets what the same
 * call made directly gets (its `embeddings`, `model`, and the call's durations), its share of
 * `prompt_eval_count`, and models never share a call. The same route given as a custom route
 * (`/api/embed:input:embeddings`) batches it too.
 */
import { Ollama, type EmbedResponse } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { parseRouteSpec } from '../../src/routes/custom.js';
import { startOllamaSim, type OllamaSim } from '../../sim/ollama.js';
import { post } from '../support/http.js';

const logger = createLogger('silent', 'json');
let sim: OllamaSim;
let proxy: RunningProxy;
let custom: RunningProxy;

beforeAll(async () => {
  sim = await startOllamaSim({ models: { 'all-minilm': 8, 'nomic-embed-text': 12 }, contextLength: 16 });
  proxy = await startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger, maxWaitMs: 50, maxBatchSize: 64 });
  custom = await startProxy({
    upstream: sim.url,
    host: '127.0.0.1',
    port: 0,
    logger,
    maxWaitMs: 50,
    maxBatchSize: 64,
    routes: [parseRouteSpec('/api/embed:input:embeddings')],
  });
});

afterAll(async () => {
  await Promise.all([proxy?.close(), custom?.close()]);
  await sim?.close();
});

/** What a merged call cannot share: its durations and the token count (a share). */
function comparable(answer: EmbedResponse): unknown {
  const { total_duration: _t, load_duration: _l, prompt_eval_count: _p, ...rest } = answer;
  return rest;
}

describe('ollama client embed', () => {
  it('batches concurrent calls, each answered as directly, models apart', async () => {
    const requests = Array.from({ length: 24 }, (_, i) => ({
      model: i % 2 === 0 ? 'all-minilm' : 'nomic-embed-text',
      input: i % 3 === 0 ? [`first ${i}`, `second ${i}`] : `text ${i} ${'y'.repeat(i)}`,
    }));
    const direct = await Promise.all(requests.map((r) => new Ollama({ host: sim.url }).embed(r)));
    const before = sim.calls.length;
    const proxied = await Promise.all(requests.map((r) => new Ollama({ host: proxy.url }).embed(r)));
    const calls = sim.calls.slice(before);
    for (let i = 0; i < requests.length; i++) expect(comparable(proxied[i]!)).toEqual(comparable(direct[i]!));
    const total = (answers: EmbedResponse[]) => answers.reduce((sum, a) => sum + a.prompt_eval_count, 0);
    expect(total(proxied)).toBe(total(direct));
    expect(calls.length).toBeLessThan(requests.length);
    const modelOf = new Map(requests.flatMap((r) => (Array.isArray(r.input) ? r.input : [r.input]).map((t) => [t, r.model])));
    for (const call of calls) for (const text of call.texts) expect(modelOf.get(text)).toBe(call.model);
  });

  it('a lone request is answered byte for byte; what Ollama answers specially goes to it alone', async () => {
    for (const body of [
      { model: 'all-minilm', input: ['a', 'b c'] },
      { model: 'all-minilm', input: 'one', dimensions: 4 },
      { model: 'all-minilm', input: '' },
      { model: 'all-minilm', input: [] },
      { model: 'all-minilm', input: [1, 2] },
      { model: 'missing', input: 'x' },
      { input: 'no model' },
      { model: 'all-minilm', input: 'far too long for the context '.repeat(4), truncate: false },
    ]) {
      const direct = await post(sim.url, '/api/embed', body);
      const proxied = await post(proxy.url, '/api/embed', body);
      // A batched answer is written by the proxy as `application/json` (Ollama adds `; charset=utf-8`);
      // answers sent alone come back with the upstream's own headers.
      const type = (reply: typeof direct) => (reply.status === 200 ? 'json' : reply.headers['content-type']);
      expect({ status: proxied.status, type: type(proxied), body: proxied.text }).toEqual({
        status: direct.status,
        type: type(direct),
        body: direct.text,
      });
    }
  });

  it('shares prompt_eval_count out per client, adding up to the call’s', async () => {
    const before = sim.calls.length;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(proxy.url, '/api/embed', { model: 'all-minilm', input: 'z'.repeat(4 * (i + 1)) })),
    );
    const calls = sim.calls.slice(before);
    const counts = answers.map((a) => (a.json() as EmbedResponse).prompt_eval_count);
    // The sim counts 1 token per 4 bytes: 1..8 tokens, 36 in all, whatever the calls.
    expect(counts.reduce((a, b) => a + b, 0)).toBe(36);
    expect(calls.length).toBeLessThan(8);
    expect(Math.max(...counts)).toBeGreaterThan(Math.min(...counts));
  });

  it('--route /api/embed:input:embeddings batches it as a custom route', async () => {
    const requests = Array.from({ length: 12 }, (_, i) => ({ model: 'all-minilm', input: [`custom ${i}`] }));
    const direct = await Promise.all(requests.map((r) => new Ollama({ host: sim.url }).embed(r)));
    const before = sim.calls.length;
    const proxied = await Promise.all(requests.map((r) => new Ollama({ host: custom.url }).embed(r)));
    for (let i = 0; i < requests.length; i++) expect(comparable(proxied[i]!)).toEqual(comparable(direct[i]!));
    expect(sim.calls.length - before).toBeLessThan(requests.length);
  });
});
