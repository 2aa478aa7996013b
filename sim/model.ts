/**
 * The simulated model: deterministic numbers derived from the token ids the model would see.
 *
 * Every output is a pure function of the (truncated, prompt-prefixed) token ids, so the same
 * input gives the same bytes whether it is sent alone or inside a batch, which is what a
 * batching proxy relies on. Values are f32 like a real backend's; the arithmetic TEI does on
 * them (normalization, softmax) is done in f32 too.
 */

import { SEP_ID, CLS_ID, VOCAB_SIZE } from './tokenizer.js';
import { mulberry32 } from './random.js';

/** FNV-1a over the ids, seeded so that different outputs of one input are unrelated. */
export function hashIds(ids: readonly number[], seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const id of ids) {
    h ^= id & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= (id >>> 8) & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= id >>> 16;
    h = Math.imul(h, 0x01000193);
  }
  h ^= ids.length;
  return Math.imul(h, 0x01000193) >>> 0;
}

const POOLED_SEED = 0x9e3779b9;
const TOKEN_SEED = 0x85ebca6b;
const SPARSE_SEED = 0xc2b2ae35;
const CLASSIFIER_SEED = 0x27d4eb2f;

/**
 * Vectors are plain arrays of f32-rounded numbers: small typed arrays each get an off-heap
 * backing store, which costs more to allocate than the values cost to compute.
 */
export type F32Vector = number[];

/** A pooled embedding before normalization: values in (-1, 1). */
export function pooledEmbedding(ids: readonly number[], dimensions: number): F32Vector {
  const next = mulberry32(hashIds(ids, POOLED_SEED));
  const out = new Array<number>(dimensions);
  for (let i = 0; i < dimensions; i += 1) out[i] = Math.fround(next() * 2 - 1);
  return out;
}

/** One vector per token, as /embed_all returns them (not normalized, like TEI). */
export function tokenEmbeddings(ids: readonly number[], dimensions: number): F32Vector[] {
  const sequence = hashIds(ids, TOKEN_SEED);
  return ids.map((id, position) => {
    const next = mulberry32((sequence ^ Math.imul(position + 1, 0x9e3779b1) ^ id) >>> 0);
    const out = new Array<number>(dimensions);
    for (let i = 0; i < dimensions; i += 1) out[i] = Math.fround(next() * 2 - 1);
    return out;
  });
}

/** TEI's normalization: scale = (1 / sqrt(sum of squares in f64)) as f32, then v *= scale in f32. */
export function normalizeInPlace(vector: F32Vector): void {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const scale = Math.fround(1 / Math.sqrt(sum));
  for (let i = 0; i < vector.length; i += 1) vector[i] = Math.fround((vector[i] as number) * scale);
}

/**
 * SPLADE activations: a positive weight for each distinct non-special input token plus a few
 * expansion terms, zero elsewhere. Returned as sorted (index, value) pairs.
 */
export function spladeActivations(ids: readonly number[]): Array<readonly [number, number]> {
  const next = mulberry32(hashIds(ids, SPARSE_SEED));
  const weights = new Map<number, number>();
  const distinct = [...new Set(ids)].filter((id) => id !== CLS_ID && id !== SEP_ID && id < VOCAB_SIZE);
  for (const id of distinct) weights.set(id, Math.fround(0.5 + next() * 2.5));
  const expansions = Math.min(8, distinct.length);
  for (let i = 0; i < expansions; i += 1) {
    const id = 1000 + Math.floor(next() * (VOCAB_SIZE - 1000));
    if (!weights.has(id)) weights.set(id, Math.fround(0.05 + next() * 0.9));
  }
  return [...weights.entries()].sort((a, b) => a[0] - b[0]);
}

/** The dense form of the SPLADE activations: what /embed returns for a SPLADE model. */
export function spladeDense(ids: readonly number[]): F32Vector {
  const out = new Array<number>(VOCAB_SIZE).fill(0);
  for (const [index, value] of spladeActivations(ids)) out[index] = value;
  return out;
}

/** Raw classifier logits in (-5, 5), one per label. */
export function classifierLogits(ids: readonly number[], labels: number): Float32Array {
  const next = mulberry32(hashIds(ids, CLASSIFIER_SEED));
  const out = new Float32Array(labels);
  for (let i = 0; i < labels; i += 1) out[i] = next() * 10 - 5;
  return out;
}

/**
 * TEI's score transform (core/src/infer.rs predict): softmax for several labels, sigmoid for
 * one, computed in f32. TEI subtracts the element with the largest magnitude, not the maximum.
 */
export function scoresFromLogits(logits: Float32Array, rawScores: boolean): Float32Array {
  const scores = Float32Array.from(logits);
  if (rawScores) return scores;
  if (scores.length > 1) {
    let max = scores[0] as number;
    for (const v of scores) if (Math.abs(v) > Math.abs(max)) max = v;
    let den = 0;
    for (let i = 0; i < scores.length; i += 1) {
      scores[i] = Math.exp(Math.fround((scores[i] as number) - max));
      den = Math.fround(den + (scores[i] as number));
    }
    for (let i = 0; i < scores.length; i += 1) scores[i] = (scores[i] as number) / den;
  } else if (scores.length === 1) {
    scores[0] = 1 / (1 + Math.exp(-(scores[0] as number)));
  }
  return scores;
}
