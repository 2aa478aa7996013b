/**
 * The TEI simulator over real HTTP: TEI's shapes, errors, headers, auth and the cost model.
 * Expected texts come from TEI's source (router/src/http/server.rs, core/src/infer.rs,
 * core/src/tokenization.rs) and axum 0.7's rejections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendScheduler } from '../backend-scheduler.js';
import { formatF32 } from '../float-format.js';
import { type TeiSim, type TeiSimOptions, startTeiSim } from '../index.js';

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

async function call(sim: TeiSim, path: string, body?: unknown, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers = init.headers ?? (body === undefined ? {} : { 'content-type': 'application/json' });
  const requestInit: RequestInit = { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers };
  if (body !== undefined) requestInit.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${sim.url}${path}`, requestInit);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** The items of a JSON list answer as raw text, so bytes can be compared. */
function stripList(text: string): string {
  expect(text.startsWith('[') && text.endsWith(']')).toBe(true);
  return text.slice(1, -1);
}

function teiError(message: string, type: string): string {
  return JSON.stringify({ error: message, error_type: type });
}

const sims: TeiSim[] = [];
async function sim(options: TeiSimOptions): Promise<TeiSim> {
  const started = await startTeiSim(options);
  sims.push(started);
  return started;
}

let embedding: TeiSim;
let strict: TeiSim;
let splade: TeiSim;
let classifier: TeiSim;
let reranker: TeiSim;
let secured: TeiSim;

beforeAll(async () => {
  embedding = await sim({ dimensions: 16 });
  strict = await sim({ dimensions: 16, maxInputLength: 16, autoTruncate: false, maxConcurrentRequests: 4, prompts: null, payloadLimit: 200 });
  splade = await sim({ model: 'splade' });
  classifier = await sim({ model: 'classifier', labels: ['negative', 'neutral', 'positive'], maxConcurrentRequests: 2 });
  reranker = await sim({ model: 'reranker' });
  secured = await sim({ dimensions: 4, apiKey: 'secret' });
});

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

describe('embedding routes', () => {
  it('answers /embed with one unit-length f32 vector per input', async () => {
    const single = await call(embedding, '/embed', { inputs: 'What is Deep Learning?' });
    expect(single.status).toBe(200);
    expect(single.headers.get('content-type')).toBe('application/json');
    const vectors = JSON.parse(single.text) as number[][];
    expect(vectors).toHaveLength(1);
    expect(vectors[0]).toHaveLength(16);
    const norm = Math.hypot(...(vectors[0] as number[]));
    expect(norm).toBeCloseTo(1, 5);
    // f32 values printed the shortest way that reads back as the same f32, like serde_json.
    expect(single.text).toBe(`[[${Array.from(Float32Array.from(vectors[0] as number[]), formatF32).join(',')}]]`);

    const batch = await call(embedding, '/embed', { inputs: ['a', [101, 1041, 102]] });
    expect(JSON.parse(batch.text)).toHaveLength(2);
  });

  it('gives the same bytes for an input alone or inside a batch', async () => {
    const texts = ['first text', 'second, longer text!', 'third'];
    const alone = await Promise.all(texts.map((t) => call(embedding, '/embed', { inputs: t })));
    const batch = await call(embedding, '/embed', { inputs: texts });
    expect(batch.text).toBe(`[${alone.map((a) => stripList(a.text)).join(',')}]`);
    const again = await call(embedding, '/embed', { inputs: texts[1] });
    expect(again.text).toBe(alone[1]?.text);
    // Parameters change the answer: normalize, dimensions, prompts, truncation.
    const raw = await call(embedding, '/embed', { inputs: texts[1], normalize: false });
    expect(raw.text).not.toBe(alone[1]?.text);
    const prompted = await call(embedding, '/embed', { inputs: texts[1], prompt_name: 'query' });
    expect(prompted.text).not.toBe(alone[1]?.text);
  });

  it('keeps the other batchable routes deterministic per item too', async () => {
    const texts = ['alpha beta', 'gamma'];
    for (const [server, path, body] of [
      [splade, '/embed_sparse', (inputs: unknown) => ({ inputs })],
      [embedding, '/embed_all', (inputs: unknown) => ({ inputs })],
    ] as const) {
      const alone = await Promise.all(texts.map((t) => call(server, path, body(t))));
      const batch = await call(server, path, body(texts));
      expect(batch.text).toBe(`[${alone.map((a) => stripList(a.text)).join(',')}]`);
    }
    const pairs = [
      ['q', 'a'],
      ['q', 'b'],
    ];
    const alone = await Promise.all(pairs.map((p) => call(classifier, '/predict', { inputs: p })));
    const batch = await call(classifier, '/predict', { inputs: pairs });
    expect(batch.text).toBe(`[${alone.map((a) => a.text).join(',')}]`);
  });

  it("answers /vertex instances with the model type's route", async () => {
    const answer = await call(embedding, '/vertex', { instances: [{ inputs: 'a' }, { inputs: ['b', 'c'] }] });
    const a = await call(embedding, '/embed', { inputs: 'a' });
    const bc = await call(embedding, '/embed', { inputs: ['b', 'c'] });
    expect(answer.text).toBe(`{"predictions":[${a.text},${bc.text}]}`);
    const bad = await call(embedding, '/vertex', { instances: [{ inputs: 'a' }, { text: 'b' }] });
    expect([bad.status, bad.text]).toEqual([422, teiError('missing field `inputs`', 'Validation')]);
  });

  it('treats token ids like the text they decode to', async () => {
    const tokens = JSON.parse((await call(embedding, '/tokenize', { inputs: 'hello world' })).text) as Array<Array<{ id: number }>>;
    const ids = (tokens[0] as Array<{ id: number }>).map((t) => t.id);
    const fromIds = await call(embedding, '/embed', { inputs: ids });
    const fromText = await call(embedding, '/embed', { inputs: 'hello world' });
    expect(fromIds.text).toBe(fromText.text);
  });

  it('truncates dimensions Matryoshka-style and renormalizes', async () => {
    const answer = await call(embedding, '/embed', { inputs: 'abc', dimensions: 4 });
    const vector = (JSON.parse(answer.text) as number[][])[0] as number[];
    expect(vector).toHaveLength(4);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    const full = (JSON.parse((await call(embedding, '/embed', { inputs: 'abc', normalize: false })).text) as number[][])[0] as number[];
    const prefix = (JSON.parse((await call(embedding, '/embed', { inputs: 'abc', normalize: false, dimensions: 4 })).text) as number[][])[0];
    expect(prefix).toEqual(full.slice(0, 4));
  });

  it('answers /embed_all with a vector per token and /similarity with one score per sentence', async () => {
    const all = await call(embedding, '/embed_all', { inputs: ['hello world', 'x'] });
    expect(all.status).toBe(200);
    const tokens = JSON.parse(all.text) as number[][][];
    expect(tokens.map((t) => t.length)).toEqual([6, 3]);
    expect(all.headers.get('x-compute-tokens')).toBe('9');

    const similarity = await call(embedding, '/similarity', { inputs: { source_sentence: 'a b', sentences: ['a b', 'c d'] } });
    const scores = JSON.parse(similarity.text) as number[];
    expect(scores).toHaveLength(2);
    expect(scores[0]).toBeCloseTo(1, 5);
  });

  it('answers the OpenAI route in its exact shape, floats and base64 alike', async () => {
    const floats = await call(embedding, '/v1/embeddings', { input: ['hello', 'world'], model: 'anything' });
    expect(floats.status).toBe(200);
    const embedAnswer = await call(embedding, '/embed', { inputs: ['hello', 'world'] });
    const [a, b] = stripList(embedAnswer.text)
      .split('],[')
      .map((s, i) => (i === 0 ? `${s}]` : `[${s}`));
    expect(floats.text).toBe(
      `{"object":"list","data":[{"object":"embedding","embedding":${a},"index":0},{"object":"embedding","embedding":${b},"index":1}],"model":"BAAI/bge-small-en-v1.5","usage":{"prompt_tokens":8,"total_tokens":8}}`,
    );
    const base64 = await call(embedding, '/embeddings', { input: ['hello', 'world'], encoding_format: 'base64' });
    const parsed = JSON.parse(base64.text) as { data: Array<{ embedding: string; index: number }> };
    const expected = JSON.parse(floats.text) as { data: Array<{ embedding: number[] }> };
    parsed.data.forEach((item, i) => {
      const bytes = Buffer.from(item.embedding, 'base64');
      const decoded = Array.from({ length: bytes.length / 4 }, (_, j) => bytes.readFloatLE(j * 4));
      expect(decoded).toEqual(expected.data[i]?.embedding.map(Math.fround));
      expect(item.index).toBe(i);
    });
  });

  it('answers /embed_sparse on a SPLADE model with sorted non-zero activations', async () => {
    const answer = await call(splade, '/embed_sparse', { inputs: ['hello world', 'x'] });
    expect(answer.status).toBe(200);
    const lists = JSON.parse(answer.text) as Array<Array<{ index: number; value: number }>>;
    expect(lists).toHaveLength(2);
    for (const list of lists) {
      expect(list.length).toBeGreaterThan(0);
      expect(Object.keys(list[0] as object)).toEqual(['index', 'value']);
      for (let i = 1; i < list.length; i += 1) expect((list[i] as { index: number }).index).toBeGreaterThan((list[i - 1] as { index: number }).index);
      for (const { value } of list) expect(value).toBeGreaterThan(0);
    }
    // /embed without normalization is the dense form.
    const dense = await call(splade, '/embed', { inputs: 'x', normalize: false });
    const vector = (JSON.parse(dense.text) as number[][])[0] as number[];
    expect(vector).toHaveLength(30522);
    for (const { index, value } of lists[1] ?? []) expect(vector[index]).toBe(value);
  });
});

describe('/predict and /rerank', () => {
  it('answers a flat list for single inputs and a list of lists for a batch', async () => {
    for (const inputs of ['s', ['s'], ['a', 'b']]) {
      const answer = await call(classifier, '/predict', { inputs });
      expect(answer.status).toBe(200);
      const predictions = JSON.parse(answer.text) as Array<{ score: number; label: string }>;
      expect(predictions.map((p) => p.label).sort()).toEqual(['negative', 'neutral', 'positive']);
      expect(Object.keys(predictions[0] as object)).toEqual(['score', 'label']);
      const scores = predictions.map((p) => p.score);
      expect([...scores].sort((x, y) => y - x)).toEqual(scores);
      expect(scores.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
    }
    const single = await call(classifier, '/predict', { inputs: 's' });
    const wrapped = await call(classifier, '/predict', { inputs: ['s'] });
    expect(wrapped.text).toBe(single.text);
    const pair = await call(classifier, '/predict', { inputs: ['a', 'b'] });
    const batch = await call(classifier, '/predict', { inputs: [['s'], ['a', 'b']] });
    expect(batch.text).toBe(`[${single.text},${pair.text}]`);
    const raw = JSON.parse((await call(classifier, '/predict', { inputs: 's', raw_scores: true })).text) as Array<{ score: number }>;
    expect(raw.reduce((x, p) => x + p.score, 0)).not.toBeCloseTo(1, 3);
  });

  it('rejects more than two strings in one predict input', async () => {
    const answer = await call(classifier, '/predict', { inputs: ['a', 'b', 'c'] });
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(answer.text).toMatch(/^Failed to deserialize the JSON body into the target type: inputs: invalid length 3, expected a string/);
  });

  it('ranks texts for a reranker, best first', async () => {
    const answer = await call(reranker, '/rerank', { query: 'q', texts: ['a', 'b', 'c'], return_text: true });
    expect(answer.status).toBe(200);
    const ranks = JSON.parse(answer.text) as Array<{ index: number; text: string; score: number }>;
    expect(ranks.map((r) => r.index).sort()).toEqual([0, 1, 2]);
    expect(Object.keys(ranks[0] as object)).toEqual(['index', 'text', 'score']);
    for (const r of ranks) expect(r.text).toBe(['a', 'b', 'c'][r.index]);
    const scores = ranks.map((r) => r.score);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    const withoutText = JSON.parse((await call(reranker, '/rerank', { query: 'q', texts: ['a'] })).text) as object[];
    expect(Object.keys(withoutText[0] as object)).toEqual(['index', 'score']);
  });
});

describe('/tokenize and /decode', () => {
  it('answers SimpleTokens with byte offsets and decodes them back', async () => {
    const answer = await call(embedding, '/tokenize', { inputs: 'Héllo world' });
    expect(answer.text).toBe(
      '[[{"id":101,"text":"[CLS]","special":true,"start":null,"stop":null},{"id":7210,"text":"Hél","special":false,"start":0,"stop":4},{"id":20755,"text":"lo","special":false,"start":4,"stop":6},{"id":17616,"text":"wor","special":false,"start":7,"stop":10},{"id":20744,"text":"ld","special":false,"start":10,"stop":12},{"id":102,"text":"[SEP]","special":true,"start":null,"stop":null}]]',
    );
    const ids = [101, 7210, 20755, 17616, 20744, 102];
    expect((await call(embedding, '/decode', { ids })).text).toBe('["hello world"]');
    expect((await call(embedding, '/decode', { ids: [ids, [1041]], skip_special_tokens: false })).text).toBe('["[CLS] hello world [SEP]","a"]');
    const bare = await call(embedding, '/tokenize', { inputs: ['a'], add_special_tokens: false });
    expect(bare.text).toBe('[[{"id":1041,"text":"a","special":false,"start":0,"stop":1}]]');
  });
});

describe('validation in TEI order with TEI messages', () => {
  const cases: Array<[string, () => TeiSim, string, unknown, number, string]> = [
    ['empty token ids', () => embedding, '/embed', { inputs: [] }, 400, teiError('Input validation error: `inputs` cannot be empty', 'Empty')],
    ['empty string', () => embedding, '/embed', { inputs: '' }, 400, teiError('Input validation error: `inputs` cannot be empty', 'Empty')],
    ['empty tokenize batch', () => embedding, '/tokenize', { inputs: [] }, 400, teiError('`inputs` cannot be empty', 'Empty')],
    ['empty decode ids', () => embedding, '/decode', { ids: [] }, 400, teiError('Input validation error: `input_ids` cannot be empty', 'Empty')],
    ['empty rerank texts', () => reranker, '/rerank', { query: 'q', texts: [] }, 400, teiError('`texts` cannot be empty', 'Empty')],
    [
      'empty similarity sentences',
      () => embedding,
      '/similarity',
      { inputs: { source_sentence: 'a', sentences: [] } },
      400,
      teiError('`inputs.sentences` cannot be empty', 'Empty'),
    ],
    [
      'batch size',
      () => embedding,
      '/embed',
      { inputs: Array(33).fill('a') },
      422,
      teiError('batch size 33 > maximum allowed batch size 32', 'Validation'),
    ],
    [
      'similarity batch size counts the source',
      () => embedding,
      '/similarity',
      { inputs: { source_sentence: 'a', sentences: Array(32).fill('b') } },
      422,
      teiError('batch size 33 > maximum allowed batch size 32', 'Validation'),
    ],
    [
      'too many tokens without auto-truncate',
      () => strict,
      '/embed',
      { inputs: 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen' },
      422,
      teiError('Input validation error: `inputs` must have less than 16 tokens. Given: 35', 'Validation'),
    ],
    [
      'too many tokens with truncate false',
      () => embedding,
      '/embed',
      { inputs: 'word '.repeat(600), truncate: false },
      422,
      teiError('Input validation error: `inputs` must have less than 512 tokens. Given: 1202', 'Validation'),
    ],
    [
      'dimensions 0',
      () => embedding,
      '/embed',
      { inputs: 'a', dimensions: 0 },
      422,
      teiError('Input validation error: `dimensions` should be positive', 'Validation'),
    ],
    [
      'dimensions above the model',
      () => embedding,
      '/embed',
      { inputs: 'a', dimensions: 17 },
      422,
      teiError('Input validation error: `dimensions` should be smaller than the maximum embedding dimension.', 'Validation'),
    ],
    [
      'unknown prompt',
      () => embedding,
      '/embed',
      { inputs: 'a', prompt_name: 'nope' },
      422,
      teiError(
        'Input validation error: `default-prompt-name` is set to `nope` but it was not found in the Sentence Transformers prompts. Available prompts: ["query", "passage"]',
        'Validation',
      ),
    ],
    [
      'prompt without prompts',
      () => strict,
      '/embed',
      { inputs: 'a', prompt_name: 'query' },
      422,
      teiError(
        'Input validation error: `default-prompt-name` is set to `query` but no prompts were found in the Sentence Transformers configuration',
        'Validation',
      ),
    ],
    [
      'predict on an embedding model',
      () => embedding,
      '/predict',
      { inputs: 'a' },
      424,
      teiError('Backend error: Model is not a classifier model', 'Backend'),
    ],
    [
      'embed_sparse on a dense model',
      () => embedding,
      '/embed_sparse',
      { inputs: 'a' },
      424,
      teiError('Backend error: Model is not an embedding model with SPLADE pooling', 'Backend'),
    ],
    [
      'embed_all on SPLADE',
      () => splade,
      '/embed_all',
      { inputs: 'a' },
      424,
      teiError('Backend error: `embed_all` is not available for SPLADE models', 'Backend'),
    ],
    [
      'normalize on SPLADE',
      () => splade,
      '/embed',
      { inputs: 'a' },
      424,
      teiError('Backend error: `normalize` is not available for SPLADE models', 'Backend'),
    ],
    [
      'embed on a classifier',
      () => classifier,
      '/embed',
      { inputs: 'a' },
      424,
      teiError('Backend error: Model is not an embedding model', 'Backend'),
    ],
    [
      'rerank on an embedding model',
      () => embedding,
      '/rerank',
      { query: 'q', texts: ['a'] },
      424,
      teiError('Backend error: model is not a re-ranker model', 'Backend'),
    ],
    ['permits are per item', () => strict, '/embed', { inputs: ['a', 'b', 'c', 'd', 'e'] }, 429, teiError('Model is overloaded', 'Overloaded')],
    [
      'predict permits are per item',
      () => classifier,
      '/predict',
      { inputs: [['a'], ['b'], ['c']] },
      429,
      teiError('Model is overloaded', 'Overloaded'),
    ],
    [
      'the first failing item in input order decides',
      () => embedding,
      '/embed',
      { inputs: ['fine', '', 'word '.repeat(600)], truncate: false },
      400,
      teiError('Input validation error: `inputs` cannot be empty', 'Empty'),
    ],
  ];

  it.each(cases)('%s', async (_name, server, path, body, status, text) => {
    const answer = await call(server(), path, body);
    expect(answer.status).toBe(status);
    expect(answer.text).toBe(text);
    expect(answer.headers.get('content-type')).toBe('application/json');
  });

  it('answers OpenAI errors in the OpenAI shape', async () => {
    const answer = await call(embedding, '/v1/embeddings', { input: Array(33).fill('a') });
    expect(answer.status).toBe(422);
    expect(answer.text).toBe('{"message":"batch size 33 > maximum allowed batch size 32","code":422,"type":"Validation"}');
  });

  it('truncates silently with auto-truncate, and the token count shows it', async () => {
    const answer = await call(embedding, '/embed', { inputs: 'word '.repeat(600) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-compute-tokens')).toBe('512');
  });
});

describe('the HTTP layer as axum answers it', () => {
  it('rejects bodies like the Json extractor, in plain text', async () => {
    const noType = await call(embedding, '/embed', '{"inputs":"a"}', { headers: {} });
    expect([noType.status, noType.text]).toEqual([415, 'Expected request with `Content-Type: application/json`']);
    const syntax = await call(embedding, '/embed', '{"inputs":');
    expect([syntax.status, syntax.text]).toEqual([
      400,
      'Failed to parse the request body as JSON: inputs: EOF while parsing a value at line 1 column 10',
    ]);
    const data = await call(embedding, '/embed', '{"input":"a"}');
    expect([data.status, data.text]).toEqual([
      422,
      'Failed to deserialize the JSON body into the target type: missing field `inputs` at line 1 column 13',
    ]);
    const large = await call(strict, '/embed', { inputs: 'x'.repeat(300) });
    expect([large.status, large.text]).toEqual([413, 'Failed to buffer the request body: length limit exceeded']);
    expect(large.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const suffixed = await call(embedding, '/embed', '{"inputs":"a"}', { headers: { 'content-type': 'application/vnd.api+json; charset=utf-8' } });
    expect(suffixed.status).toBe(200);
  });

  it('answers 404, 405 with allow, health, HEAD and CORS like axum and tower-http', async () => {
    const missing = await call(embedding, '/nope');
    expect([missing.status, missing.text]).toEqual([404, '']);
    const wrongMethod = await call(embedding, '/embed');
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'POST']);
    const health = await call(embedding, '/health');
    expect([health.status, health.text, health.headers.get('content-type')]).toEqual([200, '', null]);
    expect(health.headers.get('access-control-allow-origin')).toBe('*');
    const head = await call(embedding, '/info', undefined, { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);
    const preflight = await call(embedding, '/embed', undefined, { method: 'OPTIONS' });
    expect([preflight.status, preflight.headers.get('access-control-allow-methods')]).toEqual([200, 'GET,POST']);
    const metrics = await call(embedding, '/metrics');
    expect(metrics.text).toMatch(/^te_request_count\{method="single"\} \d+$/m);
  });

  it('sets TEI metadata headers on inference answers', async () => {
    const answer = await call(embedding, '/embed', { inputs: ['ab', 'cde'] });
    expect(answer.headers.get('x-compute-type')).toBe('gpu+optimized');
    expect(answer.headers.get('x-compute-characters')).toBe('5');
    expect(answer.headers.get('x-compute-tokens')).toBe('6');
    for (const name of ['x-compute-time', 'x-total-time', 'x-tokenization-time', 'x-queue-time', 'x-inference-time']) {
      expect(answer.headers.get(name)).toMatch(/^\d+$/);
    }
    const tokenize = await call(embedding, '/tokenize', { inputs: 'a' });
    expect(tokenize.headers.get('x-compute-type')).toBeNull();
  });

  it('serves /info with TEI field names and values', async () => {
    const info = JSON.parse((await call(classifier, '/info')).text) as Record<string, unknown>;
    expect(Object.keys(info)).toEqual([
      'model_id',
      'model_sha',
      'model_dtype',
      'served_model_name',
      'model_type',
      'max_concurrent_requests',
      'max_input_length',
      'max_batch_tokens',
      'max_batch_requests',
      'max_client_batch_size',
      'auto_truncate',
      'tokenization_workers',
      'version',
      'sha',
      'docker_label',
    ]);
    expect(info.model_type).toEqual({
      classifier: { id2label: { '0': 'negative', '1': 'neutral', '2': 'positive' }, label2id: { negative: 0, neutral: 1, positive: 2 } },
    });
    expect(info).toMatchObject({
      max_concurrent_requests: 2,
      max_input_length: 512,
      max_batch_tokens: 16384,
      max_client_batch_size: 32,
      auto_truncate: true,
    });
    const strictInfo = JSON.parse((await call(strict, '/info')).text) as Record<string, unknown>;
    expect(strictInfo).toMatchObject({ model_type: { embedding: { pooling: 'cls' } }, max_input_length: 16, auto_truncate: false });
  });

  it('guards the inference routes and /info with the API key, not health', async () => {
    for (const [path, body] of [
      ['/embed', { inputs: 'a' }],
      ['/info', undefined],
      ['/tokenize', { inputs: 'a' }],
    ] as const) {
      const denied = await call(secured, path, body);
      expect([denied.status, denied.text]).toEqual([401, '']);
      const wrong = await call(secured, path, body, { headers: { 'content-type': 'application/json', authorization: 'bearer secret' } });
      expect(wrong.status).toBe(401);
      const allowed = await call(secured, path, body, { headers: { 'content-type': 'application/json', authorization: 'Bearer secret' } });
      expect(allowed.status).toBe(200);
    }
    expect((await call(secured, '/health')).status).toBe(200);
    expect((await call(secured, '/metrics')).status).toBe(200);
  });
});

describe('cost model', () => {
  it('runs calls one at a time in FIFO order with one slot', async () => {
    const scheduler = new BackendScheduler(
      { perCallMs: 2, perItemMs: 1, slots: 1, merge: false },
      { maxBatchTokens: 100, maxBatchRequests: undefined },
    );
    const order: number[] = [];
    const runs = [3, 1, 2, 1].map((n, i) =>
      scheduler
        .run([{ tokens: 3 * n, weight: n }], () => false)
        .then((timings) => {
          order.push(i);
          return timings;
        }),
    );
    const timings = await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(scheduler.batchSizes).toEqual([3, 1, 2, 1]);
    // Each call costs perCallMs + perItemMs * n.
    expect(timings.map((t) => t[0]?.inferenceMs)).toEqual([5, 3, 4, 3]);
    scheduler.close();
  });

  it('merges queued items across calls up to max_batch_tokens when merging', async () => {
    const scheduler = new BackendScheduler(
      { perCallMs: 5, perItemMs: 0, slots: 1, merge: true },
      { maxBatchTokens: 10, maxBatchRequests: undefined },
    );
    const first = scheduler.run([{ tokens: 4, weight: 1 }], () => false);
    const rest = [1, 2, 3, 4].map(() => scheduler.run([{ tokens: 4, weight: 1 }], () => false));
    const cancelled = scheduler.run([{ tokens: 4, weight: 1 }], () => true);
    await Promise.all([first, ...rest, cancelled]);
    // The first call ran alone; the others queued meanwhile and went two by two (8 <= 10 tokens).
    expect(scheduler.batchSizes).toEqual([1, 2, 2]);
    scheduler.close();
  });

  it('counts one upstream call per HTTP call and answers every client', async () => {
    const costed = await sim({ dimensions: 8, cost: { perCallMs: 3, perItemMs: 0.5, slots: 1, merge: false } });
    const free = await sim({ dimensions: 8 });
    const inputs = Array.from({ length: 12 }, (_, i) => `text number ${i}`);
    const answers = await Promise.all(inputs.map((inputs) => call(costed, '/embed', { inputs })));
    const reference = await Promise.all(inputs.map((inputs) => call(free, '/embed', { inputs })));
    expect(answers.map((a) => a.text)).toEqual(reference.map((a) => a.text));
    expect(costed.stats.calls).toBe(12);
    expect(costed.stats.items).toBe(12);
    expect(costed.stats.callsByRoute).toEqual({ '/embed': 12 });
    expect(costed.stats.batchSizes).toEqual(Array(12).fill(1));
    expect(costed.stats.backendBatchSizes).toEqual(Array(12).fill(1));
    costed.resetStats();
    expect(costed.stats).toEqual({ calls: 0, items: 0, callsByRoute: {}, batchSizes: [], backendBatchSizes: [] });
  });

  it('merges concurrent calls into fewer backend batches in merge mode, with unchanged answers', async () => {
    const merged = await sim({ dimensions: 8, cost: { perCallMs: 20, perItemMs: 0, slots: 1, merge: true } });
    const free = await sim({ dimensions: 8 });
    const first = call(merged, '/embed', { inputs: 'the first one' });
    // Wait until the first call occupies the backend so the next ones queue behind it.
    while (merged.stats.backendBatchSizes.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const inputs = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? `text ${i}` : [`text ${i}`, 'other']));
    const answers = await Promise.all([first, ...inputs.map((inputs) => call(merged, '/embed', { inputs }))]);
    const reference = await Promise.all(['the first one', ...inputs].map((inputs) => call(free, '/embed', { inputs })));
    expect(answers.map((a) => a.text)).toEqual(reference.map((a) => a.text));
    expect(merged.stats.calls).toBe(11);
    const batches = merged.stats.backendBatchSizes;
    expect(batches.reduce((a, b) => a + b, 0)).toBe(16);
    expect(batches.length).toBeLessThan(11);
    expect(batches[0]).toBe(1);
  });
});
