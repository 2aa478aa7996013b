/**
 * TEI's /predict. Its input has three shapes with two answer shapes:
 *   "s", ["s"], ["a","b"]   one sequence (a pair for two strings) -> a flat list of predictions
 *   [["s"], ["a","b"], ...]  a batch                               -> a list of such lists
 * Calls always use the batch shape; a client that sent one sequence gets its element back
 * unwrapped, so it sees the single shape TEI would have answered it.
 */
import { canonicalParams } from './canonical-json.js';
import { encodeListCall, joinJsonList, splitJsonList } from './json-list.js';
import { emptyInputError, isPlainObject, type BatchRule, type ItemAnswer, type ParsedRequest, type RuleError } from './rule.js';
import { deserializeError } from './tei-input.js';
import { notAnObject } from './tei-lists.js';

const INPUTS = new Set(['inputs']);
const EXPECTING =
  'a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]';

interface PredictInputs {
  items: string[];
  single: boolean;
  hasEmptyItem: boolean;
}

function isSequence(value: unknown): value is [string] | [string, string] {
  return Array.isArray(value) && (value.length === 1 || value.length === 2) && value.every((s) => typeof s === 'string');
}

function sequenceIsEmpty(sequence: readonly string[]): boolean {
  return sequence.every((text) => text === '');
}

function parsePredictInput(value: unknown): PredictInputs | RuleError {
  if (value === undefined) return deserializeError('missing field `inputs`');
  if (typeof value === 'string') {
    if (value === '') return emptyInputError('`inputs`');
    return { items: [JSON.stringify([value])], single: true, hasEmptyItem: false };
  }
  if (!Array.isArray(value)) return deserializeError(`inputs: invalid type: expected ${EXPECTING}`);
  if (value.length === 0) return deserializeError(`inputs: invalid length 0, expected ${EXPECTING}`);
  if (typeof value[0] === 'string') {
    // One sequence: a single string or a pair.
    if (value.length > 2) return deserializeError(`inputs: invalid length 3, expected ${EXPECTING}`);
    if (!value.every((s) => typeof s === 'string')) {
      return deserializeError('inputs: invalid type: expected a string');
    }
    const sequence = value as string[];
    if (sequenceIsEmpty(sequence)) return emptyInputError('`inputs`');
    return { items: [JSON.stringify(sequence)], single: true, hasEmptyItem: false };
  }
  const items = new Array<string>(value.length);
  let hasEmptyItem = false;
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    if (!isSequence(element)) {
      const length = Array.isArray(element) ? element.length : 0;
      return Array.isArray(element) && element.every((s) => typeof s === 'string')
        ? deserializeError(`inputs: invalid length ${length}, expected ${EXPECTING}`)
        : deserializeError('inputs: data did not match any variant of untagged enum Internal');
    }
    if (sequenceIsEmpty(element)) hasEmptyItem = true;
    items[i] = JSON.stringify(element);
  }
  return { items, single: false, hasEmptyItem };
}

export function predictRule(): BatchRule {
  return {
    path: '/predict',
    errorStyle: 'tei',
    parse(body: unknown): ParsedRequest | RuleError {
      if (!isPlainObject(body)) return notAnObject();
      const inputs = parsePredictInput(body.inputs);
      if ('status' in inputs) return inputs;
      const single = inputs.single;
      return {
        items: inputs.items,
        params: canonicalParams(body, INPUTS),
        solo: inputs.hasEmptyItem,
        assemble: (answers: readonly ItemAnswer[]) =>
          single ? Buffer.from(answers[0]!.bytes) : joinJsonList(answers),
      };
    },
    encodeCall: (params, items) => encodeListCall('inputs', params, items),
    splitAnswer: (body, items) => splitJsonList(body, items.length),
  };
}
