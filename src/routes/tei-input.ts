/**
 * TEI's `Input` type, as its serde definition reads it: a string, a list of token ids (ONE
 * input), or a list whose elements are strings or lists of token ids.
 */
import { deserializeError, emptyInputError, type RuleError } from './errors.js';
import type { ReadInputs } from './rule.js';

const U32_MAX = 0xffff_ffff;

export function isTokenId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= U32_MAX;
}

/** A list of u32 token ids, the form TEI accepts for pre-tokenized inputs. */
export function isTokenIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isTokenId);
}

/**
 * Reads TEI's `Input` from `value` (the body's `field`). `[]` and `""` are answered with TEI's
 * own Empty error (the whole request is empty, nothing to batch).
 */
export function parseTeiInput(value: unknown, field: string, enumName = 'Input'): ReadInputs | RuleError {
  // Built only when needed: this runs for every request.
  const mismatch = (): RuleError => deserializeError(`${field}: data did not match any variant of untagged enum ${enumName}`);
  if (value === undefined) return deserializeError(`missing field \`${field}\``);
  if (typeof value === 'string') {
    if (value === '') return emptyInputError('`inputs`');
    return { items: [JSON.stringify(value)], hasEmptyItem: false };
  }
  if (!Array.isArray(value)) return mismatch();
  // Serde tries Single(Ids) first: `[]` and any all-integer list are ONE input of token ids,
  // so `[]` fails as an empty input, not as an empty batch.
  if (value.length === 0) return emptyInputError('`inputs`');
  if (value.every((element) => typeof element === 'number')) {
    if (!isTokenIdList(value)) return mismatch();
    return { items: [JSON.stringify(value)], hasEmptyItem: false };
  }
  const items = new Array<string>(value.length);
  let hasEmptyItem = false;
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    if (typeof element === 'string') {
      if (element === '') hasEmptyItem = true;
    } else if (isTokenIdList(element)) {
      if (element.length === 0) hasEmptyItem = true;
    } else {
      return mismatch();
    }
    items[i] = JSON.stringify(element);
  }
  return { items, hasEmptyItem };
}
