/**
 * The simulator's options, their TEI defaults, and the /info document TEI derives from them.
 */

import { cpus } from 'node:os';
import type { CostModel } from './backend-scheduler.js';
import type { TeiSimFaults } from './faults.js';

/** Which kind of TEI model is served: decides the routes that work and /info's model_type. */
export type TeiSimModelKind = 'embedding' | 'splade' | 'classifier' | 'reranker';

/**
 * A backend call of n items costs perCallMs + perItemMs * n + perTokenMs * its tokens (n times
 * the longest with `pad`); `slots` calls run at once.
 */
export interface TeiSimCostModel {
  perCallMs: number;
  perItemMs: number;
  slots: number;
  /** Imitate TEI: queue every item and batch across calls whenever a slot is free. */
  merge: boolean;
  /** Cost per token computed; default 0. */
  perTokenMs?: number;
  /** Pad every input of a batch to the longest, like TEI's CPU backends; default false. */
  pad?: boolean;
}

export interface TeiSimOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 'embedding'. 'reranker' is a one-label classifier, the only kind /rerank accepts. */
  model?: TeiSimModelKind;
  /** Served model name, shown in /info and the OpenAI `model` field. */
  modelId?: string;
  /**
   * TEI's TASK environment variable: `sentence-similarity` makes an embedding model serve POST /
   * and /invocations as /similarity. It is not in /info.
   */
  task?: 'sentence-similarity';
  /** Embedding size (default 384). */
  dimensions?: number;
  /** Default 32. */
  maxClientBatchSize?: number;
  /** Default 512. Permits are per item, like TEI; beyond them a call gets 429 Overloaded. */
  maxConcurrentRequests?: number;
  /** In tokens, default 512 (capped at maxBatchTokens when autoTruncate, like TEI). */
  maxInputLength?: number;
  /** Default 16384. */
  maxBatchTokens?: number;
  /** TEI's --max-batch-requests (default unset: no limit but max_concurrent_requests). */
  maxBatchRequests?: number;
  /** Default true (TEI >= 1.9). */
  autoTruncate?: boolean;
  /** Body size limit in bytes, default 2_000_000; beyond it 413 like axum. */
  payloadLimit?: number;
  /** Like TEI's --api-key: protected routes need `Authorization: Bearer <key>`. */
  apiKey?: string;
  /**
   * Sentence Transformers prompts for `prompt_name` (default `{query: "query: ", passage:
   * "passage: "}`); `null` serves a model without prompts.
   */
  prompts?: Record<string, string> | null;
  /** Classifier labels, id2label order (default NEGATIVE, POSITIVE; a reranker has LABEL_0). */
  labels?: string[];
  /** Default: no cost, every call answers at once. */
  cost?: TeiSimCostModel;
  /** Entries of each serialized-answer cache (default 20000). */
  cacheSize?: number;
  /** Bytes each serialized-answer cache may hold (default 64 MiB). */
  cacheBytes?: number;
  /** Default: no faults. Injected 5xx answers, connection resets and slow calls (faults.ts). */
  faults?: TeiSimFaults;
}

export interface SimConfig {
  readonly host: string;
  readonly port: number;
  readonly kind: TeiSimModelKind;
  readonly modelId: string;
  readonly task: 'sentence-similarity' | undefined;
  readonly dimensions: number;
  readonly maxClientBatchSize: number;
  readonly maxConcurrentRequests: number;
  readonly maxInputLength: number;
  readonly maxBatchTokens: number;
  readonly maxBatchRequests: number | undefined;
  readonly autoTruncate: boolean;
  readonly payloadLimit: number;
  readonly apiKey: string | undefined;
  readonly prompts: ReadonlyMap<string, string> | undefined;
  readonly labels: readonly string[];
  readonly cost: CostModel | undefined;
  readonly cacheSize: number;
  readonly cacheBytes: number;
  readonly pooling: string;
  readonly faults: TeiSimFaults | undefined;
}

const DEFAULT_MODEL_IDS: Record<TeiSimModelKind, string> = {
  embedding: 'BAAI/bge-small-en-v1.5',
  splade: 'naver/efficient-splade-VI-BT-large-query',
  classifier: 'distilbert/distilbert-base-uncased-finetuned-sst-2-english',
  reranker: 'BAAI/bge-reranker-base',
};

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`);
  return v;
}

export function resolveConfig(options: TeiSimOptions = {}): SimConfig {
  const kind = options.model ?? 'embedding';
  if (!(kind in DEFAULT_MODEL_IDS)) throw new TypeError(`unknown model kind ${String(kind)}`);
  const maxBatchTokens = positiveInteger('maxBatchTokens', options.maxBatchTokens, 16384);
  const autoTruncate = options.autoTruncate ?? true;
  const baseInputLength = positiveInteger('maxInputLength', options.maxInputLength, 512);
  // router/src/lib.rs: an input length above max_batch_tokens is capped, or refused to start.
  if (baseInputLength > maxBatchTokens && !autoTruncate) {
    throw new Error(
      `The maximum input length is \`${baseInputLength}\` which exceeds \`--max-batch-tokens=${maxBatchTokens}\`. Either increase \`--max-batch-tokens\` to at least \`${baseInputLength}\`, or set \`--auto-truncate true\` so that regardless the maximum input length, those are truncated to \`${maxBatchTokens}\` tokens.`,
    );
  }
  const labels = options.labels ?? (kind === 'reranker' ? ['LABEL_0'] : ['NEGATIVE', 'POSITIVE']);
  if (kind === 'reranker' && labels.length !== 1) throw new TypeError('a reranker has exactly one label');
  if (kind === 'classifier' && labels.length < 2) throw new TypeError('a classifier has at least two labels');
  const prompts = options.prompts === null ? undefined : new Map(Object.entries(options.prompts ?? { query: 'query: ', passage: 'passage: ' }));
  const cost = options.cost;
  if (cost !== undefined && (cost.perCallMs < 0 || cost.perItemMs < 0 || (cost.perTokenMs ?? 0) < 0 || cost.slots < 1)) {
    throw new TypeError('cost needs perCallMs >= 0, perItemMs >= 0, perTokenMs >= 0 and slots >= 1');
  }
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    kind,
    modelId: options.modelId ?? DEFAULT_MODEL_IDS[kind],
    task: options.task,
    dimensions: Math.max(1, positiveInteger('dimensions', options.dimensions, 384)),
    maxClientBatchSize: positiveInteger('maxClientBatchSize', options.maxClientBatchSize, 32),
    maxConcurrentRequests: positiveInteger('maxConcurrentRequests', options.maxConcurrentRequests, 512),
    maxInputLength: Math.min(baseInputLength, maxBatchTokens),
    maxBatchTokens,
    maxBatchRequests: options.maxBatchRequests,
    autoTruncate,
    payloadLimit: positiveInteger('payloadLimit', options.payloadLimit, 2_000_000),
    apiKey: options.apiKey,
    prompts,
    labels,
    cost,
    cacheSize: options.cacheSize ?? 20_000,
    cacheBytes: options.cacheBytes ?? 64 * 1024 * 1024,
    pooling: kind === 'splade' ? 'splade' : 'cls',
    faults: options.faults,
  };
}

/** TEI's version this simulator follows. */
export const TEI_VERSION = '1.9.3';

/** GET /info: router/src/lib.rs `Info`, fields in declaration order. */
export function infoJson(config: SimConfig): string {
  const classifier = () => ({
    id2label: Object.fromEntries(config.labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(config.labels.map((label, i) => [label, i])),
  });
  const modelType =
    config.kind === 'classifier'
      ? { classifier: classifier() }
      : config.kind === 'reranker'
        ? { reranker: classifier() }
        : { embedding: { pooling: config.pooling } };
  return JSON.stringify({
    model_id: config.modelId,
    model_sha: null,
    model_dtype: 'float16',
    served_model_name: config.modelId,
    model_type: modelType,
    max_concurrent_requests: config.maxConcurrentRequests,
    max_input_length: config.maxInputLength,
    max_batch_tokens: config.maxBatchTokens,
    max_batch_requests: config.maxBatchRequests ?? null,
    max_client_batch_size: config.maxClientBatchSize,
    auto_truncate: config.autoTruncate,
    tokenization_workers: Math.min(64, Math.max(1, cpus().length - 1)),
    version: TEI_VERSION,
    sha: null,
    docker_label: null,
  });
}
