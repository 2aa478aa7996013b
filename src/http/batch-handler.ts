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
import type { ErrorType, RuleError } from '../routes/errors.js';
import type { BatchRule, InputText, ItemAnswer } from '../routes/rule.js';
import { inputBytes } from '../routes/input-text.js';
import { callBodyBytes } from '../upstream/call-body.js';
import type { Tracing } from '../telemetry/tracing.js';
import type { CallFailure } from '../upstream/call-failure.js';
import type { UpstreamResponse } from '../upstream/client.js';
import type { CallGroup } from '../upstream/executor.js';
import { ClientGone } from '../core/cancel-signal.js';
import { isJsonMediaType } from '../json/media-type.js';
import { batchKey, pickHeaders, type ForwardedHeaders } from '../routes/batch-key.js';
import { errorBody } from './error-body.js';
import { admit, limitWriteTime, worthDraining, type MemoryGuard } from './memory-guard.js';
import { readBody, type BodyResult } from './read-body.js';
import { readInputs } from './read-inputs.js';

export type ProxyBatcher = Batcher<CallGroup, InputText, ItemAnswer, CallFailure>;

export interface BatchHandlerContext {
  batcher: ProxyBatcher;
  /** Sends one client's own request upstream unchanged, with its forwarded headers and trace context (see `needsReplay`). */
  replay: (
    path: string,
    body: Buffer,
    headers: ForwardedHeaders,
    traceHeaders: Readonly<Record<string, string>> | undefined,
  ) => Promise<UpstreamResponse>;
  /** Request headers sent on calls and part of the batch key (lower case, sorted; see batch-key.ts). */
  forwardHeaders: readonly string[];
  metrics: ProxyMetrics;
  log: Logger;
  maxBodyBytes: number;
  maxBatchBytes: number;
  queueTimeoutMs: number;
  /** The length-bucket factor in force for a route (`--bucket-by-length`, or the policy's); undefined: off. */
  bucketFactor: (route: string) => number | undefined;
  /** Bodies sent alone right now (see replayAlone), and how many may be. */
  replays: { active: number; readonly limit: number };
  /** The memory budget (--max-memory-bytes) and the heap backstop. */
  memory: MemoryGuard;
  /** OpenTelemetry tracing (src/telemetry/), or undefined when it is off. */
  tracing?: Tracing | undefined;
}

/** The decoder drops a leading byte-order mark; a replay puts it back. */
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

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
  const span = context.tracing?.startRequest(route, request, response);
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

  const admission = admit(context.memory, request, response, context.maxBodyBytes);
  if (!admission.ok) return refuseForMemory(admission.reason);
  const claim = admission.claim;
  let read: BodyResult | undefined = await readBody(request, context.maxBodyBytes, claim);
  if (!read.ok) {
    if (read.reason === 'aborted') return;
    if (read.reason === 'over-budget') return refuseForMemory('budget');
    return reject(413, 'Validation', `request body is larger than ${context.maxBodyBytes} bytes`, {
      connection: 'close',
    });
  }

  // Once the inputs are read, the body's bytes are held only where the inputs are views of them
  // (read-inputs.ts); otherwise the Buffer is dropped and a replay sends the decoded text encoded
  // again: the same bytes, as the decoder accepts valid UTF-8 only.
  let clientBody: Buffer | undefined = read.body;
  // The async function's frame lives until the answer is written: dropping the reference lets
  // the Buffer go once the inputs share the text (measured: docs/memory.md).
  // eslint-disable-next-line no-useless-assignment
  read = undefined;
  let clientText: string | undefined;
  const hadBom = clientBody[0] === 0xef && clientBody[1] === 0xbb && clientBody[2] === 0xbf;
  const path = request.url ?? route;
  const headers = pickHeaders(request.headers, context.forwardHeaders);

  // A body the proxy cannot take apart with certainty is not batched: TEI's JSON extractor words
  // its refusals itself (plain text, serde's messages and positions), and only the upstream
  // knows them, so the client's own body goes alone and the client gets the upstream's answer.
  // The proxy's own error is the fallback when the upstream cannot be reached. Even a refusal
  // the proxy could word itself (an empty input) goes alone: TEI reads every field before its
  // handler checks anything, so another field's error, or the model's, may come first, and the
  // upstream is the one that knows.
  const inputs = readInputs(rule, clientBody);
  if (!inputs.ok) return replayAlone(() => rejectRule(inputs.error));
  const parsed = inputs.parsed;
  const items = inputs.items;
  if (inputs.text !== undefined) {
    clientText = inputs.text;
    clientBody = undefined;
  }

  const group: CallGroup = { rule, path, params: parsed.params, headers };
  const overheadBytes = callBodyBytes(rule.encodeCall(parsed.params, []));
  const itemBytes = items.map((item) => inputBytes(item) + 1);
  let longestItemBytes = 0;
  for (const size of itemBytes) if (size > longestItemBytes) longestItemBytes = size;
  const key = batchKey({ path, params: parsed.params, headers, longestItemBytes, bandFactor: context.bucketFactor(route), solo: parsed.solo });

  const disconnected = new ClientGone();
  const onClose = (): void => {
    if (!response.writableEnded) disconnected.abort();
  };
  response.once('close', onClose);

  const outcome = await context.batcher.submit({
    key,
    group,
    items,
    itemBytes,
    overheadBytes,
    signal: disconnected,
    tag: span?.tag,
    route,
  });
  response.off('close', onClose);
  span?.recordOutcome(items.length, outcome);

  switch (outcome.status) {
    case 'ok': {
      const stats = outcome.stats;
      context.metrics.queueWait.observe({ route }, stats.queueMs / 1000);
      const answer = parsed.assemble(outcome.answers);
      claim.add(answer.length);
      count(200);
      if (response.destroyed) return;
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': answer.length,
        'x-autobatch-batch-size': stats.batchSize,
        'x-autobatch-queue-ms': stats.queueMs.toFixed(2),
      });
      response.end(answer);
      limitWriteTime(context.memory, response);
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
          return reject(
            504,
            'Backend',
            `the request waited ${context.queueTimeoutMs} ms in the proxy without reaching the upstream (--queue-timeout-ms)`,
          );
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
      alone = await context.replay(path, replayBody(), headers, span?.propagationHeaders());
    } catch {
      sentAlone('unreachable');
      return fallback();
    } finally {
      replays.active--;
    }
    sentAlone('answered');
    return sendUpstreamAnswer({ kind: 'upstream', ...alone });
  }

  /** The client's own bytes, as read. */
  function replayBody(): Buffer {
    if (clientBody !== undefined) return clientBody;
    const bytes = Buffer.from(clientText!, 'utf8');
    return hadBom ? Buffer.concat([UTF8_BOM, bytes]) : bytes;
  }

  /**
   * Past the memory budget (429, TEI's answer past its permits, so clients back off and retry)
   * or with the heap near its limit (503). Any unread body is drained, not kept, so the
   * connection stays usable.
   */
  function refuseForMemory(reason: 'budget' | 'heap'): void {
    context.metrics.memoryRefused.inc({ reason });
    request.resume();
    const headers = { 'retry-after': '1', ...(worthDraining(request) ? {} : { connection: 'close' }) };
    if (reason === 'budget') return reject(429, 'Overloaded', 'Model is overloaded', headers);
    return reject(503, 'Overloaded', 'autobatch is short of memory: try again shortly', headers);
  }

  /** The upstream's status, type and body as they came (an error, or whatever a replay got). */
  function sendUpstreamAnswer(failure: CallFailure): void {
    if (failure.kind === 'proxy') return reject(failure.status, failure.errorType, failure.message);
    count(failure.status);
    if (response.destroyed) return;
    const headers: Record<string, string | number> = { 'content-length': failure.body.length };
    if (failure.contentType !== undefined) headers['content-type'] = failure.contentType;
    if (failure.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
    claim.add(failure.body.length);
    response.writeHead(failure.status, headers);
    response.end(failure.body);
    limitWriteTime(context.memory, response);
  }
}
