/**
 * TEI's root routes, POST / and POST /invocations (AWS SageMaker's), answer with the model's own
 * task, chosen when TEI starts (router/src/http/server.rs `run`): a classifier's /predict, a
 * reranker's /rerank, and for an embedding model /similarity when TEI runs with
 * TASK=sentence-similarity, /embed_sparse with SPLADE pooling, /embed otherwise. The Hugging Face
 * clients given an endpoint URL (JS `featureExtraction`, Python `InferenceClient`, LangChain,
 * Haystack) post to the root, so they are batched here with the rule of that task.
 *
 * The proxy learns the model's type from the upstream's GET /info (`model_type`); TASK is not
 * in /info. A similarity body (`inputs` an object) does not read as an embedding request and goes
 * to the upstream alone; an embedding body sent to a similarity root is refused by TEI's JSON
 * extractor in plain text, and that refusal sends each client's own body alone (see needsReplay
 * in batch-handler.ts): every client still gets TEI's exact answer. Reranker roots, and roots
 * whose /info cannot be read or does not agree across replicas, pass through.
 */
import { isPlainObject, type BatchRule } from './rule.js';
import { embedRule } from './tei-lists.js';
import { predictRule } from './tei-predict.js';

/** What TEI's /info `model_type` says the root routes serve. */
export type RootTask = 'embed' | 'embed_sparse' | 'predict' | 'rerank';

export const ROOT_PATHS = ['/', '/invocations'] as const;

/** Reads /info's `model_type`: `{"embedding":{"pooling":"cls"}}`, `{"classifier":{...}}`, `{"reranker":{...}}`. */
export function rootTaskOf(info: unknown): RootTask | undefined {
  if (!isPlainObject(info) || !isPlainObject(info.model_type)) return undefined;
  const modelType = info.model_type;
  if (isPlainObject(modelType.classifier)) return 'predict';
  if (isPlainObject(modelType.reranker)) return 'rerank';
  if (isPlainObject(modelType.embedding)) return modelType.embedding.pooling === 'splade' ? 'embed_sparse' : 'embed';
  return undefined;
}

/** The rules for the root routes of an upstream whose model does `task`; none when it passes through. */
export function rootRules(task: RootTask | undefined): BatchRule[] {
  switch (task) {
    case 'embed':
    case 'embed_sparse':
      return ROOT_PATHS.map((path) => embedRule(path));
    case 'predict':
      return ROOT_PATHS.map((path) => predictRule(path));
    case 'rerank':
    case undefined:
      return [];
  }
}
