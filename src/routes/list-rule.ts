/**
 * The shape most batchable routes share: a JSON object whose `field` holds the list of inputs,
 * answered by a JSON list with one element per input. Merging is concatenating inputs and
 * splitting is cutting the list; every other field is a parameter that must match to share a
 * call. A route of this shape is a field name and a reader for its inputs. The answer may also be
 * an object holding that list in a named field beside call-wide fields (Ollama's /api/embed):
 * then each client gets the object with its own elements (object-answer.ts).
 */
import { canonicalParams } from './canonical-json.js';
import { encodeListCall, joinJsonList, splitJsonList } from './json-list.js';
import { assembleObjectAnswer, splitObjectAnswer, type ObjectAnswerShape } from './object-answer.js';
import { isPlainObject, type BatchRule, type ItemAnswer, type ParsedRequest, type RuleError } from './rule.js';
import { notAnObject } from './tei-input.js';

export interface ReadInputs {
  /** JSON text of each input. */
  items: string[];
  /** Some input is empty: the request is sent alone (see ParsedRequest.solo). */
  hasEmptyItem: boolean;
  /** The client's answer from its elements; default: the list of them. */
  assemble?: (answers: readonly ItemAnswer[]) => Buffer;
}

export function listRule(
  path: string,
  field: string,
  readInputs: (value: unknown) => ReadInputs | RuleError,
  /** The answer is an object of this shape; undefined: the answer is the list itself. */
  answer?: ObjectAnswerShape,
): BatchRule {
  const assembleDefault = answer === undefined ? joinJsonList : assembleObjectAnswer;
  const notParams = new Set([field]);
  return {
    path,
    errorStyle: 'tei',
    parse(body: unknown): ParsedRequest | RuleError {
      if (!isPlainObject(body)) return notAnObject();
      const inputs = readInputs(body[field]);
      if ('status' in inputs) return inputs;
      return {
        items: inputs.items,
        params: canonicalParams(body, notParams),
        solo: inputs.hasEmptyItem,
        assemble: inputs.assemble ?? assembleDefault,
      };
    },
    encodeCall: (params, items) => encodeListCall(field, params, items),
    splitAnswer: (body, items) => (answer === undefined ? splitJsonList(body, items.length) : splitObjectAnswer(answer, body, items)),
  };
}
