/**
 * HTTP in, for batched routes: read and check the client's body, hand its inputs to the batching
 * core, and write the client's own answer. Everything a client can get wrong is answered here,
 * with the status TEI would use and a message that says what is wrong; nothing reaches the core
 * that the core cannot batch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Batcher } from '../core/batcher.js';
import type { ProxyMetrics } from '../metrics.js';
import { isRuleError, type BatchRule, type ErrorType, type ItemAnswer, type RuleError } from '../routes/rule.js';
import type { CallFailure } from '../upstream/call-failure.js';
import type { UpstreamResponse } from '../upstream/client.js';
import type { CallGroup } from '../upstream/executor.js';
import { ClientGone } from '../core/cancel-signal.js';
import { lengthBucket } from '../core/length-bucket.js';
import { isJsonMediaType } from '../json/media-type.js';
import { duplicateKey } from '../json/scan.js';
import { deserializeError } from '../routes/tei-input.js';
import { errorBody } from './error-body.js';
import { readBody } from './read-body.js';

export type ProxyBatcher = Batcher<CallGroup, string, ItemAnswer, CallFailure>;

export interface BatchHandlerContext {
  batcher: ProxyBatcher;
  /** Sends one client's own request upstream unchanged (see `needsReplay`). */
  replay: (path: string, body: Buffer, authorization: string | undefined) => Promise<UpstreamResponse>;
  metrics: ProxyMetrics;
  log: Logger;
  maxBodyBytes: number;
  maxBatchBytes: number;
  queueTimeoutMs: number;
  /** The length-bucket factor in force for a route (`--bucket-by-length`, or the policy's); undefined: off. */
  bucketFactor: (route: string) => number | undefined;
  /** Bodies sent alone right now (see replayAlone), and how many may be. */
  replays: { active: number; readonly limit: number };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Requests sent alone get a key nobody else has. */
let soloSequence = 0;

/**
 * The upstream's plain-text 4xx come from its JSON extractor, which reads the whole body before
 * any batch-size check: the client's own body sent alone gets the exact text, even when the
 * proxy had split the request over several calls.
 */
function needsReplay(failure: CallFailure): boolean {
  return failure.kind === 'upstream' && failure.status >= 400 && failure.status < 500 && !isJsonMediaType(failure.contentType);
}

export async function handleBatched(
  rule: BatchRule,
  request: IncomingMessage,
  response: ServerResponse,
  context: BatchHandlerContext,
): Promise<void> {
  const route = rule.path;
  const count = (status: number): void => {
    context.metrics.requests.inc({ route, status: String(status) });
  };
  const reject = (status: number, errorType: ErrorType, message: string, headers: Record<string, string> = {}): void => {
    count(status);
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(errorBody(rule.errorStyle, status, errorType, message));
  };
  const rejectRule = (error: RuleError): void => reject(error.status, error.errorType, error.message);

  const read = await readBody(request, context.maxBodyBytes);
  if (!read.ok) {
    if (read.reason === 'aborted') return;
    return reject(413, 'Validation', `request body is larger than ${context.maxBodyBytes} bytes`, {
      connection: 'close',
    });
  }

  const clientBody = read.body;
  const path = request.url ?? route;
  const authorization = request.headers.authorization;

  // A body the proxy cannot take apart with certainty is not batched: TEI's JSON extractor words
  // its refusals itself (plain text, serde's messages and positions), and only the upstream
  // knows them, so the client's own body goes alone and the client gets the upstream's answer.
  // The proxy's own error is the fallback when the upstream cannot be reached.
  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(clientBody));
  } catch (error) {
    const detail = error instanceof TypeError ? 'the body is not valid UTF-8' : (error as Error).message;
    return replayAlone(() => rejectRule({ status: 400, errorType: 'Validation', message: `Failed to parse the request body as JSON: ${detail}` }));
  }
  // JSON.parse keeps the last of a repeated key; serde refuses the body.
  const repeated = duplicateKey(clientBody);
  if (repeated !== undefined) {
    return replayAlone(() => rejectRule(deserializeError(`duplicate field \`${repeated}\``)));
  }

  let parsed;
  try {
    parsed = rule.parse(body);
  } catch {
    // Only pathological bodies get here (a field nested deeper than the stack allows): the
    // upstream, which may well ignore that field, answers the client's own body alone.
    return replayAlone(() => reject(422, 'Validation', 'the request body is nested too deeply for the proxy to read'));
  }
  // Even a refusal the proxy could word itself (an empty input) goes alone: TEI reads every
  // field before its handler checks anything, so another field's error, or the model's, may
  // come first, and the upstream is the one that knows.
  if (isRuleError(parsed)) return replayAlone(() => rejectRule(parsed));

  const group: CallGroup = { rule, path, params: parsed.params, authorization };
  const overheadBytes = Buffer.byteLength(rule.encodeCall(parsed.params, []));
  const itemBytes = parsed.items.map((item) => Buffer.byteLength(item) + 1);

  let key = `${path}\u0000${parsed.params}\u0000${authorization ?? ''}`;
  if (parsed.solo) key += `\u0000solo${++soloSequence}`;
  else {
    const factor = context.bucketFactor(route);
    if (factor !== undefined) {
      let longest = 0;
      for (const size of itemBytes) if (size > longest) longest = size;
      key += `\u0000len${lengthBucket(longest - 1, factor)}`;
    }
  }

  const disconnected = new ClientGone();
  const onClose = (): void => {
    if (!response.writableEnded) disconnected.abort();
  };
  response.once('close', onClose);

  const outcome = await context.batcher.submit({
    key,
    group,
    items: parsed.items,
    itemBytes,
    overheadBytes,
    signal: disconnected,
    route,
  });
  response.off('close', onClose);

  switch (outcome.status) {
    case 'ok': {
      const stats = outcome.stats;
      context.metrics.queueWait.observe({ route }, stats.queueMs / 1000);
      const answer = parsed.assemble(outcome.answers);
      count(200);
      if (response.destroyed) return;
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': answer.length,
        'x-autobatch-batch-size': stats.batchSize,
        'x-autobatch-queue-ms': stats.queueMs.toFixed(2),
      });
      response.end(answer);
      return;
    }
    case 'failed':
      if (needsReplay(outcome.failure)) {
        const failure = outcome.failure;
        // Without the replay the client still gets the upstream's status and text, with a column
        // counted in the merged body.
        return replayAlone(() => sendUpstreamAnswer(failure));
      }
      return sendUpstreamAnswer(outcome.failure);
    case 'rejected':
      switch (outcome.reason) {
        case 'queue-full':
          return reject(429, 'Overloaded', 'Model is overloaded', { 'retry-after': '1' });
        case 'item-too-large':
          return reject(
            413,
            'Validation',
            `an input is too large to fit in one upstream call of at most ${context.maxBatchBytes} bytes (--max-batch-bytes)`,
          );
        case 'closed':
          return reject(503, 'Unhealthy', 'autobatch is shutting down');
        case 'expired':
          return reject(504, 'Backend', `the request waited ${context.queueTimeoutMs} ms in the proxy without reaching the upstream (--queue-timeout-ms)`);
        case 'cancelled':
          // The client has gone; there is nobody to answer.
          count(499);
          return;
      }
  }

  /**
   * Sends the client's own body to the upstream alone and hands back the upstream's answer. For
   * bodies the proxy cannot batch, and for the upstream's plain-text errors (its JSON
   * extractor's), which quote positions in the body it was sent: for a merged call, not the
   * client's. Costs one call, on failure paths only. Replays bypass the batching core's in-flight
   * limit, so they have their own: past it, and when the upstream cannot be reached, the client
   * gets `fallback`, so a flood of bad bodies cannot open unbounded upstream calls.
   */
  async function replayAlone(fallback: () => void): Promise<void> {
    const replays = context.replays;
    const sentAlone = (result: 'answered' | 'over_limit' | 'unreachable'): void => context.metrics.sentAlone.inc({ route, result });
    if (replays.active >= replays.limit) {
      sentAlone('over_limit');
      return fallback();
    }
    replays.active++;
    let alone: UpstreamResponse;
    try {
      alone = await context.replay(path, clientBody, authorization);
    } catch {
      sentAlone('unreachable');
      return fallback();
    } finally {
      replays.active--;
    }
    sentAlone('answered');
    return sendUpstreamAnswer({ kind: 'upstream', ...alone });
  }

  /** The upstream's status, type and body as they came (an error, or whatever a replay got). */
  function sendUpstreamAnswer(failure: CallFailure): void {
    if (failure.kind === 'proxy') return reject(failure.status, failure.errorType, failure.message);
    count(failure.status);
    if (response.destroyed) return;
    const headers: Record<string, string | number> = { 'content-length': failure.body.length };
    if (failure.contentType !== undefined) headers['content-type'] = failure.contentType;
    if (failure.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
    response.writeHead(failure.status, headers);
    response.end(failure.body);
  }
}
