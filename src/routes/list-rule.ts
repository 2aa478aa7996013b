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
import { isRuleError, notAnObject, type RuleError } from './errors.js';
import { assembleObjectAnswer, splitObjectAnswer, type ObjectAnswerShape } from './object-answer.js';
import { isPlainObject, type BatchRule, type ParsedRequest, type ReadInputs } from './rule.js';

export type { ReadInputs } from './rule.js';

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
      if (isRuleError(inputs)) return inputs;
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
