import type { IncomingMessage } from 'node:http';
import type { Claim } from '../core/byte-budget.js';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too-large' | 'over-budget' | 'aborted' };

/**
 * Reads a request body up to `limit` bytes. Past the limit it stops keeping data (memory stays
 * bounded whatever the client sends) and lets the rest drain. With a `claim`, every byte kept
 * is counted in the memory budget as it arrives (a chunked body declares no length up front);
 * when the budget has no room left it stops the same way ('over-budget').
 *
 * A body that declares its length is copied into one Buffer of that size as it arrives, and each
 * chunk is dropped at once: chunks kept until the end (to be concatenated then) outlive V8's
 * young-generation collections, which would free them, and wait for a full collection, so while
 * a flood of big bodies arrives each was held about twice (issue 12: docs/memory.md, Measured).
 */
export function readBody(request: IncomingMessage, limit: number, claim?: Claim): Promise<BodyResult> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.resolve({ ok: false, reason: 'too-large' });
  }
  // The HTTP parser delivers exactly the declared length, never more. Allocated at the first
  // chunk, unless that chunk is the whole body (a small one): it is then kept as it is.
  const expected = Number.isSafeInteger(declared) && declared > 0 ? declared : undefined;
  let whole: Buffer | undefined;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onAbort);
      request.off('aborted', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      const at = size;
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, reason: 'too-large' });
        request.resume();
        return;
      }
      if (claim !== undefined && !claim.cover(size)) {
        finish({ ok: false, reason: 'over-budget' });
        request.resume();
        return;
      }
      if (at === 0 && expected !== undefined) whole = chunk.length === expected ? chunk : Buffer.allocUnsafe(expected);
      if (whole === chunk) return;
      if (whole !== undefined && size <= whole.length) return void chunk.copy(whole, at);
      if (whole !== undefined) {
        // More than declared (the parser does not let this happen): kept as chunks from here.
        chunks.push(whole.subarray(0, at));
        whole = undefined;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (whole !== undefined) return finish({ ok: true, body: size === whole.length ? whole : whole.subarray(0, size) });
      finish({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    };
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onAbort);
    request.on('aborted', onAbort);
  });
}
