// One side of the comparison (the target or the baseline): a keep-alive connection pool, and
// the send-and-check of a single request.
import { Pool } from 'undici';
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

  /** Sends one request and checks the answer. Never rejects: failures are outcomes. */
  async send(request: PreparedRequest): Promise<RequestOutcome> {
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.#timeoutMs);
    try {
      const response = await this.#pool.request({
        method: 'POST',
        path: this.#path,
        headers: this.#headers,
        body: request.body,
        signal: abort.signal,
      });
      // Always read the whole body, error or not, so the connection can be reused.
      const text = await response.body.text();
      if (response.statusCode !== 200) {
        return { ok: false, error: String(response.statusCode), detail: text.slice(0, 300) };
      }
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        return { ok: false, error: ERROR_WRONG_ANSWER, detail: `answer is not JSON: ${text.slice(0, 100)}` };
      }
      const problem = this.#shape.checkAnswer(answer, request.inputCount, this.#checkState);
      if (problem !== undefined) return { ok: false, error: ERROR_WRONG_ANSWER, detail: problem };
      return { ok: true, batchSizes: parseBatchSizes(response.headers[BATCH_SIZE_HEADER]) };
    } catch (error) {
      if (timedOut) return { ok: false, error: ERROR_TIMEOUT, detail: `no complete answer within ${this.#timeoutMs} ms` };
      return { ok: false, error: ERROR_NETWORK, detail: describeError(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
