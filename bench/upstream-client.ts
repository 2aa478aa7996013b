/**
 * Why src/upstream/client.ts reads answers through undici's dispatch API rather than
 * `pool.request()`: CPU per call of both, one call at a time and 16 at once, against a local
 * server (its own process, so only the client's CPU is counted) answering one 384-dimension
 * vector as TEI's /embed does. `pool.request()` is measured as the client used it before: the
 * answer read through the body's async iterator, with an AbortSignal per call.
 *
 *   node --import tsx bench/upstream-client.ts [calls]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Pool } from 'undici';
import { UpstreamClient } from '../src/upstream/client.js';

const SERVER = `
const http = require('node:http');
const answer = JSON.stringify([Array.from({ length: 384 }, (_, i) => Math.sin(i))]);
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(answer); });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;
const BODY = JSON.stringify({ inputs: ['What is the capital of France?'] });

async function viaRequest(pool: Pool): Promise<number> {
  const abort = new AbortController();
  const response = await pool.request({
    method: 'POST',
    path: '/embed',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    signal: abort.signal,
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).length;
}

async function cpuPerCall(calls: number, concurrency: number, one: () => Promise<number>): Promise<number> {
  let started = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started++ < calls) await one();
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const calls = Number(process.argv[2] ?? 4000);
const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(server.stdout, 'data')) as [Buffer];
const url = new URL(`http://127.0.0.1:${line.toString().trim()}`);
const pool = new Pool(url.origin, { connections: 16, pipelining: 1 });
const client = new UpstreamClient({ url, connections: 16, timeoutMs: 30_000 });
try {
  for (const concurrency of [1, 16]) {
    // Alternating rounds (each call with its own AbortSignal, as the batcher gives it), so a machine getting busier shifts both alike; the first round warms up.
    const figures = { request: [] as number[], dispatch: [] as number[] };
    for (let round = 0; round < 4; round++) {
      const request = await cpuPerCall(calls, concurrency, () => viaRequest(pool));
      const dispatch = await cpuPerCall(
        calls,
        concurrency,
        async () => (await client.request('POST', '/embed', { body: BODY, signal: new AbortController().signal, reserve: () => true })).body.length,
      );
      if (round === 0) continue;
      figures.request.push(request);
      figures.dispatch.push(dispatch);
    }
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `${concurrency} at once: pool.request() ${median(figures.request).toFixed(0)} µs CPU per call, UpstreamClient (dispatch) ${median(figures.dispatch).toFixed(0)} µs`,
    );
  }
} finally {
  await pool.close();
  await client.close();
  server.kill();
}
