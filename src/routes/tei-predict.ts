/**
 * TEI's /predict. Its input has three shapes with two answer shapes:
 *   "s", ["s"], ["a","b"]   one sequence (a pair for two strings) -> a flat list of predictions
 *   [["s"], ["a","b"], ...]  a batch                               -> a list of such lists
 * Calls always use the batch shape; a client that sent one sequence gets its element back
 * unwrapped, so it sees the single shape TEI would have answered it.
 */
import { joinJsonList } from './json-list.js';
import { deserializeError, emptyInputError, type RuleError } from './errors.js';
import { listRule } from './list-rule.js';
import type { BatchRule, ItemAnswer, ReadInputs } from './rule.js';

const EXPECTING = 'a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]';

/** A client that sent one sequence gets its element itself, not a list of one. */
function unwrapSingle(answers: readonly ItemAnswer[]): Buffer {
  const bytes = answers[0]!.bytes;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isSequence(value: unknown): value is [string] | [string, string] {
  return Array.isArray(value) && (value.length === 1 || value.length === 2) && value.every((s) => typeof s === 'string');
}

function sequenceIsEmpty(sequence: readonly string[]): boolean {
  return sequence.every((text) => text === '');
}

function parsePredictInput(value: unknown): ReadInputs | RuleError {
  if (value === undefined) return deserializeError('missing field `inputs`');
  if (typeof value === 'string') {
    if (value === '') return emptyInputError('`inputs`');
    return { items: [JSON.stringify([value])], hasEmptyItem: false, assemble: unwrapSingle };
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
    return { items: [JSON.stringify(sequence)], hasEmptyItem: false, assemble: unwrapSingle };
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
  return { items, hasEmptyItem, assemble: joinJsonList };
}

/** `path` is /predict, or a root route serving it (see root-routes.ts). */
export function predictRule(path = '/predict'): BatchRule {
  return listRule(path, 'inputs', parsePredictInput);
}
