/**
 * A call's body as undici sends it. A rule writes a call as one string, or, when some inputs are
 * held as the clients' own bytes (src/routes/input-text.ts), as pieces; joining those into one
 * string and encoding it (what undici does with a string) made two short-lived copies of every
 * big call, which V8 frees only at its next full collection (issue 12, docs/memory.md). The pieces
 * are sent one after the other instead: big ones as they are, small neighbours gathered into one
 * Buffer so a call of many small inputs is not many small writes.
 */
import type { CallBody } from '../routes/rule.js';
import { inputBytes, type InputText } from '../routes/input-text.js';

/** What the upstream client sends: a string as it is, or chunks of a known total length. */
export type SendableBody = string | { readonly chunks: readonly Buffer[]; readonly length: number };

/** Pieces at least this big are written as they are; smaller neighbours are gathered. */
const GATHER_BELOW_BYTES = 16 * 1024;

export function callBodyBytes(body: CallBody): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  let bytes = 0;
  for (const piece of body) bytes += inputBytes(piece);
  return bytes;
}

export function sendableBody(body: CallBody): SendableBody {
  if (typeof body === 'string') return body;
  const chunks: Buffer[] = [];
  let small: Buffer[] = [];
  let length = 0;
  const gather = (): void => {
    if (small.length > 0) chunks.push(small.length === 1 ? small[0]! : Buffer.concat(small));
    small = [];
  };
  for (const piece of body as readonly InputText[]) {
    const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
    length += bytes.length;
    if (bytes.length < GATHER_BELOW_BYTES) {
      small.push(bytes);
      continue;
    }
    gather();
    chunks.push(bytes);
  }
  gather();
  return { chunks, length };
}
