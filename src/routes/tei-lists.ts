/**
 * TEI's list routes: /embed, /embed_sparse, /embed_all (TEI's `Input`) and /tokenize (strings
 * only). Each input answers one element of a JSON list, so merging is concatenating inputs and
 * splitting is cutting the list; every other field must match to share a call.
 */
import { canonicalParams } from './canonical-json.js';
import { encodeListCall, joinJsonList, splitJsonList } from './json-list.js';
import {
  emptyError,
  emptyInputError,
  isPlainObject,
  type BatchRule,
  type ItemAnswer,
  type ParsedRequest,
  type RuleError,
} from './rule.js';
import { deserializeError, parseTeiInput, type ParsedInputs } from './tei-input.js';

const INPUTS = new Set(['inputs']);

export function notAnObject(): RuleError {
  return deserializeError('invalid type: expected a JSON object');
}

/** TEI's `TokenizeInput`: a string or a list of strings (no token ids). */
function parseTokenizeInput(value: unknown): ParsedInputs | RuleError {
  const mismatch = deserializeError('inputs: data did not match any variant of untagged enum TokenizeInput');
  if (value === undefined) return deserializeError('missing field `inputs`');
  if (typeof value === 'string') {
    if (value === '') return emptyInputError('`inputs`');
    return { items: [JSON.stringify(value)], hasEmptyItem: false };
  }
  if (!Array.isArray(value)) return mismatch;
  // An empty list is an empty batch, refused before tokenizing (no prefix).
  if (value.length === 0) return emptyError('`inputs` cannot be empty');
  let hasEmptyItem = false;
  const items = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    if (typeof element !== 'string') return mismatch;
    if (element === '') hasEmptyItem = true;
    items[i] = JSON.stringify(element);
  }
  return { items, hasEmptyItem };
}

function listRule(path: string, readInputs: (value: unknown) => ParsedInputs | RuleError): BatchRule {
  return {
    path,
    errorStyle: 'tei',
    parse(body: unknown): ParsedRequest | RuleError {
      if (!isPlainObject(body)) return notAnObject();
      const inputs = readInputs(body.inputs);
      if ('status' in inputs) return inputs;
      return {
        items: inputs.items,
        params: canonicalParams(body, INPUTS),
        solo: inputs.hasEmptyItem,
        assemble: (answers: readonly ItemAnswer[]) => joinJsonList(answers),
      };
    },
    encodeCall: (params, items) => encodeListCall('inputs', params, items),
    splitAnswer: (body, items) => splitJsonList(body, items.length),
  };
}

export function embedRule(path: '/embed' | '/embed_sparse' | '/embed_all'): BatchRule {
  return listRule(path, (value) => parseTeiInput(value, 'inputs'));
}

export function tokenizeRule(): BatchRule {
  return listRule('/tokenize', parseTokenizeInput);
}
