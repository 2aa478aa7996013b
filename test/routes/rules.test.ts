import { describe, expect, it } from 'vitest';
import { parseRouteSpec } from '../../src/routes/custom.js';
import { apportion } from '../../src/routes/openai-embeddings.js';
import { ruleTable } from '../../src/routes/registry.js';
import { isRuleError, type RuleError } from '../../src/routes/errors.js';
import type { BatchRule, ParsedRequest } from '../../src/routes/rule.js';

const rules = ruleTable([parseRouteSpec('/v2/encode:texts')]);
const rule = (path: string): BatchRule => rules.get(path)!;
const parse = (path: string, body: unknown): ParsedRequest | RuleError => rule(path).parse(body);
const ok = (path: string, body: unknown): ParsedRequest => {
  const parsed = parse(path, body);
  if (isRuleError(parsed)) throw new Error(`expected a parse, got ${parsed.message}`);
  return parsed;
};

describe('TEI Input (embed family, OpenAI)', () => {
  it('reads strings, lists, token ids and mixed lists as TEI does', () => {
    expect(ok('/embed', { inputs: 'a' }).items).toEqual(['"a"']);
    expect(ok('/embed', { inputs: ['a', 'b'] }).items).toEqual(['"a"', '"b"']);
    // A flat integer list is ONE input of token ids.
    expect(ok('/embed', { inputs: [101, 2023] }).items).toEqual(['[101,2023]']);
    expect(ok('/embed', { inputs: [[1, 2], [3]] }).items).toEqual(['[1,2]', '[3]']);
    expect(ok('/embed', { inputs: ['a', [1, 2]] }).items).toEqual(['"a"', '[1,2]']);
    expect(ok('/v1/embeddings', { input: 'a' }).items).toEqual(['"a"']);
  });

  it("answers TEI's Empty error for an empty request and sends lists with an empty input alone", () => {
    expect(parse('/embed', { inputs: [] })).toEqual({ status: 400, errorType: 'Empty', message: 'Input validation error: `inputs` cannot be empty' });
    expect(parse('/embed', { inputs: '' })).toEqual({ status: 400, errorType: 'Empty', message: 'Input validation error: `inputs` cannot be empty' });
    expect(ok('/embed', { inputs: ['a', ''] }).solo).toBe(true);
    expect(ok('/embed', { inputs: ['a', []] }).solo).toBe(true);
    expect(ok('/embed', { inputs: ['a'] }).solo).toBe(false);
  });

  it('refuses wrong types with 422', () => {
    for (const inputs of [5, null, { a: 1 }, [1, 'a'], [-1], [1.5], [2 ** 32], [['a']], [true]]) {
      expect(parse('/embed', { inputs })).toMatchObject({ status: 422, errorType: 'Validation' });
    }
    expect(parse('/embed', {})).toMatchObject({ status: 422, message: expect.stringContaining('missing field `inputs`') });
    expect(parse('/embed', [1])).toMatchObject({ status: 422 });
    expect(parse('/embed', 'text')).toMatchObject({ status: 422 });
  });

  it('canonicalises parameters so key order does not matter, and keeps them out of the items', () => {
    const a = ok('/embed', { inputs: 'x', normalize: false, truncate: true, extra: { b: 1, a: 2 } });
    const b = ok('/embed', { extra: { a: 2, b: 1 }, truncate: true, normalize: false, inputs: 'y' });
    expect(a.params).toBe(b.params);
    expect(a.params).toBe('"extra":{"a":2,"b":1},"normalize":false,"truncate":true');
    expect(rule('/embed').encodeCall(a.params, ['"x"', '"y"'])).toBe('{"inputs":["x","y"],"extra":{"a":2,"b":1},"normalize":false,"truncate":true}');
    expect(JSON.parse(rule('/embed').encodeCall('', ['"x"']) as string)).toEqual({ inputs: ['x'] });
  });

  it('keeps OpenAI model, user and encoding_format in the params (sent on the call, part of the batch key)', () => {
    const a = ok('/v1/embeddings', { input: 'x', model: 'm1', user: 'u1', encoding_format: 'base64' });
    expect(a.params).toBe('"encoding_format":"base64","model":"m1","user":"u1"');
    expect(ok('/v1/embeddings', { input: 'y', model: 'm2', encoding_format: 'base64', user: 'u1' }).params).not.toBe(a.params);
    expect(ok('/v1/embeddings', { input: 'y', model: 'm1', encoding_format: 'float', user: 'u1' }).params).not.toBe(a.params);
    expect(ok('/v1/embeddings', { user: 'u1', encoding_format: 'base64', input: ['y', 'z'], model: 'm1' }).params).toBe(a.params);
    expect(JSON.parse(rule('/v1/embeddings').encodeCall(a.params, ['"x"']) as string)).toEqual({
      input: ['x'],
      model: 'm1',
      user: 'u1',
      encoding_format: 'base64',
    });
  });
});

describe('/tokenize and /decode', () => {
  it('tokenize takes strings only', () => {
    expect(ok('/tokenize', { inputs: ['a', 'b'], add_special_tokens: false }).items).toEqual(['"a"', '"b"']);
    expect(parse('/tokenize', { inputs: [1, 2] })).toMatchObject({ status: 422 });
    expect(parse('/tokenize', { inputs: [] })).toMatchObject({ status: 400, errorType: 'Empty' });
  });

  it('decode reads one list of ids or a list of lists', () => {
    expect(ok('/decode', { ids: [1, 2] }).items).toEqual(['[1,2]']);
    expect(ok('/decode', { ids: [[1], [2, 3]] }).items).toEqual(['[1]', '[2,3]']);
    expect(parse('/decode', { ids: [] })).toEqual({
      status: 400,
      errorType: 'Empty',
      message: 'Input validation error: `input_ids` cannot be empty',
    });
    expect(ok('/decode', { ids: [[1], []] }).solo).toBe(true);
    expect(parse('/decode', { ids: 'a' })).toMatchObject({ status: 422 });
    expect(rule('/decode').encodeCall('"skip_special_tokens":false', ['[1]'])).toBe('{"ids":[[1]],"skip_special_tokens":false}');
  });
});

describe('/predict shapes', () => {
  const answer = (parsed: ParsedRequest, elements: string[]) => parsed.assemble(elements.map((e) => ({ bytes: Buffer.from(e) }))).toString();

  it('single string, one-element list and pair are single inputs answered flat', () => {
    for (const [inputs, item] of [
      ['s', '["s"]'],
      [['s'], '["s"]'],
      [['a', 'b'], '["a","b"]'],
    ] as const) {
      const parsed = ok('/predict', { inputs });
      expect(parsed.items).toEqual([item]);
      expect(answer(parsed, ['[{"score":0.9,"label":"x"}]'])).toBe('[{"score":0.9,"label":"x"}]');
    }
  });

  it('a list of sequences is a batch answered as a list of lists', () => {
    const parsed = ok('/predict', { inputs: [['a'], ['a', 'b']] });
    expect(parsed.items).toEqual(['["a"]', '["a","b"]']);
    expect(answer(parsed, ['[1]', '[2]'])).toBe('[[1],[2]]');
    const onePair = ok('/predict', { inputs: [['a', 'b']] });
    expect(answer(onePair, ['[1]'])).toBe('[[1]]');
  });

  it('refuses what TEI refuses', () => {
    for (const inputs of [[], ['a', 'b', 'c'], [['a', 'b', 'c']], [[]], ['a', 1], [['a'], 'b'], 5]) {
      expect(parse('/predict', { inputs })).toMatchObject({ status: 422 });
    }
    expect(parse('/predict', { inputs: '' })).toMatchObject({ status: 400, errorType: 'Empty' });
    expect(ok('/predict', { inputs: [['a'], ['']] }).solo).toBe(true);
  });
});

describe('OpenAI answers', () => {
  const upstream = Buffer.from(
    '{"object":"list","data":[{"object":"embedding","embedding":[0.1,0.2],"index":0},{"object":"embedding","embedding":"AAAA","index":1},{"object":"embedding","embedding":[0.5],"index":2}],"model":"org/model","usage":{"prompt_tokens":10,"total_tokens":10}}',
  );

  it('gives each client its own data, index from 0, model and usage', () => {
    const items = ['"aaaa"', '"b"', '"ccccc"'];
    const answers = rule('/v1/embeddings').splitAnswer(upstream, items)!;
    expect(answers).toHaveLength(3);
    const parsed = ok('/v1/embeddings', { input: ['b', 'ccccc'] });
    const body = JSON.parse(parsed.assemble(answers.slice(1)).toString()) as Record<string, unknown>;
    expect(body).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', embedding: 'AAAA', index: 0 },
        { object: 'embedding', embedding: [0.5], index: 1 },
      ],
      model: 'org/model',
      usage: { prompt_tokens: answers[1]!.counts![0]! + answers[2]!.counts![0]!, total_tokens: answers[1]!.counts![1]! + answers[2]!.counts![1]! },
    });
    expect(answers.reduce((sum, a) => sum + a.counts![0]!, 0)).toBe(10);
  });

  it('a client alone in its call gets exactly the upstream answer', () => {
    const items = ['"aaaa"', '"b"', '"ccccc"'];
    const parsed = ok('/v1/embeddings', { input: ['aaaa', 'b', 'ccccc'] });
    const answers = rule('/v1/embeddings').splitAnswer(upstream, items)!;
    expect(parsed.assemble(answers).toString()).toBe(upstream.toString());
  });

  it('refuses an answer with the wrong number of elements', () => {
    expect(rule('/v1/embeddings').splitAnswer(upstream, ['"a"', '"b"'])).toBeUndefined();
    expect(rule('/embed').splitAnswer(Buffer.from('[[1],[2]]'), ['"a"'])).toBeUndefined();
    expect(rule('/embed').splitAnswer(Buffer.from('{"error":"x"}'), ['"a"'])).toBeUndefined();
  });

  it('apportions usage so the shares add up to the total', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [0, 0])).toEqual([4, 3]);
    expect(apportion(0, [5])).toEqual([0]);
    expect(apportion(100, [1, 3])).toEqual([25, 75]);
  });
});

describe('custom routes', () => {
  it('parses PATH[:FIELD]', () => {
    expect(parseRouteSpec('/v2/encode')).toEqual({ path: '/v2/encode', field: 'inputs' });
    expect(parseRouteSpec('/v2/encode:texts')).toEqual({ path: '/v2/encode', field: 'texts' });
    for (const bad of ['v2', '/a b', '/x?y', '/x:', '/x:a.b', '/autobatch/x']) expect(() => parseRouteSpec(bad)).toThrow();
  });

  it('batches the named field and answers a list', () => {
    const parsed = ok('/v2/encode', { texts: ['a', { b: 1 }], lang: 'en' });
    expect(parsed.items).toEqual(['"a"', '{"b":1}']);
    expect(parsed.params).toBe('"lang":"en"');
    expect(rule('/v2/encode').encodeCall(parsed.params, parsed.items)).toBe('{"texts":["a",{"b":1}],"lang":"en"}');
    expect(parse('/v2/encode', { texts: 'a' })).toMatchObject({ status: 422 });
    expect(parse('/v2/encode', { texts: [] })).toMatchObject({ status: 400 });
  });
});
