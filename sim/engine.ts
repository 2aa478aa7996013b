/**
 * The inference routes of the simulator: TEI's handlers (router/src/http/server.rs) over the
 * simulated tokenizer, model and backend.
 *
 * Every check runs where TEI runs it, because the first failing check decides the answer: the
 * route's own checks (empty batch, batch size), then the per-item permits, then per item the
 * checks of core/src/infer.rs and core/src/tokenization.rs. Items are independent; a call
 * waits for all of its items and answers the first error in input order, or all results.
 */

import { BackendScheduler, type ItemTiming } from './backend-scheduler.js';
import { BoundedCache } from './bounded-cache.js';
import { formatF32, formatF32Array } from './float-format.js';
import {
  type F32Vector,
  classifierLogits,
  normalizeInPlace,
  pooledEmbedding,
  scoresFromLogits,
  spladeActivations,
  spladeDense,
  tokenEmbeddings,
} from './model.js';
import {
  type DecodeRequest,
  type EmbedAllRequest,
  type EmbedRequest,
  type EmbedSparseRequest,
  type InputItem,
  type Inputs,
  type OpenAICompatRequest,
  type PredictRequest,
  type RerankRequest,
  type Sequence,
  type SimilarityRequest,
  type TokenizeRequest,
  type TruncationDirection,
  type VertexRequest,
  parseInstance,
} from './request-types.js';
import { rustDebugString } from './serde-json.js';
import type { SimConfig } from './sim-config.js';
import { SimMetrics } from './sim-metrics.js';
import { TeiError, backendError, batchSizeError, emptyError, overloadedError, validationError } from './tei-error.js';
import { decode, encode } from './tokenizer.js';

/**
 * A body as pieces written one after the other. Large answers stay in pieces: joining them
 * into one string or buffer of hundreds of kilobytes costs more than producing them.
 */
export type BodyChunks = ReadonlyArray<string | Buffer>;

/** What a route answers; the HTTP layer adds CORS and content-length. */
export interface RouteResponse {
  readonly status: number;
  readonly body: string | BodyChunks;
  readonly headers?: Readonly<Record<string, string>>;
}

export function bodyText(body: string | BodyChunks): string {
  return typeof body === 'string' ? body : body.map((chunk) => (typeof chunk === 'string' ? chunk : chunk.toString('utf8'))).join('');
}

/** Per HTTP call: when the handler started and whether the client is still there. */
export interface CallContext {
  readonly startNs: bigint;
  readonly isCancelled: () => boolean;
}

type ModelInput = InputItem | { readonly kind: 'pair'; readonly first: string; readonly second: string };

/** One item before the backend: an early error, or what to run and how to finish it. */
type Prepared<T> =
  | { readonly error: TeiError; readonly permit: boolean }
  | {
      readonly error?: undefined;
      readonly permit: boolean;
      readonly tokens: number;
      readonly tokenizationNs: number;
      readonly finish: () => T | TeiError;
    };

/** ResponseMetadata (router/src/lib.rs): totals, and per-item times averaged over the call. */
interface Metadata {
  readonly computeChars: number;
  readonly computeTokens: number;
  readonly tokenizationNs: number;
  readonly queueNs: number;
  readonly inferenceNs: number;
}

type Executed<T> = { readonly error: TeiError } | { readonly error?: undefined; readonly values: T[]; readonly metadata: Metadata };

interface PooledEntry {
  readonly tokens: number;
  readonly vector: F32Vector;
  json?: string;
  base64?: string;
}

interface JsonEntry {
  readonly tokens: number;
  readonly json: string;
}

interface ScoreEntry {
  readonly tokens: number;
  readonly scores: Float32Array;
}

interface EmbedParams {
  readonly truncate: boolean;
  readonly direction: TruncationDirection;
  readonly promptName: string | null;
  readonly normalize: boolean;
  readonly dimensions: number | null;
}

function countChars(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) count -= 1;
  }
  return count;
}

function inputChars(input: ModelInput): number {
  if (input.kind === 'text') return countChars(input.text);
  if (input.kind === 'pair') return countChars(input.first) + countChars(input.second);
  return input.ids.length;
}

/** String::truncate at a byte index, only when it is a char boundary (tokenization.rs). */
function truncateBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (limit >= bytes.length) return text;
  const b = bytes[limit] as number;
  if (b >= 0x80 && b < 0xc0) return text;
  return bytes.toString('utf8', 0, limit);
}

function applyLimit(input: ModelInput, limit: number): ModelInput {
  if (input.kind === 'text') return { kind: 'text', text: truncateBytes(input.text, limit) };
  if (input.kind === 'pair') {
    const half = Math.floor(limit / 2);
    return { kind: 'pair', first: truncateBytes(input.first, half), second: truncateBytes(input.second, half) };
  }
  return input;
}

function isEmptyInput(input: ModelInput): boolean {
  if (input.kind === 'text') return input.text.length === 0;
  if (input.kind === 'pair') return input.first.length === 0 && input.second.length === 0;
  return input.ids.length === 0;
}

function inputKey(input: ModelInput): string {
  if (input.kind === 'text') return `t${input.text}`;
  if (input.kind === 'pair') return `p${input.first.length}\u0000${input.first}${input.second}`;
  return `i${input.ids.join(',')}`;
}

function sequenceInput(sequence: Sequence): ModelInput {
  return sequence.second === undefined ? { kind: 'text', text: sequence.first } : { kind: 'pair', first: sequence.first, second: sequence.second };
}

function toMs(ns: number): number {
  return Math.floor(ns / 1e6);
}

function jsonResponse(body: string | BodyChunks, headers?: Record<string, string>): RouteResponse {
  return headers === undefined ? { status: 200, body } : { status: 200, body, headers };
}

function errorResponse(error: TeiError): RouteResponse {
  return { status: error.status, body: error.toJson() };
}

function openAiErrorResponse(error: TeiError): RouteResponse {
  return { status: error.status, body: error.toOpenAiJson() };
}

/** `[a,b,c]` from cached pieces, without joining them. */
function listChunks(items: ReadonlyArray<string | Buffer>, open = '[', close = ']'): Array<string | Buffer> {
  const chunks: Array<string | Buffer> = [open];
  items.forEach((item, i) => {
    if (i > 0) chunks.push(',');
    chunks.push(item);
  });
  chunks.push(close);
  return chunks;
}

function pooledJson(entry: PooledEntry): string {
  entry.json ??= formatF32Array(entry.vector);
  return entry.json;
}

function float32Base64(vector: F32Vector): string {
  // f32 little-endian bytes, as TEI reinterprets the Vec<f32> (little-endian hosts).
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i += 1) bytes.writeFloatLE(vector[i] as number, i * 4);
  return bytes.toString('base64');
}

export class TeiEngine {
  readonly scheduler: BackendScheduler | undefined;
  readonly metrics = new SimMetrics();
  private permitsInUse = 0;
  private readonly pooledCache: BoundedCache<PooledEntry>;
  private readonly jsonCache: BoundedCache<JsonEntry>;
  private readonly scoreCache: BoundedCache<ScoreEntry>;

  constructor(readonly config: SimConfig) {
    this.scheduler =
      config.cost === undefined
        ? undefined
        : new BackendScheduler(config.cost, { maxBatchTokens: config.maxBatchTokens, maxBatchRequests: config.maxBatchRequests });
    this.pooledCache = new BoundedCache(config.cacheSize, config.cacheBytes);
    this.jsonCache = new BoundedCache(config.cacheSize, config.cacheBytes);
    this.scoreCache = new BoundedCache(config.cacheSize, config.cacheBytes / 8);
  }

  close(): void {
    this.scheduler?.close();
  }

  private get isSplade(): boolean {
    return this.config.kind === 'splade';
  }

  /** The backend's model type: classifiers and rerankers are both classifiers there. */
  private get isClassifier(): boolean {
    return this.config.kind === 'classifier' || this.config.kind === 'reranker';
  }

  // ---------------------------------------------------------------- permits

  /** All or nothing: TEI acquires one per item and drops them all on the first failure. */
  private tryAcquire(count: number): boolean {
    if (this.permitsInUse + count > this.config.maxConcurrentRequests) {
      this.metrics.failure('overloaded');
      return false;
    }
    this.permitsInUse += count;
    return true;
  }

  /** Lazily per item (predict and rerank batches): the first `k` items get a permit. */
  private acquireUpTo(count: number): number {
    const granted = Math.max(0, Math.min(count, this.config.maxConcurrentRequests - this.permitsInUse));
    this.permitsInUse += granted;
    if (granted < count) this.metrics.failure('overloaded');
    return granted;
  }

  private release(count: number): void {
    this.permitsInUse -= count;
  }

  // ---------------------------------------------------------------- tokenization.rs

  private prompt(promptName: string | null): string | undefined | TeiError {
    if (promptName === null) return undefined;
    const prompts = this.config.prompts;
    if (prompts === undefined) {
      return validationError(
        `\`default-prompt-name\` is set to \`${promptName}\` but no prompts were found in the Sentence Transformers configuration`,
      );
    }
    const prompt = prompts.get(promptName);
    if (prompt === undefined) {
      const available = `[${[...prompts.keys()].map(rustDebugString).join(', ')}]`;
      return validationError(
        `\`default-prompt-name\` is set to \`${promptName}\` but it was not found in the Sentence Transformers prompts. Available prompts: ${available}`,
      );
    }
    return prompt;
  }

  /** Tokenization::encode: the ids the model sees, or the item's error. */
  private encodeInput(input: ModelInput, truncate: boolean, direction: TruncationDirection, promptName: string | null): number[] | TeiError {
    if (isEmptyInput(input)) return emptyError('`inputs` cannot be empty');
    const prompt = this.prompt(promptName);
    if (prompt instanceof TeiError) return prompt;
    const maxInputLength = this.config.maxInputLength;
    const limit = maxInputLength * 250;
    const chars = inputChars(input);
    let item = input;
    if (chars > limit) {
      if (!truncate) return validationError(`\`inputs\` must have less than ${limit} characters. Given: ${chars}`);
      item = applyLimit(input, limit);
    }
    const truncation = truncate ? { maxLength: maxInputLength, direction } : undefined;
    let ids: number[];
    if (item.kind === 'text') {
      ids = encode(prompt === undefined ? item.text : prompt + item.text, true, truncation).ids;
    } else if (item.kind === 'pair') {
      if (prompt !== undefined) return validationError('`prompt_name` cannot be set with dual inputs');
      ids = encode(item.first, true, truncation, item.second).ids;
    } else if (prompt !== undefined) {
      // Token ids with a prompt: decode them, prepend the prompt, encode with special tokens.
      ids = encode(prompt + decode(item.ids, true), true, truncation).ids;
    } else {
      // Token ids alone: decoded and encoded again, without adding special tokens.
      ids = encode(decode(item.ids, false), false, truncation).ids;
    }
    if (ids.length > maxInputLength) {
      return validationError(`\`inputs\` must have less than ${maxInputLength} tokens. Given: ${ids.length}`);
    }
    return ids;
  }

  /** Shared shape of an item that tokenizes (or hits the cache) and then runs on the backend. */
  private prepareCached<E extends { tokens: number }, T>(
    cache: BoundedCache<E>,
    key: string,
    input: ModelInput,
    truncate: boolean,
    direction: TruncationDirection,
    promptName: string | null,
    build: (ids: number[]) => E,
    bytes: (entry: E) => number,
    finish: (entry: E) => T | TeiError,
  ): Prepared<T> {
    const started = process.hrtime.bigint();
    const hit = cache.get(key);
    if (hit !== undefined) {
      return { permit: true, tokens: hit.tokens, tokenizationNs: Number(process.hrtime.bigint() - started), finish: () => finish(hit) };
    }
    const ids = this.encodeInput(input, truncate, direction, promptName);
    if (ids instanceof TeiError) {
      this.metrics.failure(ids.type === 'Validation' || ids.type === 'Empty' ? 'validation' : 'tokenization');
      return { error: ids, permit: true };
    }
    const tokenizationNs = Number(process.hrtime.bigint() - started);
    return {
      permit: true,
      tokens: ids.length,
      tokenizationNs,
      finish: () => {
        const entry = build(ids);
        cache.set(key, entry, bytes(entry) + key.length * 2);
        return finish(entry);
      },
    };
  }

  // ---------------------------------------------------------------- running items

  /**
   * Runs the prepared items on the backend, waits for all of them (join_all) and returns the
   * first error in input order, or every value with the call's metadata.
   */
  private async execute<T>(prepared: Prepared<T>[], computeChars: number, ctx: CallContext): Promise<Executed<T>> {
    let earlyReleases = 0;
    let runnable = 0;
    let tokens = 0;
    let longest = 0;
    for (const item of prepared) {
      if (item.error !== undefined) {
        if (item.permit) earlyReleases += 1;
      } else {
        runnable += 1;
        tokens += item.tokens;
        longest = Math.max(longest, item.tokens);
      }
    }
    this.release(earlyReleases);

    let timings: ItemTiming[] = [];
    if (this.scheduler !== undefined && runnable > 0) {
      const work = this.scheduler.merging
        ? prepared.flatMap((item) => (item.error === undefined ? [{ tokens: item.tokens, weight: 1 }] : []))
        : [{ tokens, weight: runnable, longest }];
      timings = await this.scheduler.run(work, ctx.isCancelled);
      if (!this.scheduler.merging) timings = new Array<ItemTiming>(runnable).fill(timings[0] as ItemTiming);
    }
    this.release(prepared.reduce((n, item) => n + (item.error === undefined && item.permit ? 1 : 0), 0));

    const values: T[] = [];
    let firstError: TeiError | undefined;
    let tokenizationNs = 0;
    let queueNs = 0;
    let inferenceNs = 0;
    let run = 0;
    for (const item of prepared) {
      if (item.error !== undefined) {
        firstError ??= item.error;
        continue;
      }
      const timing = timings[run];
      run += 1;
      const value = item.finish();
      if (value instanceof TeiError) {
        firstError ??= value;
        continue;
      }
      values.push(value);
      tokenizationNs += item.tokenizationNs;
      queueNs += Math.round((timing?.queueMs ?? 0) * 1e6);
      inferenceNs += Math.round((timing?.inferenceMs ?? 0) * 1e6);
    }
    if (firstError !== undefined) return { error: firstError };
    const n = Math.max(1, prepared.length);
    return {
      values,
      metadata: {
        computeChars,
        computeTokens: tokens,
        tokenizationNs: Math.floor(tokenizationNs / n),
        queueNs: Math.floor(queueNs / n),
        inferenceNs: Math.floor(inferenceNs / n),
      },
    };
  }

  /** The headers TEI derives from ResponseMetadata; times are whole milliseconds. */
  private metadataHeaders(metadata: Metadata, ctx: CallContext): Record<string, string> {
    const elapsed = String(Math.floor(Number(process.hrtime.bigint() - ctx.startNs) / 1e6));
    return {
      'x-compute-type': 'gpu+optimized',
      'x-compute-time': elapsed,
      'x-compute-characters': String(metadata.computeChars),
      'x-compute-tokens': String(metadata.computeTokens),
      'x-total-time': elapsed,
      'x-tokenization-time': String(toMs(metadata.tokenizationNs)),
      'x-queue-time': String(toMs(metadata.queueNs)),
      'x-inference-time': String(toMs(metadata.inferenceNs)),
    };
  }

  /** The checks every batch route starts with, and the permits of the embed-like routes. */
  private admit(inputs: Inputs<unknown>, emptyMessage: string): TeiError | undefined {
    this.metrics.requestCount(inputs.batch ? 'batch' : 'single');
    if (inputs.batch) {
      if (inputs.items.length === 0) {
        this.metrics.failure('validation');
        return new TeiError('Empty', emptyMessage);
      }
      if (inputs.items.length > this.config.maxClientBatchSize) {
        this.metrics.failure('batch_size');
        return batchSizeError(inputs.items.length, this.config.maxClientBatchSize);
      }
    }
    if (!this.tryAcquire(inputs.items.length)) return overloadedError();
    return undefined;
  }

  // ---------------------------------------------------------------- /embed

  /** Infer::embed_pooled, then Infer::embed, for one item. */
  private preparePooled(input: InputItem, params: EmbedParams): Prepared<PooledEntry> {
    if (this.isSplade && params.normalize) return { error: backendError('`normalize` is not available for SPLADE models'), permit: true };
    if (params.dimensions === 0) return { error: validationError('`dimensions` should be positive'), permit: true };
    if (this.isClassifier) return { error: backendError('Model is not an embedding model'), permit: true };
    const fullDimensions = this.isSplade ? 30522 : this.config.dimensions;
    // Matryoshka truncation is checked after inference: a too large value still runs, then fails.
    const tooLarge = params.dimensions !== null && params.dimensions > fullDimensions;
    const dimensions = tooLarge ? null : params.dimensions;
    const key = [
      'pooled',
      params.truncate ? 1 : 0,
      params.direction,
      params.normalize ? 1 : 0,
      dimensions ?? '',
      params.promptName === null ? '-' : `${params.promptName.length}:${params.promptName}`,
      inputKey(input),
    ].join('\u0000');
    return this.prepareCached(
      this.pooledCache,
      key,
      input,
      params.truncate,
      params.direction,
      params.promptName,
      (ids) => {
        let vector = this.isSplade ? spladeDense(ids) : pooledEmbedding(ids, this.config.dimensions);
        if (dimensions !== null) vector = vector.slice(0, dimensions);
        if (params.normalize) normalizeInPlace(vector);
        return { tokens: ids.length, vector };
      },
      // The vector, its JSON (about 12 bytes a value) and maybe its base64.
      (entry) => entry.vector.length * 24,
      (entry) => (tooLarge ? validationError('`dimensions` should be smaller than the maximum embedding dimension.') : entry),
    );
  }

  private async embedPooled(inputs: Inputs<InputItem>, params: EmbedParams, ctx: CallContext): Promise<Executed<PooledEntry>> {
    const refused = this.admit(inputs, '`inputs` cannot be empty');
    if (refused !== undefined) return { error: refused };
    let computeChars = 0;
    const prepared = inputs.items.map((input) => {
      computeChars += inputChars(input);
      return this.preparePooled(input, params);
    });
    const executed = await this.execute(prepared, computeChars, ctx);
    this.metrics.outcome(inputs.batch ? 'batch' : 'single', executed.error === undefined);
    return executed;
  }

  async embed(req: EmbedRequest, ctx: CallContext): Promise<RouteResponse> {
    const executed = await this.embedPooled(
      req.inputs,
      {
        truncate: req.truncate ?? this.config.autoTruncate,
        direction: req.truncation_direction,
        promptName: req.prompt_name,
        normalize: req.normalize,
        dimensions: req.dimensions,
      },
      ctx,
    );
    if (executed.error !== undefined) return errorResponse(executed.error);
    return jsonResponse(listChunks(executed.values.map(pooledJson)), this.metadataHeaders(executed.metadata, ctx));
  }

  // ---------------------------------------------------------------- /v1/embeddings

  async openai(req: OpenAICompatRequest, ctx: CallContext): Promise<RouteResponse> {
    // The OpenAI route ignores `model` and uses the server's auto_truncate, Right, no prompt.
    const executed = await this.embedPooled(
      req.input,
      { truncate: this.config.autoTruncate, direction: 'right', promptName: null, normalize: true, dimensions: req.dimensions },
      ctx,
    );
    if (executed.error !== undefined) return openAiErrorResponse(executed.error);
    const base64 = req.encoding_format === 'base64';
    const chunks: Array<string | Buffer> = ['{"object":"list","data":['];
    executed.values.forEach((entry, index) => {
      chunks.push(index === 0 ? '{"object":"embedding","embedding":' : ',{"object":"embedding","embedding":');
      chunks.push(base64 ? `"${(entry.base64 ??= float32Base64(entry.vector))}"` : pooledJson(entry));
      chunks.push(`,"index":${index}}`);
    });
    const tokens = executed.metadata.computeTokens;
    chunks.push(`],"model":${JSON.stringify(this.config.modelId)},"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`);
    return jsonResponse(chunks, this.metadataHeaders(executed.metadata, ctx));
  }

  // ---------------------------------------------------------------- /similarity

  async similarity(req: SimilarityRequest, ctx: CallContext): Promise<RouteResponse> {
    if (req.inputs.sentences.length === 0) {
      this.metrics.failure('validation');
      return errorResponse(new TeiError('Empty', '`inputs.sentences` cannot be empty'));
    }
    const batchSize = req.inputs.sentences.length + 1;
    if (batchSize > this.config.maxClientBatchSize) {
      this.metrics.failure('batch_size');
      return errorResponse(batchSizeError(batchSize, this.config.maxClientBatchSize));
    }
    const parameters = req.parameters;
    const items: InputItem[] = [req.inputs.source_sentence, ...req.inputs.sentences].map((text) => ({ kind: 'text', text }));
    const executed = await this.embedPooled(
      { batch: true, items },
      {
        truncate: parameters?.truncate ?? this.config.autoTruncate,
        direction: parameters?.truncation_direction ?? 'right',
        promptName: parameters?.prompt_name ?? null,
        normalize: false,
        dimensions: null,
      },
      ctx,
    );
    if (executed.error !== undefined) return errorResponse(executed.error);
    const [source, ...others] = executed.values.map((e) => e.vector);
    const similarities = others.map((other) => formatF32(Math.fround(1 - Math.fround(cosineDistance(source as F32Vector, other)))));
    return jsonResponse(`[${similarities.join(',')}]`, this.metadataHeaders(executed.metadata, ctx));
  }

  // ---------------------------------------------------------------- /embed_sparse, /embed_all

  private async embedJson(
    inputs: Inputs<InputItem>,
    truncate: boolean,
    direction: TruncationDirection,
    promptName: string | null,
    kind: 'sparse' | 'all',
    ctx: CallContext,
  ): Promise<RouteResponse> {
    const refused = this.admit(inputs, '`inputs` cannot be empty');
    if (refused !== undefined) return errorResponse(refused);
    let computeChars = 0;
    const prepared = inputs.items.map((input): Prepared<JsonEntry> => {
      computeChars += inputChars(input);
      if (kind === 'sparse' && !this.isSplade) return { error: backendError('Model is not an embedding model with SPLADE pooling'), permit: true };
      if (kind === 'all' && this.isSplade) return { error: backendError('`embed_all` is not available for SPLADE models'), permit: true };
      if (this.isClassifier) return { error: backendError('Model is not an embedding model'), permit: true };
      const key = [kind, truncate ? 1 : 0, direction, promptName === null ? '-' : `${promptName.length}:${promptName}`, inputKey(input)].join(
        '\u0000',
      );
      return this.prepareCached(
        this.jsonCache,
        key,
        input,
        truncate,
        direction,
        promptName,
        (ids) => ({
          tokens: ids.length,
          json:
            kind === 'sparse'
              ? [
                  '[',
                  ...spladeActivations(ids).map(([index, value], i) => `${i === 0 ? '' : ','}{"index":${index},"value":${formatF32(value)}}`),
                  ']',
                ].join('')
              : ['[', tokenEmbeddings(ids, this.config.dimensions).map(formatF32Array).join(','), ']'].join(''),
        }),
        (entry) => entry.json.length * 2,
        (entry) => entry,
      );
    });
    const executed = await this.execute(prepared, computeChars, ctx);
    this.metrics.outcome(inputs.batch ? 'batch' : 'single', executed.error === undefined);
    if (executed.error !== undefined) return errorResponse(executed.error);
    return jsonResponse(listChunks(executed.values.map((e) => e.json)), this.metadataHeaders(executed.metadata, ctx));
  }

  embedSparse(req: EmbedSparseRequest, ctx: CallContext): Promise<RouteResponse> {
    return this.embedJson(req.inputs, req.truncate ?? this.config.autoTruncate, req.truncation_direction, req.prompt_name, 'sparse', ctx);
  }

  embedAll(req: EmbedAllRequest, ctx: CallContext): Promise<RouteResponse> {
    return this.embedJson(req.inputs, req.truncate ?? this.config.autoTruncate, req.truncation_direction, req.prompt_name, 'all', ctx);
  }

  // ---------------------------------------------------------------- /predict, /rerank

  private prepareScores(
    input: ModelInput,
    truncate: boolean,
    direction: TruncationDirection,
    rawScores: boolean,
    permit: boolean,
  ): Prepared<ScoreEntry> {
    if (!permit) return { error: overloadedError(), permit: false };
    if (!this.isClassifier) return { error: backendError('Model is not a classifier model'), permit: true };
    const key = ['scores', truncate ? 1 : 0, direction, rawScores ? 1 : 0, inputKey(input)].join('\u0000');
    return this.prepareCached(
      this.scoreCache,
      key,
      input,
      truncate,
      direction,
      null,
      (ids) => ({ tokens: ids.length, scores: scoresFromLogits(classifierLogits(ids, this.config.labels.length), rawScores) }),
      (entry) => 64 + entry.scores.length * 4,
      (entry) => entry,
    );
  }

  private predictionsJson(scores: Float32Array): string {
    // Sorted ascending (stable) then reversed, as TEI does: ties end up in reverse label order.
    const predictions = this.config.labels.map((label, i) => ({ label, score: scores[i] as number }));
    predictions.sort((a, b) => a.score - b.score).reverse();
    return `[${predictions.map((p) => `{"score":${formatF32(p.score)},"label":${JSON.stringify(p.label)}}`).join(',')}]`;
  }

  async predict(req: PredictRequest, ctx: CallContext): Promise<RouteResponse> {
    const truncate = req.truncate ?? this.config.autoTruncate;
    const inputs = req.inputs;
    this.metrics.requestCount(inputs.batch ? 'batch' : 'single');
    let permits: number;
    if (!inputs.batch) {
      if (!this.tryAcquire(1)) return errorResponse(overloadedError());
      permits = 1;
    } else {
      if (inputs.items.length > this.config.maxClientBatchSize) {
        this.metrics.failure('batch_size');
        return errorResponse(batchSizeError(inputs.items.length, this.config.maxClientBatchSize));
      }
      permits = this.acquireUpTo(inputs.items.length);
    }
    let computeChars = 0;
    const prepared = inputs.items.map((sequence, i) => {
      const input = sequenceInput(sequence);
      computeChars += inputChars(input);
      return this.prepareScores(input, truncate, req.truncation_direction, req.raw_scores, i < permits);
    });
    const executed = await this.execute(prepared, computeChars, ctx);
    this.metrics.outcome(inputs.batch ? 'batch' : 'single', executed.error === undefined);
    if (executed.error !== undefined) return errorResponse(executed.error);
    const lists = executed.values.map((entry) => this.predictionsJson(entry.scores));
    const body = inputs.batch ? `[${lists.join(',')}]` : (lists[0] as string);
    return jsonResponse(body, this.metadataHeaders(executed.metadata, ctx));
  }

  async rerank(req: RerankRequest, ctx: CallContext): Promise<RouteResponse> {
    if (req.texts.length === 0) {
      this.metrics.failure('validation');
      return errorResponse(new TeiError('Empty', '`texts` cannot be empty'));
    }
    if (this.config.kind !== 'reranker') {
      this.metrics.failure('model_type');
      return errorResponse(backendError('model is not a re-ranker model'));
    }
    this.metrics.requestCount('batch');
    if (req.texts.length > this.config.maxClientBatchSize) {
      this.metrics.failure('batch_size');
      return errorResponse(batchSizeError(req.texts.length, this.config.maxClientBatchSize));
    }
    const truncate = req.truncate ?? this.config.autoTruncate;
    const permits = this.acquireUpTo(req.texts.length);
    const computeChars = countChars(req.query) * req.texts.length + req.texts.reduce((n, t) => n + countChars(t), 0);
    const prepared = req.texts.map((text, i) =>
      this.prepareScores({ kind: 'pair', first: req.query, second: text }, truncate, req.truncation_direction, req.raw_scores, i < permits),
    );
    const executed = await this.execute(prepared, computeChars, ctx);
    this.metrics.outcome('batch', executed.error === undefined);
    if (executed.error !== undefined) return errorResponse(executed.error);
    const ranks = executed.values.map((entry, index) => ({ index, score: entry.scores[0] as number }));
    ranks.sort((a, b) => a.score - b.score).reverse();
    const body = ranks
      .map((rank) =>
        req.return_text
          ? `{"index":${rank.index},"text":${JSON.stringify(req.texts[rank.index])},"score":${formatF32(rank.score)}}`
          : `{"index":${rank.index},"score":${formatF32(rank.score)}}`,
      )
      .join(',');
    return jsonResponse(`[${body}]`, this.metadataHeaders(executed.metadata, ctx));
  }

  // ---------------------------------------------------------------- /tokenize, /decode

  private tokenizeOne(input: string, addSpecialTokens: boolean, promptName: string | null): string | TeiError {
    // Infer::tokenize: no truncation, so an over-long text fails at the character limit.
    if (input.length === 0) return emptyError('`inputs` cannot be empty');
    const prompt = this.prompt(promptName);
    if (prompt instanceof TeiError) return prompt;
    const limit = this.config.maxInputLength * 250;
    const chars = countChars(input);
    if (chars > limit) return validationError(`\`inputs\` must have less than ${limit} characters. Given: ${chars}`);
    const text = prompt === undefined ? input : prompt + input;
    const encoding = encode(text, addSpecialTokens);
    const bytes = Buffer.from(text, 'utf8');
    const tokens = encoding.ids.map((id, i) => {
      if (encoding.special[i] === true) {
        return `{"id":${id},"text":${JSON.stringify(encoding.tokens[i])},"special":true,"start":null,"stop":null}`;
      }
      const [start, stop] = encoding.offsets[i] as readonly [number, number];
      return `{"id":${id},"text":${JSON.stringify(bytes.toString('utf8', start, stop))},"special":false,"start":${start},"stop":${stop}}`;
    });
    return `[${tokens.join(',')}]`;
  }

  tokenize(req: TokenizeRequest): RouteResponse {
    const inputs = req.inputs;
    if (inputs.batch) {
      if (inputs.items.length === 0) return errorResponse(new TeiError('Empty', '`inputs` cannot be empty'));
      if (inputs.items.length > this.config.maxClientBatchSize) {
        return errorResponse(batchSizeError(inputs.items.length, this.config.maxClientBatchSize));
      }
    }
    const lists: string[] = [];
    for (const input of inputs.items) {
      const tokens = this.tokenizeOne(input, req.add_special_tokens, req.prompt_name);
      if (tokens instanceof TeiError) return errorResponse(tokens);
      lists.push(tokens);
    }
    return jsonResponse(`[${lists.join(',')}]`);
  }

  decode(req: DecodeRequest): RouteResponse {
    const ids = req.ids;
    if (ids.batch) {
      if (ids.items.length === 0) return errorResponse(new TeiError('Empty', '`ids` cannot be empty'));
      if (ids.items.length > this.config.maxClientBatchSize) {
        return errorResponse(batchSizeError(ids.items.length, this.config.maxClientBatchSize));
      }
    }
    const texts: string[] = [];
    for (const item of ids.items) {
      if (item.length === 0) return errorResponse(emptyError('`input_ids` cannot be empty'));
      texts.push(JSON.stringify(decode(item, req.skip_special_tokens)));
    }
    return jsonResponse(`[${texts.join(',')}]`);
  }

  // ---------------------------------------------------------------- /vertex

  /**
   * Each instance is a rerank request when it parses as one, otherwise the model's own
   * request type; a malformed instance fails the call at once with a Validation error.
   */
  async vertex(req: VertexRequest, ctx: CallContext): Promise<RouteResponse> {
    const calls: Array<() => Promise<RouteResponse>> = [];
    for (const instance of req.instances) {
      const rerank = parseInstance('rerank', instance);
      if (rerank.ok) {
        calls.push(() => this.rerank(rerank.value, ctx));
        continue;
      }
      if (this.isClassifier) {
        const parsed = parseInstance('predict', instance);
        if (!parsed.ok) return errorResponse(new TeiError('Validation', parsed.message));
        calls.push(() => this.predict(parsed.value, ctx));
      } else if (this.isSplade) {
        const parsed = parseInstance('embedSparse', instance);
        if (!parsed.ok) return errorResponse(new TeiError('Validation', parsed.message));
        calls.push(() => this.embedSparse(parsed.value, ctx));
      } else {
        const parsed = parseInstance('embed', instance);
        if (!parsed.ok) return errorResponse(new TeiError('Validation', parsed.message));
        calls.push(() => this.embed(parsed.value, ctx));
      }
    }
    const responses = await Promise.all(calls.map((call) => call()));
    const failed = responses.find((r) => r.status !== 200);
    if (failed !== undefined) return { status: failed.status, body: failed.body };
    return jsonResponse(
      listChunks(
        responses.map((r) => bodyText(r.body)),
        '{"predictions":[',
        ']}',
      ),
    );
  }
}

/** simsimd's cosine distance: 1 - cos, 0 when both vectors are zero, 1 when one is. */
function cosineDistance(a: F32Vector, b: F32Vector): number {
  let ab = 0;
  let a2 = 0;
  let b2 = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    a2 += x * x;
    b2 += y * y;
  }
  if (a2 === 0 && b2 === 0) return 0;
  if (ab === 0) return 1;
  return 1 - ab / Math.sqrt(a2 * b2);
}
