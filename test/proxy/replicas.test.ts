/** Several upstream replicas: work is spread, a dead replica is taken out, its calls retried elsewhere. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy } from '../../src/proxy.js';
import { startTeiSim } from '../../sim/index.js';
import { post, send } from '../support/http.js';
import { unusedPort } from '../support/ports.js';

const logger = createLogger('silent', 'json');
const cost = { perCallMs: 5, perItemMs: 0.05, slots: 1, merge: false };

describe('several upstreams', () => {
  it('spreads calls over the replicas and answers every client correctly', async () => {
    const [a, b] = await Promise.all([startTeiSim({ dimensions: 8, cost }), startTeiSim({ dimensions: 8, cost })]);
    const proxy = await startProxy({ upstream: [a.url, b.url], host: '127.0.0.1', port: 0, logger, maxBatchSize: 8 });
    try {
      const bodies = Array.from({ length: 200 }, (_, i) => ({ inputs: `text ${i}` }));
      const expected = await Promise.all(bodies.map((body) => post(a.url, '/embed', body)));
      a.resetStats();
      b.resetStats();
      const replies = await Promise.all(bodies.map((body) => post(proxy.url, '/embed', body)));
      replies.forEach((reply, i) => expect(reply.text).toBe(expected[i]!.text));
      expect(a.stats.calls).toBeGreaterThan(0);
      expect(b.stats.calls).toBeGreaterThan(0);
      expect(a.stats.calls + b.stats.calls).toBeLessThan(100);
    } finally {
      await proxy.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('retries a call that failed on a dead replica on a live one, and says which is down', async () => {
    const live = await startTeiSim({ dimensions: 8, cost });
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    const proxy = await startProxy({ upstream: [dead, live.url], host: '127.0.0.1', port: 0, logger, maxBatchSize: 8 });
    try {
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => post(proxy.url, '/embed', { inputs: `t${i}` })));
      expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
      const ready = await send(proxy.url, '/autobatch/ready');
      expect(ready.status).toBe(200);
      expect(ready.json()).toMatchObject({
        status: 'ready',
        upstreams: [
          { url: `${dead}/`, healthy: false, reason: expect.stringContaining('unreachable') },
          { url: `${live.url}/`, healthy: true },
        ],
      });
    } finally {
      await proxy.close();
      await live.close();
    }
  });

  it('keeps answering when a replica goes away under load', async () => {
    const [a, b] = await Promise.all([startTeiSim({ dimensions: 8, cost }), startTeiSim({ dimensions: 8, cost })]);
    const proxy = await startProxy({ upstream: [a.url, b.url], host: '127.0.0.1', port: 0, logger, maxBatchSize: 8 });
    try {
      const first = Promise.all(Array.from({ length: 100 }, (_, i) => post(proxy.url, '/embed', { inputs: `x${i}` })));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await b.close();
      const second = await Promise.all(Array.from({ length: 100 }, (_, i) => post(proxy.url, '/embed', { inputs: `y${i}` })));
      const statuses = [...(await first), ...second].map((r) => r.status);
      // Calls cut off mid-answer by the closing replica may fail; nothing hangs, and the rest succeed on a.
      expect(statuses.filter((s) => s !== 200 && s !== 502)).toEqual([]);
      expect(second.every((r) => r.status === 200)).toBe(true);
    } finally {
      await proxy.close();
      await a.close();
    }
  });
});
