/**
 * The batch key (src/routes/batch-key.ts) and what feeds it: requests share a call only when
 * path, parameters (model included), forwarded headers and length band are equal; solo requests
 * never share. Also the answer frame of object answers (object-answer.ts), the route grammar with
 * an answer field, the root routes' task from /info, and the --forward-header parser.
 */
import { describe, expect, it } from 'vitest';
import { collectHeaderNames } from '../../src/cli/parsers.js';
import { batchKey, forwardedHeaderNames, pickHeaders, type BatchKeyParts } from '../../src/routes/batch-key.js';
import { parseRouteSpec } from '../../src/routes/custom.js';
import { assembleObjectAnswer, splitObjectAnswer } from '../../src/routes/object-answer.js';
import { ruleTable } from '../../src/routes/registry.js';
import { rootTaskOf } from '../../src/routes/root-routes.js';
import { isRuleError } from '../../src/routes/errors.js';
import type { ParsedRequest } from '../../src/routes/rule.js';

const base: BatchKeyParts = {
  path: '/v1/embeddings',
  params: '"model":"a"',
  headers: [['authorization', 'Bearer k']],
  longestItemBytes: 10,
  bandFactor: undefined,
  solo: false,
};

describe('batchKey', () => {
  it('is equal exactly when path, params, headers and band are', () => {
    expect(batchKey({ ...base })).toBe(batchKey(base));
    for (const changed of [
      { path: '/embeddings' },
      { params: '"model":"b"' },
      { headers: [['authorization', 'Bearer other']] as const },
      { headers: [] },
      { headers: [['api-key', 'Bearer k']] as const },
      {
        headers: [
          ['authorization', 'Bearer k'],
          ['openai-project', 'p'],
        ] as const,
      },
    ]) {
      expect(batchKey({ ...base, ...changed })).not.toBe(batchKey(base));
    }
    // Without bands, length does not matter; with them, it does past the factor.
    expect(batchKey({ ...base, longestItemBytes: 1000 })).toBe(batchKey(base));
    expect(batchKey({ ...base, bandFactor: 2, longestItemBytes: 1000 })).not.toBe(batchKey({ ...base, bandFactor: 2 }));
    expect(batchKey({ ...base, bandFactor: 2, longestItemBytes: 11 })).toBe(batchKey({ ...base, bandFactor: 2 }));
  });

  it('a header value cannot forge another key', () => {
    const forged = batchKey({ ...base, params: '', headers: [['authorization', '"model":"a"']] });
    expect(forged).not.toBe(batchKey({ ...base, headers: [] }));
  });

  it('solo requests never share', () => {
    expect(batchKey({ ...base, solo: true })).not.toBe(batchKey({ ...base, solo: true }));
  });

  it('forwards the default credentials plus the named headers, repeated values joined', () => {
    const names = forwardedHeaderNames(['X-Tenant', 'authorization']);
    expect(names).toEqual(['api-key', 'authorization', 'openai-organization', 'openai-project', 'x-tenant']);
    expect(pickHeaders({ authorization: 'Bearer k', 'x-tenant': ['a', 'b'], 'x-other': 'no', 'content-length': '5' }, names)).toEqual([
      ['authorization', 'Bearer k'],
      ['x-tenant', 'a, b'],
    ]);
  });

  it('--forward-header takes names, comma lists, and refuses what describes the call itself', () => {
    expect(collectHeaderNames('X-Api-Key, x-tenant', ['a'])).toEqual(['a', 'x-api-key', 'x-tenant']);
    for (const bad of ['', 'content-length', 'Host', 'bad header', 'Transfer-Encoding']) expect(() => collectHeaderNames(bad)).toThrow();
  });
});

describe('object answers', () => {
  // vLLM's order: fields before and after `data`, usage with more than the two counts.
  const upstream = Buffer.from(
    '{"id":"embd-1","object":"list","created":17,"model":"m","data":[{"object":"embedding","index":0,"embedding":[1]},{"object":"embedding","index":1,"embedding":"AAAA"},{"object":"embedding","index":2,"embedding":[3]}],"usage":{"prompt_tokens":9,"total_tokens":9,"completion_tokens":0,"prompt_tokens_details":null},"extra":{"x":[1,2]}}',
  );
  const rules = ruleTable([]);
  const openai = rules.get('/v1/embeddings')!;

  it('a client alone gets the upstream bytes exactly', () => {
    const parsed = openai.parse({ input: ['aa', 'b', 'ccc'], model: 'm' }) as ParsedRequest;
    expect(parsed.assemble(openai.splitAnswer(upstream, parsed.items)!).toString()).toBe(upstream.toString());
  });

  it('clients of a merged call keep every field, get their own elements re-indexed and their share of the counts', () => {
    const answers = openai.splitAnswer(upstream, ['"aa"', '"b"', '"ccc"'])!;
    const mine = JSON.parse(assembleObjectAnswer(answers.slice(1)).toString()) as Record<string, unknown>;
    expect(mine).toEqual({
      id: 'embd-1',
      object: 'list',
      created: 17,
      model: 'm',
      data: [
        { object: 'embedding', index: 0, embedding: 'AAAA' },
        { object: 'embedding', index: 1, embedding: [3] },
      ],
      usage: { prompt_tokens: 6, total_tokens: 6, completion_tokens: 0, prompt_tokens_details: null },
      extra: { x: [1, 2] },
    });
    const first = JSON.parse(assembleObjectAnswer(answers.slice(0, 1)).toString()) as { usage: { prompt_tokens: number } };
    expect(first.usage.prompt_tokens).toBe(3);
  });

  it('refuses an answer without the list or with the wrong count; leaves a missing count alone', () => {
    const shape = { listField: 'embeddings', counts: [['prompt_eval_count']] as const };
    expect(splitObjectAnswer(shape, Buffer.from('{"model":"m"}'), ['"a"'])).toBeUndefined();
    expect(splitObjectAnswer(shape, Buffer.from('{"embeddings":[[1]]}'), ['"a"', '"b"'])).toBeUndefined();
    expect(splitObjectAnswer(shape, Buffer.from('[[1]]'), ['"a"'])).toBeUndefined();
    const answers = splitObjectAnswer(shape, Buffer.from('{"model":"m","embeddings":[[1],[2]],"prompt_eval_count":"n/a"}'), ['"a"', '"b"'])!;
    expect(assembleObjectAnswer(answers.slice(1)).toString()).toBe('{"model":"m","embeddings":[[2]],"prompt_eval_count":"n/a"}');
  });
});

describe('Ollama /api/embed rule', () => {
  const rule = ruleTable([]).get('/api/embed')!;
  it('keeps model and options as parameters; sends odd inputs alone', () => {
    const parsed = rule.parse({ model: 'm', input: 'x', options: { num_ctx: 8 } }) as ParsedRequest;
    expect(parsed.items).toEqual(['"x"']);
    expect(parsed.params).toBe('"model":"m","options":{"num_ctx":8}');
    expect(rule.encodeCall(parsed.params, ['"x"', '"y"'])).toBe('{"input":["x","y"],"model":"m","options":{"num_ctx":8}}');
    for (const body of [
      { model: 'm', input: '' },
      { model: 'm', input: [] },
      { model: 'm', input: [1] },
      { input: 'x' },
      { model: 5, input: 'x' },
      { model: 'm' },
    ]) {
      expect(isRuleError(rule.parse(body))).toBe(true);
    }
    expect((rule.parse({ model: 'm', input: ['a', ''] }) as ParsedRequest).solo).toBe(true);
  });
});

describe('--route with an answer field', () => {
  it('reads PATH[:FIELD[:ANSWER]]', () => {
    expect(parseRouteSpec('/api/embed:input:embeddings')).toEqual({ path: '/api/embed', field: 'input', answerField: 'embeddings' });
    expect(parseRouteSpec('/v2/encode:texts')).toEqual({ path: '/v2/encode', field: 'texts' });
    expect(parseRouteSpec('/v1/models/m:predict:instances:predictions')).toEqual({
      path: '/v1/models/m:predict',
      field: 'instances',
      answerField: 'predictions',
    });
    expect(parseRouteSpec('/v1/models/m:predict:instances:')).toEqual({ path: '/v1/models/m:predict', field: 'instances' });
    expect(() => parseRouteSpec('/x:a:b.c')).toThrow();
  });
});

describe('root routes', () => {
  it('take the task from /info model_type', () => {
    expect(rootTaskOf({ model_type: { embedding: { pooling: 'cls' } } })).toBe('embed');
    expect(rootTaskOf({ model_type: { embedding: { pooling: 'splade' } } })).toBe('embed_sparse');
    expect(rootTaskOf({ model_type: { classifier: { id2label: {} } } })).toBe('predict');
    expect(rootTaskOf({ model_type: { reranker: { id2label: {} } } })).toBe('rerank');
    expect(rootTaskOf({ model_type: 'embedding' })).toBeUndefined();
    expect(rootTaskOf(undefined)).toBeUndefined();
    expect([...ruleTable([], 'embed').keys()]).toEqual(expect.arrayContaining(['/', '/invocations']));
    for (const task of ['rerank', undefined] as const) expect(ruleTable([], task).has('/')).toBe(false);
  });
});
