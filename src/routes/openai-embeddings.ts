/**
 * The OpenAI-compatible embeddings routes (/v1/embeddings and /embeddings), as TEI, OpenAI,
 * vLLM, Ollama, infinity and LiteLLM serve them. The answer is an object, not a list: each
 * client gets the upstream's object as written (`object`, `model`, and `id`, `created` or any
 * other field a server adds), its own `data` with `index` counted from 0, and its share of
 * `usage` (see object-answer.ts).
 *
 * Every field but `input` is a parameter, sent on the call and part of the batch key: `model`
 * above all (TEI ignores it, but every other server needs it, and one hosting several models
 * must never see two models' inputs in one call), `encoding_format` (float and base64 requests
 * are batched alike, each with its own kind), `dimensions`, `user`.
 */
import { canonicalParams } from './canonical-json.js';
import { encodeListCall } from './json-list.js';
import { deserializeError, isRuleError, notAnObject, type RuleError } from './errors.js';
import { assembleObjectAnswer, splitObjectAnswer, type ObjectAnswerShape } from './object-answer.js';
import { isPlainObject, type BatchRule, type ParsedRequest } from './rule.js';
import { parseTeiInput } from './tei-input.js';

export { apportion } from './object-answer.js';

const NOT_PARAMS = new Set(['input']);

const OPENAI_ANSWER: ObjectAnswerShape = {
  listField: 'data',
  counts: [
    ['usage', 'prompt_tokens'],
    ['usage', 'total_tokens'],
  ],
  indexField: 'index',
};

export function openAiEmbeddingsRule(path: '/v1/embeddings' | '/embeddings'): BatchRule {
  return {
    path,
    errorStyle: 'openai',
    parse(body: unknown): ParsedRequest | RuleError {
      if (!isPlainObject(body)) return notAnObject();
      // Every server types them: a non-string goes alone, so its refusal is the client's own.
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
        assemble: assembleObjectAnswer,
      };
    },
    encodeCall: (params, items) => encodeListCall('input', params, items),
    splitAnswer: (body, items) => splitObjectAnswer(OPENAI_ANSWER, body, items),
  };
}
