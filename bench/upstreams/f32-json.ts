/**
 * JSON text for f32 vectors, written the way TEI's serde_json writes f32: the shortest decimal
 * that reads back as the same f32 (0.1, not 0.10000000149011612). That keeps bodies the size
 * TEI's are (about 11 bytes a value instead of 20), which matters for benchmarks that move
 * thousands of vectors, and every value still parses back to the exact f32.
 */

/** Shortest decimal text for `value`, which must already be an f32 (read from a Float32Array). */
export function formatF32(value: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return 'null'; // what serde_json writes for NaN and infinities
  // Eight significant digits suffice for about 99% of f32 values and nine for all, so start
  // at eight and only walk down while fewer digits still read back to the same f32.
  const eight = value.toPrecision(8);
  if (Math.fround(Number(eight)) !== value) return String(Number(value.toPrecision(9)));
  let shortest = eight;
  for (let digits = 7; digits >= 1; digits--) {
    const candidate = value.toPrecision(digits);
    if (Math.fround(Number(candidate)) !== value) break;
    shortest = candidate;
  }
  // Number() drops toPrecision's trailing zeros and picks JSON-valid exponent notation.
  return String(Number(shortest));
}

/** `[v0,v1,...]` */
export function f32ArrayJson(values: Float32Array): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += formatF32(values[i]!);
  }
  return out + ']';
}

/** OpenAI's `encoding_format: "base64"`: the f32 values as little-endian bytes, base64-encoded. */
export function f32ArrayBase64(values: Float32Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (isLittleEndian) return bytes.toString('base64');
  const copy = Buffer.from(bytes);
  copy.swap32();
  return copy.toString('base64');
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
