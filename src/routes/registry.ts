/**
 * The rules the proxy batches: TEI's list routes, the OpenAI-compatible routes and Ollama's
 * /api/embed by default, TEI's root routes when /info says what they serve, plus any added with
 * `--route`.
 */
import { customRule, type CustomRouteSpec } from './custom.js';
import { ollamaEmbedRule } from './ollama-embed.js';
import { rootRules, type RootTask } from './root-routes.js';
import { openAiEmbeddingsRule } from './openai-embeddings.js';
import type { BatchRule } from './rule.js';
import { decodeRule } from './tei-decode.js';
import { embedRule, tokenizeRule } from './tei-lists.js';
import { predictRule } from './tei-predict.js';

export function builtInRules(): BatchRule[] {
  return [
    embedRule('/embed'),
    embedRule('/embed_sparse'),
    embedRule('/embed_all'),
    predictRule(),
    tokenizeRule(),
    decodeRule(),
    openAiEmbeddingsRule('/v1/embeddings'),
    openAiEmbeddingsRule('/embeddings'),
    ollamaEmbedRule(),
  ];
}

/** Path -> rule. A custom route for a built-in path replaces the built-in rule. */
export function ruleTable(custom: readonly CustomRouteSpec[], rootTask?: RootTask): Map<string, BatchRule> {
  const table = new Map<string, BatchRule>();
  for (const rule of [...builtInRules(), ...rootRules(rootTask)]) table.set(rule.path, rule);
  for (const spec of custom) table.set(spec.path, customRule(spec));
  return table;
}
