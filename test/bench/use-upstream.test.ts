/**
 * The USE-backed TEI-compatible upstream (bench/upstreams/use-tei.ts), on the real model:
 * TEI's shapes and errors, one model call per HTTP call, and how far batch answers can drift
 * from single answers on this model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUseTei, type UseTeiServer } from '../../bench/upstreams/use-tei.js';
import { loadUseModel } from '../../bench/upstreams/use-model.js';

let server: UseTeiServer;
let small: UseTeiServer;

beforeAll(async () => {
  server = await startUseTei({});
  small = await startUseTei({ maxClientBatchSize: 4, maxConcurrentRequests: 3 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await small?.close();
});

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  headers: Headers;
}

async function call(path: string, body: unknown, init: { raw?: string; contentType?: string | null; to?: UseTeiServer } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const contentType = init.contentType === undefined ? 'application/json' : init.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const res = await fetch((init.to ?? server).url + path, {
    method: 'POST',
    headers,
    body: init.raw ?? JSON.stringify(body),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text(), headers: res.headers };
}

async function embed(body: unknown): Promise<number[][]> {
  const reply = await call('/embed', body);
  expect(reply.status, reply.text).toBe(200);
  return JSON.parse(reply.text) as number[][];
}

function norm(v: readonly number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const FOX = 'The quick brown fox jumps over the lazy dog.';

describe('routes without inference', () => {
  it('answers /health, / and /ping with 200', async () => {
    for (const path of ['/health', '/', '/ping']) {
      const res = await fetch(server.url + path);
      expect(res.status).toBe(200);
    }
  });

  it("answers /info with TEI's Info fields", async () => {
    const res = await fetch(server.url + '/info');
    expect(res.status).toBe(200);
    const info = (await res.json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      model_type: { embedding: { pooling: 'mean' } },
      max_client_batch_size: 32,
      max_concurrent_requests: 512,
      max_input_length: 512,
      auto_truncate: true,
      model_dtype: 'float32',
    });
    for (const field of [
      'model_id',
      'model_sha',
      'served_model_name',
      'max_batch_tokens',
      'max_batch_requests',
      'tokenization_workers',
      'version',
      'sha',
      'docker_label',
    ]) {
      expect(info).toHaveProperty(field);
    }
    const smallInfo = (await (await fetch(small.url + '/info')).json()) as Record<string, unknown>;
    expect(smallInfo['max_client_batch_size']).toBe(4);
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    expect((await fetch(server.url + '/nope')).status).toBe(404);
    expect((await fetch(server.url + '/embed')).status).toBe(405);
  });
});

describe('POST /embed', () => {
  it('embeds one string into one 512-dimension unit vector of JSON numbers', async () => {
    const reply = await call('/embed', { inputs: 'hello world' });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(reply.headers.get('x-compute-tokens')).toBe('3');
    expect(reply.headers.get('x-compute-characters')).toBe('11');
    const vectors = JSON.parse(reply.text) as number[][];
    expect(vectors).toHaveLength(1);
    expect(vectors[0]).toHaveLength(512);
    expect(vectors[0]!.every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    expect(norm(vectors[0]!)).toBeCloseTo(1, 5);
    // f32 values written as TEI writes them (at most 9 significant digits), not as 17-digit doubles.
    expect(reply.text).not.toMatch(/\.0*[1-9]\d{9}/);
  });

  it('gives similar texts closer vectors than unrelated ones (a real model answers)', async () => {
    const [cat, kitten, stocks] = await embed({
      inputs: ['The cat sleeps on the sofa.', 'A kitten naps on the couch.', 'Quarterly earnings beat market expectations.'],
    });
    const cos = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(cos(cat!, kitten!)).toBeGreaterThan(cos(cat!, stocks!) + 0.1);
  });

  it('answers the same request with the same bytes', async () => {
    const a = await call('/embed', { inputs: [FOX, 'hello'] });
    const b = await call('/embed', { inputs: [FOX, 'hello'] });
    expect(a.text).toBe(b.text);
  });

  it('gives each text in a batch its single answer: exactly for equal lengths, within 1e-6 otherwise', async () => {
    const texts = [
      'hi',
      FOX,
      'A much longer sentence that goes on and on, with many words, commas, and clauses, so that its token count is far larger than the others.',
      '日本語のテキスト',
      'What is deep learning?',
      'emoji 😀',
    ];
    const singles: number[][] = [];
    for (const text of texts) singles.push((await embed({ inputs: text, normalize: false }))[0]!);
    const batch = await embed({ inputs: texts, normalize: false });
    let worst = 0;
    let exact = 0;
    texts.forEach((_, i) => {
      const diff = maxAbsDiff(batch[i]!, singles[i]!);
      worst = Math.max(worst, diff);
      if (diff === 0) exact++;
    });
    // Measured: some items (here "What is deep learning?" and "emoji 😀") differ by up to
    // about 1.6e-7 when a longer item pads the batch; the rest are bit-identical.
    console.info(`USE batch vs single: ${exact}/${texts.length} bit-identical, max |diff| ${worst}`);
    expect(worst).toBeLessThan(1e-6);

    const copies = await embed({ inputs: Array<string>(32).fill(FOX), normalize: false });
    const alone = singles[1]!;
    for (const row of copies) expect(row).toEqual(alone);
  });

  it('takes token ids of the model vocabulary as one item or in a batch', async () => {
    const model = await loadUseModel();
    const ids = model.tokenizer.encode('hello world');
    expect(ids).toEqual([2002, 102, 311]);
    const [fromText] = await embed({ inputs: 'hello world' });
    const [fromIds] = await embed({ inputs: ids });
    expect(fromIds).toEqual(fromText);
    const mixed = await embed({ inputs: [ids, 'hello world'] });
    expect(mixed).toHaveLength(2);
    expect(mixed[0]).toEqual(mixed[1]);
  });

  it('normalizes by default, can skip it, and cuts to `dimensions`', async () => {
    const [raw] = await embed({ inputs: FOX, normalize: false });
    const [normalized] = await embed({ inputs: FOX });
    // The graph ends in an L2 normalization, so both are unit vectors to f32 precision.
    expect(norm(raw!)).toBeCloseTo(1, 5);
    expect(maxAbsDiff(raw!, normalized!)).toBeLessThan(1e-6);
    const [cut] = await embed({ inputs: FOX, dimensions: 64 });
    expect(cut).toHaveLength(64);
    expect(norm(cut!)).toBeCloseTo(1, 5);
    const [cutRaw] = await embed({ inputs: FOX, dimensions: 64, normalize: false });
    expect(cutRaw).toEqual(raw!.slice(0, 64));
  });

  it('truncates long inputs by default and refuses them with truncate: false', async () => {
    const long = 'word '.repeat(600);
    const [cut] = await embed({ inputs: long });
    expect(cut).toHaveLength(512);
    const reply = await call('/embed', { inputs: long, truncate: false });
    expect(reply.status).toBe(422);
    expect(JSON.parse(reply.text)).toEqual({
      error: expect.stringMatching(/^Input validation error: `inputs` must have less than 512 tokens\. Given: \d+$/) as unknown,
      error_type: 'Validation',
    });
    const left = await call('/embed', { inputs: long, truncation_direction: 'Left' });
    expect(left.status).toBe(200);
  });

  it('counts one model call per HTTP call, also under concurrency', async () => {
    const before = { ...server.stats };
    const sizes = [1, 3, 1, 5, 2, 1];
    const replies = await Promise.all(sizes.map((n, i) => embed({ inputs: Array.from({ length: n }, (_, k) => `request ${i} item ${k}`) })));
    replies.forEach((vectors, i) => expect(vectors).toHaveLength(sizes[i]!));
    expect(server.stats.calls - before.calls).toBe(sizes.length);
    expect(server.stats.items - before.items).toBe(sizes.reduce((a, b) => a + b, 0));
  });
});

describe("TEI's errors", () => {
  const teiError = async (body: unknown, status: number, error: string, errorType: string, to?: UseTeiServer): Promise<void> => {
    const reply = await call('/embed', body, { to });
    expect(reply.status, reply.text).toBe(status);
    expect(reply.contentType).toBe('application/json');
    expect(JSON.parse(reply.text)).toEqual({ error, error_type: errorType });
  };

  it('answers empty input with 400 Empty', async () => {
    await teiError({ inputs: [] }, 400, 'Input validation error: `inputs` cannot be empty', 'Empty');
    await teiError({ inputs: '' }, 400, 'Input validation error: `inputs` cannot be empty', 'Empty');
    await teiError({ inputs: ['a', ''] }, 400, 'Input validation error: `inputs` cannot be empty', 'Empty');
    await teiError({ inputs: [[]] }, 400, 'Input validation error: `inputs` cannot be empty', 'Empty');
  });

  it('answers a batch over max_client_batch_size with 422 Validation', async () => {
    const before = server.stats.calls;
    await teiError({ inputs: Array<string>(33).fill('a') }, 422, 'batch size 33 > maximum allowed batch size 32', 'Validation');
    await teiError({ inputs: Array<string>(5).fill('a') }, 422, 'batch size 5 > maximum allowed batch size 4', 'Validation', small);
    expect(server.stats.calls).toBe(before);
  });

  it('answers bad parameters with 422 Validation', async () => {
    await teiError({ inputs: 'a', dimensions: 0 }, 422, 'Input validation error: `dimensions` should be positive', 'Validation');
    await teiError(
      { inputs: 'a', dimensions: 513 },
      422,
      'Input validation error: `dimensions` should be smaller than the maximum embedding dimension.',
      'Validation',
    );
    await teiError(
      { inputs: 'a', prompt_name: 'query' },
      422,
      'Input validation error: `default-prompt-name` is set to `query` but no prompts were found in the Sentence Transformers configuration',
      'Validation',
    );
    const outside = await call('/embed', { inputs: [5, 8000] });
    expect(outside.status).toBe(422);
    expect((JSON.parse(outside.text) as { error_type: string }).error_type).toBe('Validation');
  });

  it('answers more items in flight than max_concurrent_requests with 429 Overloaded', async () => {
    // TEI takes one permit per item, so a request with more items than permits never fits.
    const overloaded = await call('/embed', { inputs: ['a', 'b', 'c', 'd'] }, { to: small });
    expect(overloaded.status).toBe(429);
    expect(JSON.parse(overloaded.text)).toEqual({ error: 'Model is overloaded', error_type: 'Overloaded' });
    expect((await call('/embed', { inputs: ['a', 'b', 'c'] }, { to: small })).status).toBe(200);
  });

  it('answers HTTP-layer problems in plain text, as axum does', async () => {
    const noType = await call('/embed', { inputs: 'a' }, { contentType: null });
    expect(noType.status).toBe(415);
    const malformed = await call('/embed', undefined, { raw: '{"inputs": "a"' });
    expect(malformed.status).toBe(400);
    expect(malformed.text).toMatch(/^Failed to parse the request body as JSON/);
    for (const body of [
      { input: 'a' },
      { inputs: 5 },
      { inputs: [1.5] },
      { inputs: ['a', 1] },
      { inputs: 'a', normalize: 'yes' },
      { inputs: 'a', truncation_direction: 'up' },
      ['a'],
    ]) {
      const wrong = await call('/embed', body);
      expect(wrong.status, JSON.stringify(body)).toBe(422);
      expect(wrong.contentType).toMatch(/^text\/plain/);
      expect(wrong.text).toMatch(/^Failed to deserialize the JSON body into the target type/);
    }
    const huge = await call('/embed', { inputs: 'a'.repeat(2_000_001) });
    expect(huge.status).toBe(413);
  });
});

describe('POST /v1/embeddings (OpenAI shape)', () => {
  interface OpenAIReply {
    object: string;
    data: { object: string; embedding: number[] | string; index: number }[];
    model: string;
    usage: { prompt_tokens: number; total_tokens: number };
  }

  it('answers in OpenAI shape, with base64 of f32 little-endian equal to the floats', async () => {
    const input = ['hello world', FOX];
    const floats = await call('/v1/embeddings', { input, model: 'anything' });
    expect(floats.status).toBe(200);
    const f = JSON.parse(floats.text) as OpenAIReply;
    expect(f.object).toBe('list');
    expect(f.model).toBe('universal-sentence-encoder-lite');
    expect(f.usage.prompt_tokens).toBe(f.usage.total_tokens);
    expect(f.usage.prompt_tokens).toBeGreaterThan(3);
    expect(f.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);

    const b64 = await call('/embeddings', { input, encoding_format: 'base64' });
    expect(b64.status).toBe(200);
    const b = JSON.parse(b64.text) as OpenAIReply;
    expect(b.usage).toEqual(f.usage);
    b.data.forEach((d, i) => {
      const bytes = Buffer.from(d.embedding as string, 'base64');
      const decoded = Array.from({ length: bytes.length / 4 }, (_, k) => bytes.readFloatLE(4 * k));
      // Each JSON number is the shortest decimal of the f32 that base64 carries bit for bit.
      expect(decoded).toEqual((f.data[i]!.embedding as number[]).map((v) => Math.fround(v)));
    });
    // The same vectors as /embed gives.
    expect(await embed({ inputs: input })).toEqual(f.data.map((d) => d.embedding));
  });

  it("answers errors in OpenAI's error shape", async () => {
    const empty = await call('/v1/embeddings', { input: [] });
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text)).toEqual({ message: 'Input validation error: `inputs` cannot be empty', code: 400, type: 'Empty' });
    const tooMany = await call('/v1/embeddings', { input: Array<string>(33).fill('a') });
    expect(tooMany.status).toBe(422);
    expect(JSON.parse(tooMany.text)).toEqual({ message: 'batch size 33 > maximum allowed batch size 32', code: 422, type: 'Validation' });
    const badFormat = await call('/v1/embeddings', { input: 'a', encoding_format: 'hex' });
    expect(badFormat.status).toBe(422);
  });
});
