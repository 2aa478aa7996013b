// One side of the comparison (the target or the baseline): a keep-alive connection pool, and
// the send-and-check of a single request.
import { Pool, type Dispatcher } from 'undici';
import { ERROR_NETWORK, ERROR_TIMEOUT, ERROR_WRONG_ANSWER, type RequestOutcome } from './request-outcome.js';
import type { AnswerCheckState, RouteShape } from './route-shapes.js';

export type TargetRole = 'target' | 'baseline';

/** A request body built before the run, so the load loop only picks one. */
export interface PreparedRequest {
  readonly body: Buffer;
  readonly inputCount: number;
}

export interface BenchTargetOptions {
  role: TargetRole;
  /** Base URL; the route is appended to its path. */
  url: string;
  route: string;
  /** Connections the pool may open: at least the highest number of requests in flight. */
  connections: number;
  timeoutMs: number;
  shape: RouteShape;
  headers: Readonly<Record<string, string>>;
}

/** The header an autobatch proxy sets: upstream batch size(s) behind this answer, e.g. "8" or "32,5". */
export const BATCH_SIZE_HEADER = 'x-autobatch-batch-size';

function parseBatchSizes(value: string | string[] | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const sizes: number[] = [];
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const size = Number(part.trim());
    if (Number.isInteger(size) && size > 0) sizes.push(size);
  }
  return sizes.length > 0 ? sizes : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${typeof code === 'string' ? `${code} ` : ''}${error.message}${cause}`;
  }
  return String(error);
}

export class BenchTarget {
  readonly role: TargetRole;
  readonly url: string;
  readonly #pool: Pool;
  readonly #path: string;
  readonly #timeoutMs: number;
  readonly #shape: RouteShape;
  readonly #headers: Record<string, string>;
  readonly #checkState: AnswerCheckState = {};

  constructor(options: BenchTargetOptions) {
    this.role = options.role;
    this.url = options.url;
    const base = new URL(options.url);
    const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
    const route = options.route.startsWith('/') ? options.route : `/${options.route}`;
    this.#path = `${prefix}${route}`;
    this.#timeoutMs = options.timeoutMs;
    this.#shape = options.shape;
    this.#headers = { ...options.headers, 'content-type': 'application/json' };
    this.#pool = new Pool(base.origin, {
      connections: options.connections,
      pipelining: 1,
      // Our own per-request deadline governs; undici's must never fire first.
      headersTimeout: options.timeoutMs + 1000,
      bodyTimeout: options.timeoutMs + 1000,
    });
  }

  /** Width of the vectors answered so far (undefined before the first, or for other routes). */
  get vectorWidth(): number | undefined {
    return this.#checkState.vectorWidth;
  }

  /**
   * Sends one request and checks the answer. Never rejects: failures are outcomes.
   *
   * Through undici's dispatch API with a handler that keeps the answer's chunks, and a timer that
   * aborts through the handler's controller: the load generator shares the machine with what it
   * measures, so its own CPU per request is taken from them. `pool.request()` with an
   * AbortController per request cost about 30% more: 228-267 against 183-201 µs of CPU per
   * request, alternating runs against a zero-cost simulator at 64 clients (createAbortSignal alone
   * was 5% of the bench's busy time in a CPU profile).
   */
  send(request: PreparedRequest): Promise<RequestOutcome> {
    return new Promise<RequestOutcome>((resolve) => {
      const chunks: Buffer[] = [];
      let status = 0;
      let batchSizes: string | string[] | undefined;
      let timedOut = false;
      let controller: Dispatcher.DispatchController | undefined;
      let settled = false;
      const finish = (outcome: RequestOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      // Answered at the deadline even if the request is still queued in the pool (it is then
      // aborted when it starts, which frees its place).
      const timer = setTimeout(() => {
        timedOut = true;
        // First: the abort reports its own error at once, through onResponseError.
        finish({ ok: false, error: ERROR_TIMEOUT, detail: `no complete answer within ${this.#timeoutMs} ms` });
        controller?.abort(new Error('deadline'));
      }, this.#timeoutMs);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(started) {
          controller = started;
          if (timedOut) started.abort(new Error('deadline'));
        },
        onResponseStart(_controller, statusCode, headers) {
          status = statusCode;
          batchSizes = headers[BATCH_SIZE_HEADER];
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          // Always read the whole body, error or not, so the connection can be reused.
          finish(this.#outcome(status, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), request.inputCount, batchSizes));
        },
        // After the deadline, the abort's own error: the outcome was given at the deadline.
        onResponseError: (_controller, error) => finish({ ok: false, error: ERROR_NETWORK, detail: describeError(error) }),
      };
      try {
        this.#pool.dispatch({ method: 'POST', path: this.#path, headers: this.#headers, body: request.body }, handler);
      } catch (error) {
        finish({ ok: false, error: ERROR_NETWORK, detail: describeError(error) });
      }
    });
  }

  /** The outcome of a whole answer. */
  #outcome(status: number, body: Buffer, inputCount: number, batchSizes: string | string[] | undefined): RequestOutcome {
    if (status === 200 && this.#shape.vouchesFor?.(body, inputCount, this.#checkState) === true)
      return { ok: true, batchSizes: parseBatchSizes(batchSizes) };
    const text = body.toString('utf8');
    if (status !== 200) return { ok: false, error: String(status), detail: text.slice(0, 300) };
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      return { ok: false, error: ERROR_WRONG_ANSWER, detail: `answer is not JSON: ${text.slice(0, 100)}` };
    }
    const problem = this.#shape.checkAnswer(answer, inputCount, this.#checkState);
    if (problem !== undefined) return { ok: false, error: ERROR_WRONG_ANSWER, detail: problem };
    return { ok: true, batchSizes: parseBatchSizes(batchSizes) };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
