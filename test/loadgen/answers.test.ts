import { describe, expect, it } from 'vitest';
import { resolveBenchOptions } from '../../src/loadgen/bench-options.js';
import { BUILT_IN_CORPUS } from '../../src/loadgen/corpus.js';
import { routeShapeFor, type AnswerCheckState } from '../../src/loadgen/route-shapes.js';
import { prepareRequests } from '../../src/loadgen/run-bench.js';

const vector = (width: number, seed = 1): number[] => Array.from({ length: width }, (_, i) => (i + seed) / width);

function check(route: string, answer: unknown, inputCount: number, state: AnswerCheckState = {}): string | undefined {
  return routeShapeFor(route).checkAnswer(answer, inputCount, state);
}

describe('request bodies per route', () => {
  it('send a list of n texts in "inputs" to TEI routes and in "input" to OpenAI routes', () => {
    for (const route of ['/embed', '/embed_sparse', '/embed_all', '/tokenize', '/rerank_like/custom']) {
      expect(JSON.parse(routeShapeFor(route).buildBody(['a', 'b'], { truncate: true }))).toEqual({ inputs: ['a', 'b'], truncate: true });
    }
    for (const route of ['/v1/embeddings', '/embeddings', '/embeddings/']) {
      expect(JSON.parse(routeShapeFor(route).buildBody(['a'], {}))).toEqual({ input: ['a'] });
    }
  });

  it('send /predict batches as [[text], ...] (a flat pair would be ONE input) and one input as a string', () => {
    const shape = routeShapeFor('/predict');
    expect(JSON.parse(shape.buildBody(['a', 'b'], {}))).toEqual({ inputs: [['a'], ['b']] });
    expect(JSON.parse(shape.buildBody(['a'], {}))).toEqual({ inputs: 'a' });
  });

  it('never let an extra body field replace the inputs', () => {
    expect(JSON.parse(routeShapeFor('/embed').buildBody(['a'], { inputs: 'x' }))).toEqual({ inputs: ['a'] });
  });

  it('are prepared once, cycling through the texts n at a time', () => {
    const options = resolveBenchOptions({ url: 'http://127.0.0.1:1', texts: ['t0', 't1', 't2'], inputsPerRequest: 2 });
    const requests = prepareRequests(options, routeShapeFor('/embed'));
    expect(requests.map((request) => JSON.parse(request.body.toString()).inputs)).toEqual([
      ['t0', 't1'],
      ['t2', 't0'],
      ['t1', 't2'],
    ]);
    expect(requests.every((request) => request.inputCount === 2)).toBe(true);
  });
});

describe('answer checks', () => {
  it('accept a TEI /embed answer with one vector per input', () => {
    expect(check('/embed', [vector(4), vector(4, 2)], 2)).toBeUndefined();
  });

  it('reject a wrong element count, a non-list, an error object and non-number elements', () => {
    expect(check('/embed', [vector(4)], 2)).toMatch(/1 elements for 2 inputs/);
    expect(check('/embed', [vector(4), vector(4), vector(4)], 2)).toMatch(/3 elements/);
    expect(check('/embed', { error: 'Model is overloaded', error_type: 'Overloaded' }, 1)).toMatch(/not a JSON list/);
    expect(check('/embed', [[0.1, 'x']], 1)).toMatch(/non-number/);
    expect(check('/embed', [[]], 1)).toMatch(/non-empty/);
    expect(check('/embed', [null], 1)).toBeDefined();
  });

  it('reject vectors whose width differs from the earlier answers of the run', () => {
    const state: AnswerCheckState = {};
    expect(check('/embed', [vector(8)], 1, state)).toBeUndefined();
    expect(check('/embed', [vector(8)], 1, state)).toBeUndefined();
    expect(check('/embed', [vector(4)], 1, state)).toMatch(/4 numbers where earlier answers had 8/);
  });

  it('check /embed_sparse, /embed_all and /tokenize elements', () => {
    expect(check('/embed_sparse', [[{ index: 3, value: 0.5 }], []], 2)).toBeUndefined();
    expect(check('/embed_sparse', [[{ index: 'a', value: 0.5 }]], 1)).toMatch(/not \{index, value\}/);
    expect(check('/embed_all', [[vector(4), vector(4)]], 1)).toBeUndefined();
    expect(check('/embed_all', [vector(4)], 1)).toBeDefined();
    const token = { id: 101, text: '[CLS]', special: true, start: null, stop: null };
    expect(check('/tokenize', [[token], [token, token]], 2)).toBeUndefined();
    expect(check('/tokenize', [[{ text: 'x' }]], 1)).toMatch(/integer id/);
    expect(check('/tokenize', [[token]], 2)).toMatch(/1 elements for 2 inputs/);
  });

  it('check /predict in its single shape and its batch shape', () => {
    const predictions = [
      { score: 0.9, label: 'positive' },
      { score: 0.1, label: 'negative' },
    ];
    expect(check('/predict', predictions, 1)).toBeUndefined();
    expect(check('/predict', [predictions, predictions], 2)).toBeUndefined();
    expect(check('/predict', [predictions], 2)).toMatch(/1 elements for 2 inputs/);
    expect(check('/predict', [predictions], 1)).toMatch(/answer holds an entry that is not \{score, label\}/);
    expect(check('/predict', [{ score: 0.5 }], 1)).toMatch(/\{score, label\}/);
  });

  it('check OpenAI answers: data length and every index 0..n-1 once', () => {
    const item = (index: number) => ({ object: 'embedding', embedding: vector(4), index });
    const answer = (...items: unknown[]) => ({ object: 'list', data: items, model: 'm', usage: { prompt_tokens: 2, total_tokens: 2 } });
    expect(check('/v1/embeddings', answer(item(0), item(1)), 2)).toBeUndefined();
    expect(check('/v1/embeddings', answer(item(1), item(0)), 2)).toBeUndefined();
    expect(check('/v1/embeddings', answer(item(0)), 2)).toMatch(/data has 1 elements for 2 inputs/);
    expect(check('/v1/embeddings', answer(item(0), item(0)), 2)).toMatch(/index/);
    expect(check('/v1/embeddings', answer(item(0), item(2)), 2)).toMatch(/index/);
    expect(check('/embeddings', answer({ embedding: 'AAAA', index: 0 }), 1)).toBeUndefined();
    expect(check('/embeddings', [vector(4)], 1)).toMatch(/no data list/);
  });

  it('accept any list with one element per input on other routes', () => {
    expect(check('/custom', ['x', { y: 1 }], 2)).toBeUndefined();
    expect(check('/custom', ['x'], 2)).toMatch(/1 elements for 2 inputs/);
  });
});

describe('built-in corpus', () => {
  it('holds a few hundred distinct texts of mixed length, each on one line', () => {
    expect(BUILT_IN_CORPUS.length).toBeGreaterThanOrEqual(200);
    expect(new Set(BUILT_IN_CORPUS).size).toBe(BUILT_IN_CORPUS.length);
    const words = BUILT_IN_CORPUS.map((text) => text.split(/\s+/).length);
    expect(Math.min(...words)).toBeLessThanOrEqual(2);
    expect(Math.max(...words)).toBeGreaterThanOrEqual(150);
    expect(BUILT_IN_CORPUS.every((text) => text.length > 0 && !text.includes('\n'))).toBe(true);
  });
});
