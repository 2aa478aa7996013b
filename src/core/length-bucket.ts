/**
 * Length buckets: which requests may share a batch when the upstream pads.
 *
 * Many inference servers pad every input of a batch to the longest one (TF.js and ONNX models,
 * PyTorch without variable-length attention, TEI's padded CPU backends). For them a batch costs
 * about count × longest, so one paragraph among short queries makes every query in the call cost
 * as much as the paragraph, and batching can be slower than sending requests one by one
 * (measured on the Universal Sentence Encoder: bench/README.md). Requests whose longest inputs
 * differ by more than a factor go to different batches instead: the factor bounds the padding.
 *
 * Buckets are fixed bands of the geometric scale (band k holds lengths in [ratio^k, ratio^(k+1)))
 * rather than "near the oldest request's length", because a band is just part of the batch key:
 * every other rule of the core (FIFO per key, holds, staging of full batches, max-wait) applies
 * unchanged. The cost is at band edges, where two lengths a few bytes apart land in different
 * batches; a factor of 2 keeps the worst padding under 2× with few bands.
 *
 * Length is the input's JSON text in bytes: the proxy has no tokenizer, and for one language
 * tokens grow in proportion to bytes, which is all a ratio needs.
 */

/**
 * The bucket of a request whose longest input is `longestBytes` long. Ratios at or below 1 are
 * refused by the option parser; here they would make every length its own bucket.
 */
export function lengthBucket(longestBytes: number, ratio: number): number {
  // Lengths under 1 byte do not occur (the shortest JSON string is "" at 2 bytes); clamp anyway
  // so the logarithm stays finite.
  return Math.floor(Math.log(Math.max(1, longestBytes)) / Math.log(ratio));
}
