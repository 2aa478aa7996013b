/** Deadlines and upstream faults over real HTTP: what a client sees, and that it always sees something. */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy } from '../../src/proxy.js';
import { startTeiSim } from '../../sim/index.js';
import { post } from '../support/http.js';
import { unusedPort } from '../support/ports.js';
import { withSimAndProxy } from '../support/sim-proxy.js';

const logger = createLogger('silent', 'json');

describe('upstream faults', () => {
  it('retries a refused connection, so an upstream that comes back in time answers', async () => {
    const port = await unusedPort();
    const proxy = await startProxy({ upstream: `http://127.0.0.1:${port}`, host: '127.0.0.1', port: 0, logger, maxBatchSize: 8 });
    try {
      const pending = post(proxy.url, '/embed', { inputs: 'late upstream' });
      await new Promise((resolve) => setTimeout(resolve, 120));
      const sim = await startTeiSim({ port, dimensions: 8 });
      try {
        const reply = await pending;
        expect(reply.status).toBe(200);
        expect(reply.text).toBe((await post(sim.url, '/embed', { inputs: 'late upstream' })).text);
      } finally {
        await sim.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it("answers 502 in TEI's shape once the retries are spent", async () => {
    const port = await unusedPort();
    const proxy = await startProxy({ upstream: `http://127.0.0.1:${port}`, host: '127.0.0.1', port: 0, logger, maxBatchSize: 8 });
    try {
      const reply = await post(proxy.url, '/v1/embeddings', { input: 'nobody home' });
      expect(reply.status).toBe(502);
      expect(reply.json()).toMatchObject({ code: 502, type: 'Backend', message: expect.stringContaining('after 4 tries') });
    } finally {
      await proxy.close();
    }
  });

  it('answers 504 when the upstream is slower than --upstream-timeout-ms', async () => {
    await withSimAndProxy(
      { dimensions: 8, cost: { perCallMs: 1_000, perItemMs: 0, slots: 1, merge: false } },
      { upstreamTimeoutMs: 150 },
      async (sim, proxy) => {
        const reply = await post(proxy.url, '/embed', { inputs: 'slow' });
        expect(reply.status).toBe(504);
        expect(reply.json()).toMatchObject({ error_type: 'Backend', error: expect.stringContaining('150 ms') });
      },
    );
  });

  it('drops a request still queued at --queue-timeout-ms with 504, and answers the rest', async () => {
    const sim = await startTeiSim({ dimensions: 8, cost: { perCallMs: 300, perItemMs: 0, slots: 1, merge: false } });
    const proxy = await startProxy({
      upstream: sim.url,
      host: '127.0.0.1',
      port: 0,
      logger,
      maxInflight: 1,
      maxBatchSize: 1,
      queueTimeoutMs: 100,
    });
    try {
      sim.resetStats();
      const [first, second] = await Promise.all([post(proxy.url, '/embed', { inputs: 'first' }), post(proxy.url, '/embed', { inputs: 'second' })]);
      expect(first.status).toBe(200);
      expect(second.status).toBe(504);
      expect(second.json()).toMatchObject({ error_type: 'Backend', error: expect.stringContaining('--queue-timeout-ms') });
      // The dropped request cost the upstream nothing.
      expect(sim.stats.calls).toBe(1);
    } finally {
      await proxy.close();
      await sim.close();
    }
  });

  it('answers 429 with Retry-After at once when the queue is full', async () => {
    await withSimAndProxy(
      { dimensions: 8, cost: { perCallMs: 200, perItemMs: 0, slots: 1, merge: false } },
      { maxInflight: 1, maxQueue: 3 },
      async (sim, proxy) => {
        const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => post(proxy.url, '/embed', { inputs: [`x${i}`] })));
        const overloaded = replies.filter((r) => r.status === 429);
        expect(overloaded.length).toBeGreaterThan(0);
        expect(replies.filter((r) => r.status === 200).length + overloaded.length).toBe(10);
        expect(overloaded[0]!.headers['retry-after']).toBe('1');
        expect(overloaded[0]!.json()).toEqual({ error: 'Model is overloaded', error_type: 'Overloaded' });
      },
    );
  });

  it('retries an upstream 429 after its Retry-After, and passes it on when it persists', async () => {
    let calls = 0;
    let overloadedFor = 1;
    const upstream = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (request.url === '/info') {
          response.writeHead(404);
          response.end();
          return;
        }
        calls++;
        if (calls <= overloadedFor) {
          response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
          response.end('{"error":"Model is overloaded","error_type":"Overloaded"}');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('[[1,2]]');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    const proxy = await startProxy({ upstream: url, host: '127.0.0.1', port: 0, logger });
    try {
      const recovered = await post(proxy.url, '/embed', { inputs: 'a' });
      expect(recovered.status).toBe(200);
      expect(recovered.text).toBe('[[1,2]]');
      expect(calls).toBe(2);
      calls = 0;
      overloadedFor = 100;
      const persisting = await post(proxy.url, '/embed', { inputs: 'b' });
      expect(persisting.status).toBe(429);
      expect(persisting.json()).toEqual({ error: 'Model is overloaded', error_type: 'Overloaded' });
      expect(calls).toBe(3);
    } finally {
      await proxy.close();
      upstream.closeAllConnections();
      upstream.close();
    }
  });
});
