/**
 * The memory budget at the HTTP edge: which requests come in, and for how long what they hold
 * stays counted. Decided as early as possible: from the heap and `Content-Length` before a byte
 * of the body is read (a chunked body is counted as it arrives, in readBody), so a refused body
 * is never held: a small one is read and dropped, keeping the connection, a big one is not read
 * and its connection is closed after the answer. A request's claim lives until its answer
 * has been handed to the kernel or its connection is gone, and a client that does not read its
 * answer cannot hold it longer than `writeTimeoutMs`: its connection is closed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ByteBudget, Claim } from '../core/byte-budget.js';
import type { HeapPressure } from './heap-pressure.js';

export interface MemoryGuard {
  budget: ByteBudget;
  heap: HeapPressure;
  /** Longest a written answer may wait for its client to take it (--client-timeout-ms). */
  writeTimeoutMs: number;
}

/** Refused: 'budget' past --max-memory-bytes (429), 'heap' with the V8 heap near its limit (503). */
export type Admission = { ok: true; claim: Claim } | { ok: false; reason: 'budget' | 'heap' };

/**
 * Admits a request before its body is read. A body declared larger than `maxBodyBytes` is let
 * through uncounted: readBody refuses it (413, the client's error, not the proxy's load) without
 * keeping any of it.
 */
export function admit(guard: MemoryGuard, request: IncomingMessage, response: ServerResponse, maxBodyBytes: number): Admission {
  if (guard.heap.high()) return { ok: false, reason: 'heap' };
  const claim = guard.budget.claim();
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared <= maxBodyBytes && !claim.cover(declared)) return { ok: false, reason: 'budget' };
  // 'close' follows 'finish' (the answer handed to the kernel) and also comes alone when the
  // connection is lost first: either way nothing of this request is held any more.
  response.once('close', () => claim.release());
  return { ok: true, claim };
}

/**
 * Past this much unread body, a refused request's connection is closed after its answer rather
 * than kept: reading a big body only to drop it costs the proxy as much work as taking it, and
 * under a flood of big bodies that work is what would starve the requests it did take (issue
 * 12's flood: 1,100 refused 1.5 MB bodies, 1.6 GB to read). Smaller ones are read and dropped,
 * so the connection stays usable.
 */
export const DRAIN_LIMIT_BYTES = 64 * 1024;

/**
 * Whether a refused request's body is small enough to read and drop (a chunked one declares no
 * size, so it is not, unless it has already ended).
 */
export function worthDraining(request: IncomingMessage): boolean {
  const declared = Number(request.headers['content-length']);
  return request.readableEnded || (Number.isFinite(declared) && declared <= DRAIN_LIMIT_BYTES);
}

/**
 * Call after the last write of an answer: if the client has not taken it all within the write
 * timeout, its connection is closed, which frees the answer (Node keeps what the kernel would
 * not take in the response's own buffer, for as long as the connection lives).
 */
export function limitWriteTime(guard: MemoryGuard, response: ServerResponse): void {
  if (response.writableFinished || response.destroyed) return;
  const timer = setTimeout(() => response.destroy(), guard.writeTimeoutMs);
  timer.unref();
  response.once('close', () => clearTimeout(timer));
}
