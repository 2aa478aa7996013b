/** The proxy's own endpoints under /autobatch/; these are never forwarded. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyMetrics } from '../metrics.js';
import { describeError, type UpstreamClient } from '../upstream/client.js';

export interface OwnEndpointsContext {
  client: UpstreamClient;
  metrics: ProxyMetrics;
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(value));
}

export async function handleOwnEndpoint(
  path: string,
  request: IncomingMessage,
  response: ServerResponse,
  context: OwnEndpointsContext,
): Promise<void> {
  request.resume();
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return sendJson(response, 405, { error: `${request.method} is not allowed on ${path}`, error_type: 'Validation' });
  }
  switch (path) {
    case '/autobatch/health':
      return sendJson(response, 200, { status: 'ok' });
    case '/autobatch/ready': {
      try {
        const health = await context.client.request('GET', '/health', { timeoutMs: 2000 });
        if (health.status === 200) return sendJson(response, 200, { status: 'ready' });
        return sendJson(response, 503, { status: 'not ready', reason: `upstream /health answered ${health.status}` });
      } catch (error) {
        return sendJson(response, 503, { status: 'not ready', reason: `upstream unreachable: ${describeError(error)}` });
      }
    }
    case '/autobatch/metrics': {
      const text = await context.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': context.metrics.registry.contentType });
      response.end(text);
      return;
    }
    default:
      return sendJson(response, 404, { error: `no such endpoint: ${path}`, error_type: 'Validation' });
  }
}
