/**
 * Routes added with `--route`: a POST path whose JSON body holds the list of inputs in one
 * field, answered by a JSON list with one element per input, in order.
 *
 * Grammar: `PATH[:FIELD]`, e.g. `/v2/encode:texts`. FIELD defaults to `inputs`. Every other
 * field of the body is a parameter: it must be equal for requests to share a call.
 */
import { deserializeError, emptyError } from './errors.js';
import { listRule } from './list-rule.js';
import type { BatchRule } from './rule.js';

export interface CustomRouteSpec {
  path: string;
  field: string;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Reads a `--route` value; throws an Error whose message says what is wrong. */
export function parseRouteSpec(text: string): CustomRouteSpec {
  const colon = text.lastIndexOf(':');
  const path = colon < 0 ? text : text.slice(0, colon);
  const field = colon < 0 ? 'inputs' : text.slice(colon + 1);
  if (!path.startsWith('/') || /[\s?#]/.test(path)) {
    throw new Error(`route "${text}": the path must start with "/" and hold no spaces, "?" or "#"`);
  }
  if (!FIELD_NAME.test(field)) {
    throw new Error(`route "${text}": "${field}" is not a JSON field name (letters, digits, "_" and "-")`);
  }
  if (path.startsWith('/autobatch/')) throw new Error(`route "${text}": /autobatch/ paths are the proxy's own`);
  return { path, field };
}

export function customRule(spec: CustomRouteSpec): BatchRule {
  return listRule(spec.path, spec.field, (value) => {
    if (value === undefined) return deserializeError(`missing field \`${spec.field}\``);
    if (!Array.isArray(value)) return deserializeError(`${spec.field}: invalid type: expected a list`);
    if (value.length === 0) return emptyError(`\`${spec.field}\` cannot be empty`);
    return { items: value.map((element) => JSON.stringify(element) ?? 'null'), hasEmptyItem: false };
  });
}
