/**
 * Turns a batch of inputs into one upstream call and its answer into one answer per input. The
 * batching core calls this; the route rule decides the body and the cutting, this decides what
 * a failure means (whose fault it is, and what status the clients see).
 */
import type { CallOutcome, Executor } from '../core/batcher.js';
import { isJsonMediaType } from '../json/media-type.js';
import type { ForwardedHeaders } from '../routes/batch-key.js';
import type { BatchRule, InputText, ItemAnswer } from '../routes/rule.js';
import { sendableBody, type SendableBody } from './call-body.js';
import { proxyFailure, type CallFailure } from './call-failure.js';
import type { ByteBudget } from '../core/byte-budget.js';
import type { CallSpan, Tracing } from '../telemetry/tracing.js';
import { AnswerOverBudget, describeError, isTimeoutError, type UpstreamResponse } from './client.js';
import type { Replica, ReplicaSet } from './replicas.js';

/** Everything a call needs besides its inputs; equal for every job that may share the call. */
export interface CallGroup {
  rule: BatchRule;
  /** Path and query string sent upstream. */
  path: string;
  params: string;
  /** The clients' forwarded headers (credentials and `--forward-header`), equal for all of them. */
  headers: ForwardedHeaders;
}

/**
 * Statuses TEI answers when some input is bad (validation, tokenizer, empty, too large): the
 * whole call fails for one input, so the core isolates the culprit instead of failing everyone.
 */
const BLAMES_INPUTS = new Set([400, 413, 422]);

/**
 * Who caused a failed call. TEI's own validation errors are JSON and come from some input; a
 * plain-text 400 or 422 comes from its JSON extractor rejecting the body's shape, which here
 * means a parameter every job of the call shares (the proxy checked the inputs), so retrying
 * the jobs apart would only repeat it. A plain-text 413 is the merged body's size: halves help.
 */
export function blameFor(status: number, contentType: string | undefined): 'inputs' | 'call' {
  if (!BLAMES_INPUTS.has(status)) return 'call';
  if (status === 413 || isJsonMediaType(contentType)) return 'inputs';
  return 'call';
}

/**
 * Pauses before each retry of a call the upstream refused or cut (connection refused or reset):
 * embedding calls are idempotent, and an upstream that restarts is back within a second or two.
 * A timeout is not retried: the upstream may still be working on the call.
 */
export const RETRY_DELAYS_MS = [50, 250, 1000] as const;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits before each retry of a call the upstream answered 429 (overloaded: TEI's permits are
 * taken, usually by clients that bypass the proxy): its Retry-After when it sends one, capped.
 */
export const OVERLOAD_RETRY_DELAYS_MS = [100, 500] as const;
const MAX_RETRY_AFTER_MS = 2000;

function retryAfterMs(header: string | undefined, fallbackMs: number): number {
  const seconds = header === undefined ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : fallbackMs;
}

export function createExecutor(
  replicas: ReplicaSet,
  upstreamTimeoutMs: number,
  retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  overloadDelaysMs: readonly number[] = OVERLOAD_RETRY_DELAYS_MS,
  /** Counts each answer while it is read and cut (--max-memory-bytes); none: uncounted. */
  budget?: ByteBudget,
  /** When tracing is on: a span per call, linked to the requests it carries, its context sent upstream. */
  tracing?: Tracing,
): Executor<CallGroup, InputText, ItemAnswer, CallFailure> {
  /** Sends one call, moving to another replica or waiting out the schedule on connection failures. */
  async function send(
    group: CallGroup,
    items: readonly InputText[],
    body: SendableBody,
    signal: AbortSignal,
    reserve: ((total: number) => boolean) | undefined,
    span: CallSpan | undefined,
  ): Promise<UpstreamResponse | CallFailure> {
    // A call that failed on one replica goes to another at once; once every replica has
    // failed it, the next round waits for the next delay of the schedule.
    const failedOn = new Set<Replica>();
    let round = 0;
    let tries = 0;
    let lastError = '';
    for (;;) {
      const replica = replicas.pick(failedOn);
      if (replica === undefined) {
        const delay = retryDelaysMs[round++];
        if (delay === undefined || signal.aborted) {
          // No try at all: DNS discovery knows no replica (yet, or any more).
          const why = tries === 0 ? 'no replica of the upstream is known' : lastError;
          return proxyFailure(502, 'Backend', `upstream unreachable after ${tries} ${tries === 1 ? 'try' : 'tries'}: ${why}`);
        }
        await sleep(delay, signal);
        failedOn.clear();
        continue;
      }
      tries++;
      replica.outstanding += items.length;
      span?.sentTo(replica.url);
      try {
        const response = await replica.client.request('POST', group.path, {
          body,
          headers: group.headers,
          signal,
          reserve,
          traceHeaders: span?.headers,
        });
        replicas.recordAnswer(replica, response.status);
        // TEI's 503 (Unhealthy) is the replica's state, not the inputs': a healthy replica not
        // tried yet gets the call, as after a refused connection. Other 5xx may come from the
        // inputs, and are answered as they are.
        if (response.status === 503 && !signal.aborted) {
          failedOn.add(replica);
          if (replicas.pick(failedOn)?.healthy === true) continue;
        }
        return response;
      } catch (error) {
        if (isTimeoutError(error)) return proxyFailure(504, 'Backend', `upstream did not answer within ${upstreamTimeoutMs} ms`);
        // The replica is fine; the proxy had no room for what it said. Not retried: the same
        // answer would come again.
        if (error instanceof AnswerOverBudget)
          return proxyFailure(503, 'Overloaded', `autobatch is short of memory for the upstream's answer: ${error.message}`);
        lastError = describeError(error);
        failedOn.add(replica);
        if (!signal.aborted) replicas.markDown(replica, lastError);
      } finally {
        replica.outstanding -= items.length;
      }
    }
  }

  return async ({ group, items, signal, tags }) => {
    const span = tracing?.startCall(group.rule.path, items.length, tags);
    // The answer is counted from its first byte until it has been cut into the clients' answers
    // (they count their own copies); answers to retried tries are garbage by then.
    const claim = budget?.claim();
    try {
      const outcome = await call(group, items, signal, claim === undefined ? undefined : (total) => claim.cover(total, 'ceiling'), span);
      span?.end(outcome);
      return outcome;
    } catch (thrown) {
      span?.end({ thrown });
      throw thrown;
    } finally {
      claim?.release();
    }
  };

  async function call(
    group: CallGroup,
    items: readonly InputText[],
    signal: AbortSignal,
    reserve: ((total: number) => boolean) | undefined,
    span: CallSpan | undefined,
  ): Promise<CallOutcome<ItemAnswer, CallFailure>> {
    const body = sendableBody(group.rule.encodeCall(group.params, items));
    let response: UpstreamResponse | CallFailure;
    for (let overloaded = 0; ; overloaded++) {
      response = await send(group, items, body, signal, reserve, span);
      if ('kind' in response) return { ok: false, failure: response, blame: 'call' };
      const delay = overloadDelaysMs[overloaded];
      if (response.status !== 429 || delay === undefined || signal.aborted) break;
      await sleep(retryAfterMs(response.retryAfter, delay), signal);
    }
    if (response.status === 200) {
      const answers = group.rule.splitAnswer(response.body, items);
      if (answers === undefined) {
        const failure = proxyFailure(
          502,
          'Backend',
          `upstream answer to ${group.rule.path} does not hold one element per input (${items.length} sent)`,
        );
        return { ok: false, failure, blame: 'call' };
      }
      return { ok: true, answers };
    }
    const failure: CallFailure = { kind: 'upstream', ...response };
    return { ok: false, failure, blame: blameFor(response.status, response.contentType) };
  }
}
