/**
 * Everything the proxy does not batch goes to the upstream untouched through http-proxy-3:
 * any method, path, query, headers, status and streamed body in both directions.
 */
import http from 'node:http';
import https from 'node:https';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from 'pino';
import { errorBody } from './error-body.js';

export interface Passthrough {
  forward(request: http.IncomingMessage, response: http.ServerResponse): void;
  close(): void;
}

export function createPassthrough(
  target: () => URL,
  timeoutMs: number,
  log: Logger,
  onAnswered: (status: number) => void,
  /** Certificate authorities trusted for an https upstream (`--upstream-ca`); undefined: Node's own. */
  ca?: readonly string[],
): Passthrough {
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true, ...(ca === undefined ? {} : { ca: [...ca] }) });
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
      const agent = upstream.protocol === 'https:' ? httpsAgent : httpAgent;
      proxy.web(request, response, { target: upstream.href, agent });
    },
    close: () => {
      proxy.close();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
