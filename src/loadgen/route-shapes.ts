// What a request to each TEI route looks like, and what a correct answer to it looks like.
//
// The bench checks every answer: a proxy that is fast because it answers wrongly (too few
// elements, another client's vector, an error object with status 200) must not look fast.
// The checks are shape checks, cheap enough to run on every answer without the load generator
// becoming the bottleneck (/embed's from the answer's bytes: number-lists.ts); they do not compare
// values with a reference.

import { numberListsShape } from './number-lists.js';

/** State shared by all answers of one target within a run (vectors must all have one width). */
export interface AnswerCheckState {
  vectorWidth?: number | undefined;
}

export interface RouteShape {
  /** Which family of answers the route gives, for reports. */
  readonly kind: RouteKind;
  /** The JSON request body for these texts (extra fields are merged at the top level). */
  buildBody(texts: readonly string[], extraFields: Readonly<Record<string, unknown>>): string;
  /** Undefined when `answer` is a correct answer to `inputCount` inputs, else what is wrong. */
  checkAnswer(answer: unknown, inputCount: number, state: AnswerCheckState): string | undefined;
  /**
   * Optional, from the answer's bytes before any parsing: true only when checkAnswer would find
   * nothing wrong (and with the same effect on `state`); false means "parse and check it".
   */
  vouchesFor?(body: Uint8Array, inputCount: number, state: AnswerCheckState): boolean;
}

export type RouteKind = 'embed' | 'embed_sparse' | 'embed_all' | 'tokenize' | 'predict' | 'openai_embeddings' | 'generic_list';

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Whether a vector of `width` numbers matches the run's first one (which sets the width). */
function widthMatches(state: AnswerCheckState, width: number): boolean {
  state.vectorWidth ??= width;
  return width === state.vectorWidth;
}

/** A non-empty list of finite numbers whose length matches the run's first such list. */
function checkVector(value: unknown, state: AnswerCheckState, what: string): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return `${what} is not a non-empty list of numbers`;
  for (let i = 0; i < value.length; i += 1) {
    if (!isFiniteNumber(value[i])) return `${what} holds a non-number at position ${i}`;
  }
  if (!widthMatches(state, value.length)) {
    return `${what} has ${value.length} numbers where earlier answers had ${state.vectorWidth}`;
  }
  return undefined;
}

/** A top-level JSON list with exactly one element per input, each passing `checkElement`. */
function checkList(answer: unknown, inputCount: number, checkElement: (element: unknown, index: number) => string | undefined): string | undefined {
  if (!Array.isArray(answer)) return 'answer is not a JSON list';
  if (answer.length !== inputCount) return `answer has ${answer.length} elements for ${inputCount} inputs`;
  for (let i = 0; i < answer.length; i += 1) {
    const problem = checkElement(answer[i], i);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function teiInputsBody(texts: readonly string[], extraFields: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ ...extraFields, inputs: texts });
}

const embedShape: RouteShape = {
  kind: 'embed',
  buildBody: teiInputsBody,
  checkAnswer: (answer, inputCount, state) => checkList(answer, inputCount, (element, i) => checkVector(element, state, `element ${i}`)),
  vouchesFor: (body, inputCount, state) => {
    const shape = numberListsShape(body);
    if (shape === undefined || shape.rows !== inputCount || shape.width === 0) return false;
    return widthMatches(state, shape.width);
  },
};

const embedSparseShape: RouteShape = {
  kind: 'embed_sparse',
  buildBody: teiInputsBody,
  checkAnswer: (answer, inputCount) =>
    checkList(answer, inputCount, (element, i) => {
      if (!Array.isArray(element)) return `element ${i} is not a list of {index, value}`;
      for (const entry of element as unknown[]) {
        const pair = entry as { index?: unknown; value?: unknown } | null;
        if (typeof pair !== 'object' || pair === null || !Number.isInteger(pair.index) || !isFiniteNumber(pair.value)) {
          return `element ${i} holds an entry that is not {index, value}`;
        }
      }
      return undefined;
    }),
};

const embedAllShape: RouteShape = {
  kind: 'embed_all',
  buildBody: teiInputsBody,
  checkAnswer: (answer, inputCount, state) =>
    checkList(answer, inputCount, (element, i) => {
      if (!Array.isArray(element) || element.length === 0) return `element ${i} is not a non-empty list of token vectors`;
      for (let t = 0; t < element.length; t += 1) {
        const problem = checkVector(element[t], state, `token ${t} of element ${i}`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }),
};

const tokenizeShape: RouteShape = {
  kind: 'tokenize',
  buildBody: teiInputsBody,
  checkAnswer: (answer, inputCount) =>
    checkList(answer, inputCount, (element, i) => {
      if (!Array.isArray(element)) return `element ${i} is not a list of tokens`;
      for (const token of element as unknown[]) {
        const t = token as { id?: unknown } | null;
        if (typeof t !== 'object' || t === null || !Number.isInteger(t.id)) return `element ${i} holds a token without an integer id`;
      }
      return undefined;
    }),
};

function checkPredictions(value: unknown, what: string): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return `${what} is not a non-empty list of {score, label}`;
  for (const entry of value as unknown[]) {
    const p = entry as { score?: unknown; label?: unknown } | null;
    if (typeof p !== 'object' || p === null || !isFiniteNumber(p.score) || typeof p.label !== 'string') {
      return `${what} holds an entry that is not {score, label}`;
    }
  }
  return undefined;
}

// /predict reads ["a","b"] as ONE pair, so several inputs go as [["a"],["b"]] (a batch, answered
// with a list of lists), and one input goes as the plain string a classification client sends
// (answered with a flat list of predictions).
const predictShape: RouteShape = {
  kind: 'predict',
  buildBody: (texts, extraFields) => JSON.stringify({ ...extraFields, inputs: texts.length === 1 ? texts[0] : texts.map((text) => [text]) }),
  checkAnswer: (answer, inputCount) =>
    inputCount === 1 ? checkPredictions(answer, 'answer') : checkList(answer, inputCount, (element, i) => checkPredictions(element, `element ${i}`)),
};

const openAiEmbeddingsShape: RouteShape = {
  kind: 'openai_embeddings',
  buildBody: (texts, extraFields) => JSON.stringify({ ...extraFields, input: texts }),
  checkAnswer: (answer, inputCount, state) => {
    const data = (answer as { data?: unknown } | null)?.data;
    if (typeof answer !== 'object' || answer === null || !Array.isArray(data)) return 'answer has no data list';
    if (data.length !== inputCount) return `data has ${data.length} elements for ${inputCount} inputs`;
    const seen = new Uint8Array(inputCount);
    for (let i = 0; i < data.length; i += 1) {
      const item = data[i] as { index?: unknown; embedding?: unknown } | null;
      if (typeof item !== 'object' || item === null) return `data[${i}] is not an object`;
      const index = item.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= inputCount || seen[index] === 1) {
        return `data[${i}].index is not a distinct integer in 0..${inputCount - 1}`;
      }
      seen[index] = 1;
      // encoding_format "base64" answers a string; anything else must be a vector.
      if (typeof item.embedding === 'string') {
        if (item.embedding.length === 0) return `data[${i}].embedding is an empty string`;
      } else {
        const problem = checkVector(item.embedding, state, `data[${i}].embedding`);
        if (problem !== undefined) return problem;
      }
    }
    return undefined;
  },
};

const genericListShape: RouteShape = {
  kind: 'generic_list',
  buildBody: teiInputsBody,
  checkAnswer: (answer, inputCount) => checkList(answer, inputCount, () => undefined),
};

const SHAPES_BY_PATH: ReadonlyMap<string, RouteShape> = new Map([
  ['/embed', embedShape],
  ['/embed_sparse', embedSparseShape],
  ['/embed_all', embedAllShape],
  ['/tokenize', tokenizeShape],
  ['/predict', predictShape],
  ['/v1/embeddings', openAiEmbeddingsShape],
  ['/embeddings', openAiEmbeddingsShape],
]);

/**
 * The shape for a route path. Unknown paths get `{"inputs": [...]}` and must answer a JSON list
 * with one element per input.
 */
export function routeShapeFor(route: string): RouteShape {
  const path = route.split('?')[0] ?? route;
  const normalised = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return SHAPES_BY_PATH.get(normalised) ?? genericListShape;
}
