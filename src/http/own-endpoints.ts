/** The proxy's own endpoints under /autobatch/; these are never forwarded. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PolicySnapshot } from '../core/policy/dispatch-policy.js';
import type { ProxyMetrics } from '../metrics.js';
import type { ReplicaSet } from '../upstream/replicas.js';

export interface OwnEndpointsContext {
  replicas: ReplicaSet;
  metrics: ProxyMetrics;
  /** What the dispatch policy has learned and decided, with the upstreams it applies to. */
  policy: () => PolicySnapshot & { upstreams: string[] };
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
      const { ready, upstreams } = await context.replicas.checkAll();
      return sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', upstreams });
    }
    case '/autobatch/policy':
      return sendJson(response, 200, context.policy());
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
