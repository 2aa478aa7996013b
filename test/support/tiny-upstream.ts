/** A minimal TEI-like upstream for tests that need only /info, /health and /embed. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TinyUpstream {
  url: string;
  calls: number;
  close(): Promise<void>;
}

export async function startTinyUpstream(maxClientBatchSize = 4): Promise<TinyUpstream> {
  const state = { calls: 0 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/info') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ model_id: 'tiny', max_client_batch_size: maxClientBatchSize }));
        return;
      }
      if (request.url === '/health') {
        response.writeHead(200);
        response.end();
        return;
      }
      if (request.url === '/embed' && request.method === 'POST') {
        state.calls++;
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { inputs: unknown };
        const inputs = Array.isArray(body.inputs) ? body.inputs : [body.inputs];
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(inputs.map((input) => [String(input).length, 0.5])));
        return;
      }
      response.writeHead(404);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
