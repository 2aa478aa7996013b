/**
 * The OpenAI-compatible embeddings routes (/v1/embeddings and /embeddings). The answer is an
 * object, not a list: each client gets its own `data` with `index` counted from 0, the
 * upstream's `model`, and a `usage` of its own.
 *
 * Usage attribution: the upstream reports one token count for a whole call and none per input,
 * so a call's prompt_tokens are shared among its inputs in proportion to their length (largest
 * remainder rounding, so the shares add up to the upstream's total exactly). A client alone in
 * its call gets exactly the upstream's count; in a merged call its count is an estimate.
 */
import { objectMembers, arrayElements, type MemberRange } from '../json/scan.js';
import { canonicalParams } from './canonical-json.js';
import { encodeListCall } from './json-list.js';
import { deserializeError, isRuleError, notAnObject, type RuleError } from './errors.js';
import { isPlainObject, type BatchRule, type ItemAnswer, type ParsedRequest } from './rule.js';
import { parseTeiInput } from './tei-input.js';

/** `model` and `user` are ignored by TEI, so clients differing only in them may share a call. */
const NOT_PARAMS = new Set(['input', 'model', 'user']);

function member(members: readonly MemberRange[], key: string): MemberRange | undefined {
  for (const m of members) if (m.key === key) return m;
  return undefined;
}

/** Splits `total` into integer shares proportional to `weights` that add up to `total`. */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0) return [];
  if (sum <= 0) return apportion(total, weights.map(() => 1));
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((value, i) => ({ i, rest: value - Math.floor(value) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) shares[order[k]!.i]!++;
  return shares;
}

function splitOpenAiAnswer(body: Buffer, items: readonly string[]): ItemAnswer[] | undefined {
  const top = objectMembers(body);
  if (top === undefined) return undefined;
  const data = member(top, 'data');
  const model = member(top, 'model');
  const usage = member(top, 'usage');
  if (data === undefined || model === undefined || usage === undefined) return undefined;
  const ranges = arrayElements(body, data.valueStart, data.valueEnd);
  if (ranges === undefined || ranges.length !== items.length * 2) return undefined;

  let promptTokens: number;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8', usage.valueStart, usage.valueEnd));
    promptTokens = isPlainObject(parsed) && typeof parsed.prompt_tokens === 'number' ? parsed.prompt_tokens : 0;
  } catch {
    return undefined;
  }
  const shares = apportion(
    promptTokens,
    items.map((item) => item.length),
  );
  const modelBytes = body.subarray(model.valueStart, model.valueEnd);

  const answers = new Array<ItemAnswer>(items.length);
  for (let i = 0; i < items.length; i++) {
    const start = ranges[2 * i]!;
    const end = ranges[2 * i + 1]!;
    const fields = objectMembers(body, start, end);
    const index = fields && member(fields, 'index');
    if (index === undefined) return undefined;
    answers[i] = {
      bytes: body.subarray(start, index.valueStart),
      tail: body.subarray(index.valueEnd, end),
      tokens: shares[i]!,
      model: modelBytes,
    };
  }
  return answers;
}

const COMMA = Buffer.from(',');
const EMPTY = Buffer.alloc(0);

function assembleOpenAiAnswer(answers: readonly ItemAnswer[]): Buffer {
  const chunks: Uint8Array[] = [Buffer.from('{"object":"list","data":[')];
  let tokens = 0;
  for (let i = 0; i < answers.length; i++) {
    const answer = answers[i]!;
    if (i > 0) chunks.push(COMMA);
    chunks.push(answer.bytes, Buffer.from(String(i)), answer.tail ?? EMPTY);
    tokens += answer.tokens ?? 0;
  }
  chunks.push(Buffer.from('],"model":'), answers[0]?.model ?? Buffer.from('""'));
  chunks.push(Buffer.from(`,"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`));
  return Buffer.concat(chunks);
}

export function openAiEmbeddingsRule(path: '/v1/embeddings' | '/embeddings'): BatchRule {
  return {
    path,
    errorStyle: 'openai',
    parse(body: unknown): ParsedRequest | RuleError {
      if (!isPlainObject(body)) return notAnObject();
      // Left out of the call, but TEI still types them: a non-string is refused, not ignored.
      for (const field of ['model', 'user'] as const) {
        const value = body[field];
        if (value !== undefined && value !== null && typeof value !== 'string') {
          return deserializeError(`${field}: invalid type: expected a string`);
        }
      }
      const inputs = parseTeiInput(body.input, 'input');
      if (isRuleError(inputs)) return inputs;
      return {
        items: inputs.items,
        params: canonicalParams(body, NOT_PARAMS),
        solo: inputs.hasEmptyItem,
        assemble: assembleOpenAiAnswer,
      };
    },
    encodeCall: (params, items) => encodeListCall('input', params, items),
    splitAnswer: splitOpenAiAnswer,
  };
}
