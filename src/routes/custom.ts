/**
 * Routes added with `--route`: a POST path whose JSON body holds the list of inputs in one
 * field, answered by a JSON list with one element per input, in order, or by a JSON object
 * holding that list in a named field (every other field of the answer is handed on as the
 * upstream wrote it; see object-answer.ts).
 *
 * Grammar: `PATH[:FIELD[:ANSWER]]`, e.g. `/v2/encode:texts` or `/api/embed:input:embeddings`.
 * FIELD defaults to `inputs`; without ANSWER the answer is the list itself. A path that holds a
 * colon itself (`/v1/models/m:predict`) is written with both fields, ANSWER possibly empty
 * (`/v1/models/m:predict:instances:`), since its last part would otherwise be read as FIELD.
 * Every other field of the body is a parameter: it must be equal for requests to share a call.
 */
import { deserializeError, emptyError, type RuleError } from './errors.js';
import { listRule } from './list-rule.js';
import type { CountPath } from './object-answer.js';
import type { BatchRule, ReadInputs } from './rule.js';

export interface CustomRouteSpec {
  path: string;
  field: string;
  /** The answer's field holding the list; undefined: the answer is the list. */
  answerField?: string;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Reads a `--route` value; throws an Error whose message says what is wrong. */
export function parseRouteSpec(text: string): CustomRouteSpec {
  const parts = text.split(':');
  let path = text;
  let field = 'inputs';
  let answerField: string | undefined;
  if (
    parts.length >= 3 &&
    FIELD_NAME.test(parts[parts.length - 2]!) &&
    (parts[parts.length - 1] === '' || FIELD_NAME.test(parts[parts.length - 1]!))
  ) {
    path = parts.slice(0, -2).join(':');
    field = parts[parts.length - 2]!;
    answerField = parts[parts.length - 1] === '' ? undefined : parts[parts.length - 1];
  } else if (parts.length >= 2) {
    path = parts.slice(0, -1).join(':');
    field = parts[parts.length - 1]!;
  }
  if (!path.startsWith('/') || /[\s?#]/.test(path)) {
    throw new Error(`route "${text}": the path must start with "/" and hold no spaces, "?" or "#"`);
  }
  if (!FIELD_NAME.test(field)) {
    throw new Error(`route "${text}": "${field}" is not a JSON field name (letters, digits, "_" and "-")`);
  }
  if (path.startsWith('/autobatch/')) throw new Error(`route "${text}": /autobatch/ paths are the proxy's own`);
  return answerField === undefined ? { path, field } : { path, field, answerField };
}

/** A custom route's inputs: a non-empty list, each element one input, whatever its JSON type. */
function readListField(field: string) {
  return (value: unknown): ReadInputs | RuleError => {
    if (value === undefined) return deserializeError(`missing field \`${field}\``);
    if (!Array.isArray(value)) return deserializeError(`${field}: invalid type: expected a list`);
    if (value.length === 0) return emptyError(`\`${field}\` cannot be empty`);
    return { items: value.map((element) => JSON.stringify(element) ?? 'null'), hasEmptyItem: false };
  };
}

export interface CustomRuleOptions {
  /** Reads the input field; default: a non-empty list whose elements are the inputs. */
  readInputs?: (value: unknown) => ReadInputs | RuleError;
  /** Counts of an object answer shared out per client (e.g. Ollama's `prompt_eval_count`). */
  counts?: readonly CountPath[];
}

export function customRule(spec: CustomRouteSpec, options: CustomRuleOptions = {}): BatchRule {
  const answer = spec.answerField === undefined ? undefined : { listField: spec.answerField, counts: options.counts ?? [] };
  return listRule(spec.path, spec.field, options.readInputs ?? readListField(spec.field), answer);
}
