/**
 * Every batched route over real HTTP, against the TEI simulator: through the proxy each client
 * gets what the upstream answers that request alone, byte for byte, with batches really formed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { startTeiSim, type TeiSim } from '../../sim/index.js';
import { post, send, type Reply } from '../support/http.js';

const logger = createLogger('silent', 'json');

let embedding: TeiSim;
let classifier: TeiSim;
let splade: TeiSim;
let viaEmbedding: RunningProxy;
let viaClassifier: RunningProxy;
let viaSplade: RunningProxy;

beforeAll(async () => {
  // A small cost per call keeps the upstream busy long enough for batches to form.
  const cost = { perCallMs: 3, perItemMs: 0.05, slots: 1, merge: false };
  [embedding, classifier, splade] = await Promise.all([
    startTeiSim({ model: 'embedding', dimensions: 16, maxClientBatchSize: 8, autoTruncate: false, maxInputLength: 64, cost }),
    startTeiSim({ model: 'classifier', maxClientBatchSize: 8, cost }),
    startTeiSim({ model: 'splade', maxClientBatchSize: 8, cost }),
  ]);
  const options = { host: '127.0.0.1', port: 0, logger };
  [viaEmbedding, viaClassifier, viaSplade] = await Promise.all([
    startProxy({ ...options, upstream: embedding.url }),
    startProxy({ ...options, upstream: classifier.url }),
    startProxy({ ...options, upstream: splade.url }),
  ]);
});

afterAll(async () => {
  await Promise.all([viaEmbedding?.close(), viaClassifier?.close(), viaSplade?.close()]);
  await Promise.all([embedding?.close(), classifier?.close(), splade?.close()]);
});

/** What a client of the proxy must see: the upstream's own status, content type and bytes. */
function expectSameAnswer(proxied: Reply, direct: Reply): void {
  expect({ status: proxied.status, contentType: proxied.headers['content-type'], body: proxied.text }).toEqual({
    status: direct.status,
    contentType: direct.headers['content-type'],
    body: direct.text,
  });
}

async function compareAlone(sim: TeiSim, proxy: RunningProxy, path: string, body: unknown): Promise<Reply> {
  const direct = await post(sim.url, path, body);
  const proxied = await post(proxy.url, path, body);
  expectSameAnswer(proxied, direct);
  return proxied;
}

describe('each route alone answers exactly as the upstream', () => {
  const embedBodies: unknown[] = [
    { inputs: 'hello world' },
    { inputs: ['a b c', 'second input'] },
    { inputs: [101, 2023, 102] },
    { inputs: [[101, 7], 'mixed'] },
    { inputs: 'x', normalize: false },
    { inputs: 'x', truncate: true, truncation_direction: 'left' },
    { inputs: 'unknown fields are ignored', whatever: [1, { a: 2 }] },
  ];
  for (const [i, body] of embedBodies.entries()) {
    it(`/embed #${i}`, async () => {
      const reply = await compareAlone(embedding, viaEmbedding, '/embed', body);
      expect(reply.status).toBe(200);
      expect(reply.headers['x-autobatch-batch-size']).toBeDefined();
      expect(reply.headers['x-autobatch-queue-ms']).toMatch(/^\d+\.\d\d$/);
    });
  }

  it('/embed_all, /tokenize, /decode', async () => {
    await compareAlone(embedding, viaEmbedding, '/embed_all', { inputs: ['one two', 'three'] });
    await compareAlone(embedding, viaEmbedding, '/tokenize', { inputs: ['Hello, world!', 'bye'] });
    await compareAlone(embedding, viaEmbedding, '/tokenize', { inputs: 'x y', add_special_tokens: false });
    await compareAlone(embedding, viaEmbedding, '/decode', { ids: [101, 2023, 102] });
    await compareAlone(embedding, viaEmbedding, '/decode', { ids: [[101, 2023, 102], [7]], skip_special_tokens: false });
  });

  it('/embed_sparse', async () => {
    await compareAlone(splade, viaSplade, '/embed_sparse', { inputs: ['sparse one', 'two'] });
    await compareAlone(splade, viaSplade, '/embed_sparse', { inputs: 'alone' });
  });

  it('/predict in single, pair and batch shapes', async () => {
    for (const inputs of ['a single text', ['one text'], ['premise', 'hypothesis'], [['a'], ['b', 'c']], [['pair', 'only']]]) {
      const reply = await compareAlone(classifier, viaClassifier, '/predict', { inputs });
      expect(reply.status).toBe(200);
    }
    await compareAlone(classifier, viaClassifier, '/predict', { inputs: 'raw', raw_scores: true });
  });

  it('/v1/embeddings and /embeddings, float and base64', async () => {
    for (const path of ['/v1/embeddings', '/embeddings']) {
      await compareAlone(embedding, viaEmbedding, path, { input: 'hello', model: 'anything' });
      await compareAlone(embedding, viaEmbedding, path, { input: ['a', 'b c'], encoding_format: 'base64' });
      await compareAlone(embedding, viaEmbedding, path, { input: [[101, 5], 'x'], encoding_format: 'float' });
    }
  });

  it("upstream errors keep the upstream's status and body", async () => {
    const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    await compareAlone(embedding, viaEmbedding, '/embed', { inputs: long, truncate: false });
    await compareAlone(embedding, viaEmbedding, '/embed', { inputs: ['ok', long], truncate: false });
    await compareAlone(embedding, viaEmbedding, '/v1/embeddings', { input: long });
    await compareAlone(embedding, viaEmbedding, '/embed', { inputs: 'x', normalize: 'not a bool' });
    // The wrong model kind for the route.
    await compareAlone(embedding, viaEmbedding, '/predict', { inputs: 'x' });
    // A list holding an empty input goes alone and gets the upstream's own answer.
    await compareAlone(embedding, viaEmbedding, '/embed', { inputs: ['fine', ''] });
  });

  it("the proxy answers Empty requests itself with TEI's error", async () => {
    for (const body of [{ inputs: [] }, { inputs: '' }]) {
      await compareAlone(embedding, viaEmbedding, '/embed', body);
      await compareAlone(embedding, viaEmbedding, '/tokenize', body);
    }
    await compareAlone(classifier, viaClassifier, '/predict', { inputs: '' });
    await compareAlone(embedding, viaEmbedding, '/decode', { ids: [] });
    await compareAlone(embedding, viaEmbedding, '/v1/embeddings', { input: '' });
    await compareAlone(embedding, viaEmbedding, '/v1/embeddings', { input: [] });
  });

  it("a bad parameter shared by merged requests gets each client the upstream's exact text", async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => ({ inputs: `text ${i}`, normalize: 'not a bool', pad: 'x'.repeat(i) }));
    const direct = await Promise.all(bodies.map((body) => post(embedding.url, '/embed', body)));
    const proxied = await Promise.all(bodies.map((body) => post(viaEmbedding.url, '/embed', { ...body, pad: body.pad })));
    proxied.forEach((reply, i) => expectSameAnswer(reply, direct[i]!));
  });

  /** Bodies the proxy cannot take apart with certainty; TEI's HTTP layer words their refusals. */
  const unbatchable: { path: string; raw: string | Buffer; contentType?: string; target?: 'classifier' }[] = [
    { path: '/embed', raw: '{"inputs":' },
    { path: '/embed', raw: '{"inputs":"a"}', contentType: 'text/plain' },
    { path: '/embed', raw: '{"inputs":"a"}', contentType: '' },
    { path: '/embed', raw: '{"inputs":42}' },
    { path: '/embed', raw: '[1,2]' },
    { path: '/embed', raw: '{"inputs":"first","inputs":"second"}' },
    { path: '/embed', raw: '{"inputs":"first","\\u0069nputs":"second"}' },
    { path: '/embed', raw: '{"inputs":"a","truncate":true,"truncate":false}' },
    { path: '/embed', raw: Buffer.concat([Buffer.from('{"inputs":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]) },
    { path: '/predict', raw: '{"inputs":[]}', target: 'classifier' },
    { path: '/v1/embeddings', raw: '{"input":{"not":"input"}}' },
    { path: '/tokenize', raw: '{"inputs":"a", "add_special_tokens":"yes"}' },
  ];
  for (const [i, { path, raw, contentType, target }] of unbatchable.entries()) {
    it(`a body it cannot batch gets the upstream's own answer, sent alone (#${i} ${path})`, async () => {
      const [sim, proxy] = target === 'classifier' ? [classifier, viaClassifier] : [embedding, viaEmbedding];
      const headers: Record<string, string> = contentType === '' ? {} : { 'content-type': contentType ?? 'application/json' };
      const direct = await send(sim.url, path, { raw, headers });
      const proxied = await send(proxy.url, path, { raw, headers });
      expect(direct.status).toBeGreaterThanOrEqual(400);
      expectSameAnswer(proxied, direct);
    });
  }

  it("with the upstream gone, its own refusals use TEI's statuses and error shape", async () => {
    const doomed = await startTeiSim({ model: 'embedding', dimensions: 4 });
    const proxy = await startProxy({ upstream: doomed.url, host: '127.0.0.1', port: 0, logger });
    await doomed.close();
    try {
      const bad = async (raw: string | Buffer) => {
        const reply = await send(proxy.url, '/embed', { raw, headers: { 'content-type': 'application/json' } });
        return { status: reply.status, body: reply.json() };
      };
      expect(await bad('{"inputs":')).toMatchObject({ status: 400, body: { error_type: 'Validation', error: expect.stringContaining('JSON') } });
      expect(await bad('{"inputs":42}')).toMatchObject({ status: 422, body: { error_type: 'Validation' } });
      expect(await bad('{"inputs":"a","inputs":"b"}')).toMatchObject({
        status: 422,
        body: { error_type: 'Validation', error: expect.stringContaining('duplicate field `inputs`') },
      });
      const invalidUtf8 = Buffer.concat([Buffer.from('{"inputs":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      expect(await bad(invalidUtf8)).toMatchObject({ status: 400, body: { error: expect.stringContaining('UTF-8') } });
      const openai = await send(proxy.url, '/v1/embeddings', { body: { input: { not: 'input' } } });
      expect({ status: openai.status, body: openai.json() }).toMatchObject({
        status: 422,
        body: { type: 'Validation', code: 422, message: expect.any(String) },
      });
    } finally {
      await proxy.close();
    }
  });

  it("a body over --max-body-bytes gets the proxy's own 413", async () => {
    const huge = JSON.stringify({ inputs: 'x'.repeat(2_100_000) });
    const reply = await send(viaEmbedding.url, '/embed', { raw: huge, headers: { 'content-type': 'application/json' } });
    expect({ status: reply.status, body: reply.json() }).toMatchObject({ status: 413, body: { error_type: 'Validation' } });
  });
});

describe('batching over HTTP', () => {
  it('500 concurrent mixed requests: each gets its own answer, in far fewer upstream calls', async () => {
    const texts = Array.from({ length: 60 }, (_, i) => `sentence number ${i} ${'with more words '.repeat(i % 4)}`);
    const requests: { path: string; body: unknown }[] = [];
    for (let i = 0; i < 500; i++) {
      const text = texts[i % texts.length]!;
      switch (i % 8) {
        case 0:
          requests.push({ path: '/embed', body: { inputs: text } });
          break;
        case 1:
          requests.push({ path: '/embed', body: { inputs: [text, `${text}!`], normalize: false } });
          break;
        case 2:
          requests.push({ path: '/embed', body: { inputs: text, truncate: true, truncation_direction: 'Left' } });
          break;
        case 3:
          requests.push({ path: '/v1/embeddings', body: { input: [text], encoding_format: i % 3 === 0 ? 'base64' : 'float' } });
          break;
        case 4:
          requests.push({ path: '/tokenize', body: { inputs: text, add_special_tokens: i % 3 === 0 } });
          break;
        case 5:
          requests.push({ path: '/decode', body: { ids: [101, (i * 7) % 3000, 102] } });
          break;
        case 6:
          requests.push({ path: '/embed_all', body: { inputs: text } });
          break;
        default:
          requests.push({ path: '/embed', body: { inputs: [[101, i, 102], text] } });
      }
    }
    // An upstream with a GPU-like fixed cost per call, as batching is meant for.
    const gpuLike = await startTeiSim({
      dimensions: 16,
      maxClientBatchSize: 8,
      autoTruncate: false,
      maxInputLength: 64,
      cost: { perCallMs: 10, perItemMs: 0.1, slots: 1, merge: false },
    });
    const proxy = await startProxy({ upstream: gpuLike.url, host: '127.0.0.1', port: 0, logger });
    const expected = await Promise.all(requests.map((r) => post(embedding.url, r.path, r.body)));
    const proxied = await Promise.all(requests.map((r) => post(proxy.url, r.path, r.body)));
    const { calls, batchSizes } = gpuLike.stats;
    await proxy.close();
    await gpuLike.close();

    for (let i = 0; i < requests.length; i++) {
      const got = proxied[i]!;
      const want = expected[i]!;
      expect(got.status).toBe(200);
      if (requests[i]!.path === '/v1/embeddings') {
        // Usage is attributed per client (docs/design.md, "OpenAI usage"); everything else must be the upstream's.
        const { usage: _gotUsage, ...gotRest } = got.json() as Record<string, unknown>;
        const { usage: _wantUsage, ...wantRest } = want.json() as Record<string, unknown>;
        expect(gotRest).toEqual(wantRest);
      } else {
        expect(got.text).toBe(want.text);
      }
    }
    // Batches really formed (eleven distinct keys here, so eleven queues share the upstream).
    expect(calls).toBeLessThan(requests.length / 3);
    const items = batchSizes.reduce((sum, size) => sum + size, 0);
    expect(items / calls).toBeGreaterThan(3);
  });

  it('splits a request larger than the batch limit and reassembles it in order', async () => {
    const inputs = Array.from({ length: 30 }, (_, i) => `item ${i}`);
    // The upstream alone refuses it (max_client_batch_size 8)...
    const alone = await post(embedding.url, '/embed', { inputs });
    expect(alone.status).toBe(422);
    // ...through the proxy it works, and equals the upstream's answers for the pieces.
    const reply = await post(viaEmbedding.url, '/embed', { inputs });
    expect(reply.status).toBe(200);
    const pieces: unknown[] = [];
    for (let i = 0; i < inputs.length; i += 8) {
      pieces.push(...((await post(embedding.url, '/embed', { inputs: inputs.slice(i, i + 8) })).json() as unknown[]));
    }
    expect(reply.json()).toEqual(pieces);
    const openai = await post(viaEmbedding.url, '/v1/embeddings', { input: inputs });
    const data = (openai.json() as { data: { index: number }[] }).data;
    expect(data.map((d) => d.index)).toEqual(inputs.map((_, i) => i));
  });

  it('isolates a bad input: only its request fails, the others in the same call succeed', async () => {
    const long = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    const bodies = Array.from({ length: 8 }, (_, i) => ({ inputs: i === 5 ? long : `good ${i}`, truncate: false }));
    const expected = await Promise.all(bodies.map((body) => post(embedding.url, '/embed', body)));
    embedding.resetStats();
    const replies = await Promise.all(bodies.map((body) => post(viaEmbedding.url, '/embed', body)));
    replies.forEach((reply, i) => expectSameAnswer(reply, expected[i]!));
    expect(replies[5]!.status).toBe(422);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(7);
  });

  it('never lets different parameters share a call', async () => {
    const bodies = Array.from({ length: 40 }, (_, i) => ({ inputs: `text ${i % 5}`, normalize: i % 2 === 0 }));
    const expected = await Promise.all(bodies.map((body) => post(embedding.url, '/embed', body)));
    const replies = await Promise.all(bodies.map((body) => post(viaEmbedding.url, '/embed', body)));
    replies.forEach((reply, i) => expect(reply.text).toBe(expected[i]!.text));
  });
});

describe('credentials', () => {
  it("clients with different Authorization headers never ride on each other's call", async () => {
    const secured = await startTeiSim({ apiKey: 'right', dimensions: 8, cost: { perCallMs: 5, perItemMs: 0, slots: 1, merge: false } });
    const proxy = await startProxy({ upstream: secured.url, host: '127.0.0.1', port: 0, logger });
    try {
      const replies = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          post(proxy.url, '/embed', { inputs: `t${i}` }, { authorization: i % 3 === 0 ? 'Bearer wrong' : 'Bearer right' }),
        ),
      );
      replies.forEach((reply, i) => expect(reply.status).toBe(i % 3 === 0 ? 401 : 200));
      const anonymous = await post(proxy.url, '/embed', { inputs: 'none' });
      expect(anonymous.status).toBe(401);
    } finally {
      await proxy.close();
      await secured.close();
    }
  });
});

describe('pass-through', () => {
  it('forwards everything that is not batched, untouched', async () => {
    for (const path of ['/health', '/info', '/metrics', '/no-such-route?x=1']) {
      const direct = await send(embedding.url, path);
      const proxied = await send(viaEmbedding.url, path);
      expect(proxied.status).toBe(direct.status);
      if (path !== '/metrics') expect(proxied.text).toBe(direct.text);
    }
    const rerank = { query: 'q', texts: ['a', 'b'] };
    expect((await post(viaEmbedding.url, '/rerank', rerank)).status).toBe((await post(embedding.url, '/rerank', rerank)).status);
    // A GET on a batched path is not batched: the upstream answers it.
    const getEmbed = await send(viaEmbedding.url, '/embed');
    expect(getEmbed.status).toBe((await send(embedding.url, '/embed')).status);
  });

  it('serves its own endpoints without forwarding them', async () => {
    expect((await send(viaEmbedding.url, '/autobatch/health')).json()).toEqual({ status: 'ok' });
    expect((await send(viaEmbedding.url, '/autobatch/ready')).status).toBe(200);
    const metrics = await send(viaEmbedding.url, '/autobatch/metrics');
    for (const name of [
      'autobatch_requests_total',
      'autobatch_batch_size_bucket',
      'autobatch_queue_wait_seconds_bucket',
      'autobatch_upstream_call_duration_seconds_bucket',
      'autobatch_queue_depth',
      'autobatch_inflight_calls',
    ]) {
      expect(metrics.text).toContain(name);
    }
    expect((await send(viaEmbedding.url, '/autobatch/nothing')).status).toBe(404);
  });

  it('ready reflects an upstream that is down', async () => {
    const proxy = await startProxy({ upstream: 'http://127.0.0.1:9', host: '127.0.0.1', port: 0, logger });
    try {
      expect((await send(proxy.url, '/autobatch/ready')).status).toBe(503);
      const reply = await post(proxy.url, '/embed', { inputs: 'x' });
      expect(reply.status).toBe(502);
      expect(reply.json()).toMatchObject({ error_type: 'Backend', error: expect.stringContaining('unreachable') });
      expect((await send(proxy.url, '/health')).status).toBe(502);
    } finally {
      await proxy.close();
    }
  });
});
