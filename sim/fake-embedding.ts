/**
 * A deterministic stand-in for an embedding model, shared by the simulators of servers that are
 * not TEI (OpenAI-compatible, Ollama): the vector is a pure function of the model's name and the
 * text, so an answer through the proxy can be compared with the same request sent directly,
 * whatever other inputs shared its call. Values are float32, as every real server computes them.
 */
import { createHash } from 'node:crypto';

/** A unit-length vector of `dimensions` float32 values for `text` under `model`. */
export function fakeEmbedding(model: string, text: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(model).update('\u0000').update(text).digest();
  const values = new Array<number>(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const byte = seed[i % seed.length]! ^ (i * 131);
    const value = ((byte & 0xff) - 127.5) / 128 + 1e-3;
    values[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm);
  return values.map((value) => Math.fround(value * scale));
}

/** A rough token count (about 4 bytes a token, at least 1), the same for a text wherever it is sent. */
export function fakeTokenCount(text: string): number {
  return Math.max(1, Math.ceil(Buffer.byteLength(text) / 4));
}

/** Reads a whole request body (the simulators' bodies are small; tests bound them). */
export async function readWholeBody(request: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks);
}
