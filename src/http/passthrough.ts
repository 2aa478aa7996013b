/**
 * Everything the proxy does not batch goes to the upstream untouched through http-proxy-3:
 * any method, path, query, headers, status and streamed body in both directions.
 */
import http from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from 'pino';
import { errorBody } from './error-body.js';

export interface Passthrough {
  forward(request: http.IncomingMessage, response: http.ServerResponse): void;
  close(): void;
}

/** Where one request goes: the upstream's URL, and an agent that reaches the chosen replica. */
export interface PassthroughTarget {
  url: URL;
  agent: http.Agent;
}

export function createPassthrough(
  target: () => PassthroughTarget | undefined,
  timeoutMs: number,
  log: Logger,
  onAnswered: (status: number) => void,
): Passthrough {
  const proxy = createProxyServer({ changeOrigin: true, proxyTimeout: timeoutMs });
  proxy.on('error', (error, request, response) => {
    log.warn({ err: error, url: request.url }, 'pass-through to upstream failed');
    if (!(response instanceof http.ServerResponse)) {
      response.destroy();
      return;
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const code = (error as { code?: string }).code ?? '';
    const status = /timeout|ETIMEDOUT/i.test(`${code} ${error.message}`) ? 504 : 502;
    onAnswered(status);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(errorBody('tei', status, 'Backend', `upstream unreachable: ${error.message}`));
  });
  proxy.on('proxyRes', (upstreamResponse) => onAnswered(upstreamResponse.statusCode ?? 0));
  return {
    forward: (request, response) => {
      const upstream = target();
      if (upstream === undefined) {
        // DNS discovery has found no replica yet (or any more).
        request.resume();
        onAnswered(502);
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end(errorBody('tei', 502, 'Backend', 'upstream unreachable: no replica of the upstream is known'));
        return;
      }
      proxy.web(request, response, { target: upstream.url.href, agent: upstream.agent });
    },
    close: () => {
      proxy.close();
    },
  };
}
