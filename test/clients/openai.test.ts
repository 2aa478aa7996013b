/**
 * The `openai` npm package against a multi-model OpenAI-compatible upstream (sim/openai-compatible.ts),
 * directly and through the proxy: each client gets what the same call made directly gets (every
 * field, `id` and `created` included, as the upstream wrote them), float and base64 alike, with
 * fewer upstream calls than requests; `model` is sent on every call and never mixed; credentials
 * go with the call and never mix either.
 */
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { startOpenAiCompatibleSim, type OpenAiCompatibleSim } from '../../sim/openai-compatible.js';
import { post } from '../support/http.js';

const logger = createLogger('silent', 'json');
const MODELS = { 'text-embedding-3-small': 8, 'text-embedding-3-large': 12 } as const;

let sim: OpenAiCompatibleSim;
let proxy: RunningProxy;

beforeAll(async () => {
  sim = await startOpenAiCompatibleSim({ models: MODELS, created: () => 1_700_000_000 });
  // A hold long enough for concurrent requests to meet whatever the machine's load.
  proxy = await startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger, maxWaitMs: 50, maxBatchSize: 64, forwardHeader: ['x-tenant'] });
});

afterAll(async () => {
  await proxy?.close();
  await sim?.close();
});

const client = (base: string, apiKey = 'sk-test', extra: { organization?: string; project?: string } = {}) =>
  new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0, ...extra });

type Embeddings = Awaited<ReturnType<OpenAI['embeddings']['create']>>;

/** Everything but the per-call fields that a merged call cannot share: `id` (the call's) and `usage` (a share). */
function comparable(answer: Embeddings): unknown {
  const { id: _id, usage: _usage, ...rest } = answer as Embeddings & { id?: string };
  return rest;
}

describe('openai client, OpenAI-compatible multi-model upstream', () => {
  it('float and base64 (the SDK default) answers equal direct calls, with fewer upstream calls', async () => {
    const texts = Array.from({ length: 24 }, (_, i) => `sentence number ${i} ${'x'.repeat(i)}`);
    const requests = texts.map((text, i) => ({
      model: i % 2 === 0 ? 'text-embedding-3-small' : 'text-embedding-3-large',
      input: i % 3 === 0 ? [text, `${text} (second)`] : text,
      ...(i % 4 < 2 ? { encoding_format: 'float' as const } : {}),
    }));
    const direct = await Promise.all(requests.map((body) => client(sim.url).embeddings.create(body)));
    const before = sim.calls.length;
    const proxied = await Promise.all(requests.map((body) => client(proxy.url).embeddings.create(body)));
    const calls = sim.calls.slice(before);

    for (let i = 0; i < requests.length; i++) {
      expect(comparable(proxied[i]!)).toEqual(comparable(direct[i]!));
      expect(proxied[i]!.model).toBe(requests[i]!.model);
      // `id` and `created` reach the client as the upstream wrote them.
      expect(sim.ids.has((proxied[i] as Embeddings & { id: string }).id)).toBe(true);
      expect((proxied[i] as Embeddings & { created: number }).created).toBe(1_700_000_000);
    }
    // Usage is shared out: the clients' shares add up to what the upstream counted.
    const sum = (answers: Embeddings[]) => answers.reduce((total, a) => total + a.usage.prompt_tokens, 0);
    expect(sum(proxied)).toBe(sum(direct));
    // Batched: fewer calls than requests; each call names one model, and every text in it is that model's.
    expect(calls.length).toBeLessThan(requests.length);
    const modelOf = new Map(requests.flatMap((r) => (Array.isArray(r.input) ? r.input : [r.input]).map((t) => [t, r.model])));
    for (const call of calls) {
      expect(call.model).toBeDefined();
      for (const text of call.texts) expect(modelOf.get(text)).toBe(call.model);
    }
  });

  it('a lone request is answered byte for byte as the upstream answers it', async () => {
    for (const body of [
      { model: 'text-embedding-3-small', input: ['a', 'b c'] },
      { model: 'text-embedding-3-large', input: 'b', encoding_format: 'base64' },
      { input: 'no model' },
      { model: 'no-such-model', input: 'x' },
      { model: 'text-embedding-3-small', input: ['ok', ''] },
    ]) {
      const direct = await post(sim.url, '/v1/embeddings', body);
      const proxied = await post(proxy.url, '/v1/embeddings', body);
      expect({ status: proxied.status, body: proxied.text }).toEqual({ status: direct.status, body: direct.text });
    }
  });

  it('an unknown model gets the upstream 404 through the SDK', async () => {
    const error = await client(proxy.url)
      .embeddings.create({ model: 'no-such-model', input: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toContain('The model `no-such-model` does not exist.');
  });

  it('credentials and forwarded headers go with each call, and callers differing in them never share one', async () => {
    const callers = [
      { key: 'sk-a', organization: 'org-1', project: 'proj-1', tenant: 't1' },
      { key: 'sk-a', organization: 'org-1', project: 'proj-2', tenant: 't1' },
      { key: 'sk-b', organization: 'org-1', project: 'proj-1', tenant: 't1' },
      { key: 'sk-a', organization: 'org-1', project: 'proj-1', tenant: 't2' },
    ];
    const owner = new Map<string, (typeof callers)[number]>();
    const before = sim.calls.length;
    await Promise.all(
      Array.from({ length: 32 }, (_, i) => {
        const who = callers[i % callers.length]!;
        const text = `caller ${i % callers.length} text ${i}`;
        owner.set(text, who);
        const openai = new OpenAI({
          apiKey: who.key,
          organization: who.organization,
          project: who.project,
          baseURL: `${proxy.url}/v1`,
          maxRetries: 0,
          defaultHeaders: { 'x-tenant': who.tenant, 'x-not-forwarded': String(i) },
        });
        return openai.embeddings.create({ model: 'text-embedding-3-small', input: text });
      }),
    );
    const calls = sim.calls.slice(before);
    expect(calls.length).toBeLessThan(32);
    for (const call of calls) {
      const who = owner.get(call.texts[0]!)!;
      expect(call.headers.authorization).toBe(`Bearer ${who.key}`);
      expect(call.headers['openai-organization']).toBe(who.organization);
      expect(call.headers['openai-project']).toBe(who.project);
      expect(call.headers['x-tenant']).toBe(who.tenant);
      // Nothing else of a single client's: not its other headers, not its Accept-Encoding.
      expect(call.headers['x-not-forwarded']).toBeUndefined();
      expect(call.headers['accept-encoding']).toBeUndefined();
      for (const text of call.texts) expect(owner.get(text)).toBe(who);
    }
  });

  it('a body sent alone (one the proxy cannot take apart) carries the forwarded headers too', async () => {
    const before = sim.calls.length;
    const reply = await post(
      proxy.url,
      '/v1/embeddings',
      { model: 'text-embedding-3-small', input: 42 },
      { 'api-key': 'azure-key', 'x-tenant': 't7', 'x-not-forwarded': '1' },
    );
    expect(reply.status).toBe(400);
    const call = sim.calls[before]!;
    expect([call.headers['api-key'], call.headers['x-tenant'], call.headers['x-not-forwarded']]).toEqual(['azure-key', 't7', undefined]);
  });

  it('the api-key header (Azure OpenAI) goes with the call and splits batches', async () => {
    const before = sim.calls.length;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(proxy.url, '/v1/embeddings', { model: 'text-embedding-3-small', input: `azure ${i}` }, { 'api-key': `key-${i % 2}` }),
      ),
    );
    const calls = sim.calls.slice(before);
    for (const call of calls) {
      const keys = new Set(call.texts.map((text) => `key-${Number(text.split(' ')[1]) % 2}`));
      expect([...keys]).toEqual([call.headers['api-key']]);
    }
  });

  it('without a TEI /info, the log says which batch size is used and how to raise it', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const quiet = await startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger: pino({ level: 'warn' }, sink) });
    try {
      expect(quiet.maxBatchSize).toBe(32);
      const warning = lines
        .map((line) => JSON.parse(line) as { msg: string; maxBatchSize?: number })
        .find((line) => line.msg.includes('--max-batch-size'));
      expect(warning?.maxBatchSize).toBe(32);
      expect(warning?.msg).toContain('2048');
    } finally {
      await quiet.close();
    }
  });
});
