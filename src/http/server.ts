/**
 * The listening server: sends each request to the proxy's own endpoints, to batching, or
 * through to the upstream. Only POSTs to a batched path with a plain (not content-encoded) body
 * are batched; anything else on those paths (GET, compressed bodies) passes through, so the
 * upstream answers it as it would without the proxy.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { BatchRule } from '../routes/rule.js';
import { isJsonMediaType } from '../json/media-type.js';
import { handleBatched, type BatchHandlerContext } from './batch-handler.js';
import { handleOwnEndpoint, type OwnEndpointsContext } from './own-endpoints.js';
import type { Passthrough } from './passthrough.js';

export interface ServerContext {
  rules: ReadonlyMap<string, BatchRule>;
  batching: BatchHandlerContext;
  own: OwnEndpointsContext;
  passthrough: Passthrough;
  log: Logger;
  /** Longest a client may take to send a whole request (headers and body). */
  clientTimeoutMs: number;
}

export function createProxyHttpServer(context: ServerContext): http.Server {
  const server = http.createServer(
    {
      // Slow or stalled clients cannot hold a connection (and its buffers) forever: Node answers
      // 408 and closes it. It checks on this interval, so the cut comes up to one interval late.
      requestTimeout: context.clientTimeoutMs,
      headersTimeout: context.clientTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, context.clientTimeoutMs),
      keepAliveTimeout: 65_000,
    },
    (request, response) => {
      const url = request.url ?? '/';
      const queryAt = url.indexOf('?');
      const path = queryAt < 0 ? url : url.slice(0, queryAt);
      if (path.startsWith('/autobatch/')) {
        handleOwnEndpoint(path, request, response, context.own).catch((error: unknown) => fail(error, response));
        return;
      }
      const rule = request.method === 'POST' ? context.rules.get(path) : undefined;
      // Only plain JSON bodies are batched. Anything else goes to the upstream as it came, so the
      // client gets the upstream's own answer (TEI refuses another content type with a 415).
      if (rule !== undefined && request.headers['content-encoding'] === undefined && isJsonMediaType(request.headers['content-type'])) {
        handleBatched(rule, request, response, context.batching).catch((error: unknown) => fail(error, response));
        return;
      }
      context.passthrough.forward(request, response);
    },
  );

  function fail(error: unknown, response: http.ServerResponse): void {
    // A bug must cost one request, never the process.
    context.log.error({ err: error }, 'request handler failed');
    if (!response.headersSent) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'internal proxy error', error_type: 'Backend' }));
    } else {
      response.destroy();
    }
  }

  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
    context.log.debug({ err: error }, 'client error');
  });
  return server;
}
