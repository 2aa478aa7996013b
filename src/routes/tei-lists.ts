/**
 * TEI's list routes: /embed, /embed_sparse, /embed_all (TEI's `Input`) and /tokenize (strings
 * only).
 */
import { deserializeError, emptyError, emptyInputError, type RuleError } from './errors.js';
import { listRule } from './list-rule.js';
import type { BatchRule, ReadInputs } from './rule.js';
import { parseTeiInput } from './tei-input.js';

/** TEI's `TokenizeInput`: a string or a list of strings (no token ids). */
function parseTokenizeInput(value: unknown): ReadInputs | RuleError {
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

/** `path` is /embed, /embed_sparse or /embed_all, or a root route serving one of them (see root-routes.ts). */
export function embedRule(path: string): BatchRule {
  return listRule(path, 'inputs', (value) => parseTeiInput(value, 'inputs'));
}

export function tokenizeRule(): BatchRule {
  return listRule('/tokenize', 'inputs', parseTokenizeInput);
}
