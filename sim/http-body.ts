/**
 * The request body of a test upstream, read whole up to a size cap (http_body_util::Limited, as
 * TEI's axum router reads it). One reader for every stand-in upstream (the simulator, the
 * real-model upstream in bench/upstreams, the tiny TEI and the fake servers of the tests) so
 * that each refuses an oversized body the same way: it stops collecting at the cap but keeps
 * draining the socket, so that the 413 can still be written on it.
 */
import type { IncomingMessage } from 'node:http';

/** Reads the body up to `limit` bytes; undefined when it is larger (a declared length over it is not read at all). */
export function readBodyWithin(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        req.off('data', onData);
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total)));
    req.on('error', reject);
  });
}
