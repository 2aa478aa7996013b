/**
 * HTTP out: one keep-alive undici pool to the upstream for batched calls and probes. The
 * pass-through has its own path (http-proxy-3); this client only ever sends what the proxy built.
 */
import type { LookupFunction } from 'node:net';
import { Pool } from 'undici';

export interface UpstreamResponse {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  body: Buffer;
}

export interface UpstreamClientOptions {
  /** The upstream base URL; a path in it prefixes every request path. */
  url: URL;
  /** Connections kept to the upstream. */
  connections: number;
  /** How long a call may take to send its headers and each body chunk. */
  timeoutMs: number;
  /** Reaches the host through this lookup (a replica found by DNS discovery); default: the system's. */
  lookup?: LookupFunction | undefined;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class UpstreamClient {
  private readonly pool: Pool;
  private readonly prefix: string;

  constructor(options: UpstreamClientOptions) {
    this.pool = new Pool(options.url.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
      ...(options.lookup === undefined ? {} : { connect: { lookup: options.lookup } }),
    });
    this.prefix = options.url.pathname.replace(/\/+$/, '');
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: string | Buffer; authorization?: string | undefined; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    const response = await this.pool.request({
      method,
      path: this.prefix + path,
      headers,
      body: options.body,
      signal: options.signal,
      ...(options.timeoutMs === undefined ? {} : { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs }),
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    return {
      status: response.statusCode,
      contentType: headerValue(response.headers['content-type']),
      retryAfter: headerValue(response.headers['retry-after']),
      body,
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** True when an undici error means the upstream was too slow rather than unreachable. */
export function isTimeoutError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && TIMEOUT_CODES.has((error as { code?: string }).code ?? '');
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return code ? `${code} ${error.message}${cause}` : `${error.message}${cause}`;
}
