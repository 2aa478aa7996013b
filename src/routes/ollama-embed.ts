/**
 * Ollama's native embeddings route, POST /api/embed (server/routes.go EmbedHandler):
 *   {model, input: string | [string], truncate, dimensions, keep_alive, options}
 *   -> {model, embeddings: [[...]], total_duration, load_duration, prompt_eval_count}
 * It is the custom route `/api/embed:input:embeddings` (its answer is an object holding the
 * list in `embeddings`), with Ollama's input reader and `prompt_eval_count` shared out per
 * client the way OpenAI usage is. `model` and every other field are parameters: sent on the
 * call and part of the batch key, so two models never share a call.
 *
 * What Ollama answers specially goes to it alone, so the client gets Ollama's own answer: an
 * empty input ("" or []: Ollama loads the model and answers an empty list), a missing or
 * non-string model, an input that is not a string or a list of strings.
 */
import { customRule } from './custom.js';
import { deserializeError, emptyError, type RuleError } from './errors.js';
import { isPlainObject, type BatchRule, type ParsedRequest, type ReadInputs } from './rule.js';

function readOllamaInput(value: unknown): ReadInputs | RuleError {
  const invalid = deserializeError('invalid input type');
  if (typeof value === 'string') {
    if (value === '') return emptyError('empty input: Ollama answers it itself');
    return { items: [JSON.stringify(value)], hasEmptyItem: false };
  }
  if (!Array.isArray(value)) return invalid;
  if (value.length === 0) return emptyError('empty input: Ollama answers it itself');
  let hasEmptyItem = false;
  const items = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    if (typeof element !== 'string') return invalid;
    if (element === '') hasEmptyItem = true;
    items[i] = JSON.stringify(element);
  }
  return { items, hasEmptyItem };
}

export function ollamaEmbedRule(): BatchRule {
  const rule = customRule(
    { path: '/api/embed', field: 'input', answerField: 'embeddings' },
    { readInputs: readOllamaInput, counts: [['prompt_eval_count']] },
  );
  return {
    ...rule,
    parse(body: unknown): ParsedRequest | RuleError {
      if (isPlainObject(body) && (typeof body.model !== 'string' || body.model === '')) {
        return deserializeError('model: expected a model name');
      }
      return rule.parse(body);
    },
  };
}
