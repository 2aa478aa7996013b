/**
 * A client's body read into what the batching core needs: the rule's reading of it (parameters,
 * how to assemble the answer) and each input's text as a call will carry it. Everything that can
 * be wrong with a body is found here, in the order TEI's JSON extractor and handler would find
 * it, as the error the proxy answers when the upstream cannot word it (the handler sends such a
 * body alone first: see batch-handler.ts).
 *
 * A big body is read with stand-ins for its long strings (src/json/stand-ins.ts): its inputs are
 * then views of its own bytes, held once and never copied, where JSON.parse and the rule's
 * JSON.stringify made short-lived copies of each (issue 12: docs/memory.md). The rule reads the
 * same structure either way, and its every answer about a body (its errors included) depends on
 * structure, types and empty strings only, which stand-ins keep; should a stand-in end up
 * anywhere but as an input of its own (a long parameter, a pair of /predict strings), the body
 * is read whole instead, as every body used to be.
 */
import { duplicateKey } from '../json/scan.js';
import { STAND_IN_MARK, standInsFor, type StandIns } from '../json/stand-ins.js';
import { deserializeError, isRuleError, validationError, type RuleError } from '../routes/errors.js';
import type { BatchRule, InputText, ParsedRequest } from '../routes/rule.js';
import { shareSourceText } from './shared-text.js';

export type ReadInputs =
  | {
      ok: true;
      parsed: ParsedRequest;
      /** Each input's text, as parsed.items or as a view of the body's bytes. */
      items: InputText[];
      /** The body's decoded text when it was read whole (the inputs are substrings of it). */
      text: string | undefined;
    }
  | { ok: false; error: RuleError };

/** Bodies at least this big are read with stand-ins; a small one has nothing worth sharing. */
export const STAND_IN_MIN_BODY_BYTES = 16 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readInputs(rule: BatchRule, body: Buffer): ReadInputs {
  if (body.length >= STAND_IN_MIN_BODY_BYTES) {
    const standIns = standInsFor(body);
    const read = standIns === undefined ? undefined : readWithStandIns(rule, body, standIns);
    if (read !== undefined) return read;
  }
  return readWhole(rule, body);
}

function readWhole(rule: BatchRule, body: Buffer): ReadInputs {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(body);
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof TypeError ? 'the body is not valid UTF-8' : (error as Error).message;
    return { ok: false, error: { status: 400, errorType: 'Validation', message: `Failed to parse the request body as JSON: ${detail}` } };
  }
  const parsed = ruleParse(rule, body, value);
  if (isRuleError(parsed)) return { ok: false, error: parsed };
  // The inputs as substrings of the text, sharing its characters (shared-text.ts).
  shareSourceText(text, parsed.items);
  return { ok: true, parsed, items: parsed.items, text };
}

/** Undefined: the body must be read whole (see above). */
function readWithStandIns(rule: BatchRule, body: Buffer, standIns: StandIns): ReadInputs | undefined {
  let value: unknown;
  try {
    value = JSON.parse(standIns.text);
  } catch {
    // Invalid JSON: JSON.parse of the whole text words the error, with its positions.
    return undefined;
  }
  const parsed = ruleParse(rule, body, value);
  if (isRuleError(parsed)) return { ok: false, error: parsed };
  if (parsed.params.includes(STAND_IN_MARK)) return undefined;
  const items = new Array<InputText>(parsed.items.length);
  for (let i = 0; i < items.length; i++) {
    const item = parsed.items[i]!;
    const n = standInNumber(item);
    if (n === undefined) {
      if (item.includes(STAND_IN_MARK)) return undefined;
      items[i] = item;
    } else {
      items[i] = body.subarray(standIns.spans[2 * n]!, standIns.spans[2 * n + 1]!);
    }
  }
  return { ok: true, parsed, items, text: undefined };
}

const STAND_IN = /^"\\u0000(\d+)"$/;

/** The number of the stand-in that `item` is, or undefined when it is not one. */
function standInNumber(item: string): number | undefined {
  const match = item.length < 32 ? STAND_IN.exec(item) : null;
  return match === null ? undefined : Number(match[1]);
}

/** The rule's reading of a parsed body, after the checks JSON.parse does not make. */
function ruleParse(rule: BatchRule, body: Buffer, value: unknown): ParsedRequest | RuleError {
  // JSON.parse keeps the last of a repeated key; serde refuses the body.
  const repeated = duplicateKey(body);
  if (repeated !== undefined) return deserializeError(`duplicate field \`${repeated}\``);
  try {
    return rule.parse(value);
  } catch {
    // Only pathological bodies get here (a field nested deeper than the stack allows): the
    // upstream, which may well ignore that field, answers the client's own body alone.
    return validationError('the request body is nested too deeply for the proxy to read');
  }
}
