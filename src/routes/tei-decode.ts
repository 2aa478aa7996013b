/**
 * TEI's /decode: `ids` is one list of token ids or a list of such lists; the answer is a list
 * with one string per list of ids, whichever form was sent.
 */
import { deserializeError, emptyInputError, type RuleError } from './errors.js';
import { listRule } from './list-rule.js';
import type { BatchRule, ReadInputs } from './rule.js';
import { isTokenIdList } from './tei-input.js';

function parseIds(value: unknown): ReadInputs | RuleError {
  const mismatch = deserializeError('ids: data did not match any variant of untagged enum InputIds');
  if (value === undefined) return deserializeError('missing field `ids`');
  if (!Array.isArray(value)) return mismatch;
  // Serde tries Single first: `[]` and an all-integer list are ONE list of ids.
  if (isTokenIdList(value)) {
    if (value.length === 0) return emptyInputError('`input_ids`');
    return { items: [JSON.stringify(value)], hasEmptyItem: false };
  }
  let hasEmptyItem = false;
  const items = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    if (!isTokenIdList(element)) return mismatch;
    if (element.length === 0) hasEmptyItem = true;
    items[i] = JSON.stringify(element);
  }
  return { items, hasEmptyItem };
}

export function decodeRule(): BatchRule {
  return listRule('/decode', 'ids', parseIds);
}
