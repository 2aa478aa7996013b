/**
 * The smallest correct reverse proxy built on http-proxy-3: the yardstick for what autobatch's
 * own work costs (P3). Every request goes to the upstream as it came, over a keep-alive agent
 * (as autobatch's upstream client does), so the two differ only in what they do per request.
 * Prints its URL alone on a line once it listens.
 *
 *   node --import tsx bench/perf/plain-proxy.ts --upstream http://127.0.0.1:8081 [--port 0]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createProxyServer } from 'http-proxy-3';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
  },
});
if (values.upstream === undefined) {
  process.stderr.write('usage: plain-proxy --upstream <url> [--host 127.0.0.1] [--port 0]\n');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true });
const proxy = createProxyServer({ target: values.upstream, agent });
// Without a handler an unreachable upstream would crash the process; a proxy answers 502.
proxy.on('error', (error, _request, response) => {
  if (response instanceof http.ServerResponse && !response.headersSent) {
    response.writeHead(502, { 'content-type': 'text/plain' });
    response.end(`upstream error: ${error.message}`);
  } else {
    response.destroy();
  }
});

// Same client-side timeouts as autobatch's server, so idle benchmark connections stay open.
const server = http.createServer({ keepAliveTimeout: 65_000 }, (request, response) => proxy.web(request, response));
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as AddressInfo;
  console.log(`http://${values.host}:${port}`);
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  agent.destroy();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
