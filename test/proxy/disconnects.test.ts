/** Clients that give up: their inputs never reach the upstream, and a call nobody waits for is aborted. */
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { post } from '../support/http.js';
import { withSimAndProxy } from '../support/sim-proxy.js';

/** A request to /embed that the test can abandon: `gone` settles to 'aborted' once it is. */
function abandonable(proxyUrl: string, inputs: string): { controller: AbortController; gone: Promise<unknown> } {
  const controller = new AbortController();
  const gone = request(`${proxyUrl}/embed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs }),
    signal: controller.signal,
  }).catch(() => 'aborted');
  return { controller, gone };
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('client disconnects', () => {
  it('drops a queued request whose client left before its batch was sent', async () => {
    await withSimAndProxy(
      { dimensions: 4, cost: { perCallMs: 300, perItemMs: 0, slots: 1, merge: false } },
      { maxInflight: 1 },
      async (sim, proxy) => {
        sim.resetStats();
        const busy = post(proxy.url, '/embed', { inputs: 'keeps the upstream busy' });
        await sleep(50);
        const { controller, gone } = abandonable(proxy.url, 'the client gives up');
        await sleep(50);
        expect(proxy.queuedItems).toBe(1);
        controller.abort();
        expect(await gone).toBe('aborted');
        await sleep(50);
        expect(proxy.queuedItems).toBe(0);
        expect((await busy).status).toBe(200);
        await sleep(50);
        expect(sim.stats.calls).toBe(1);
        expect(sim.stats.items).toBe(1);
      },
    );
  });

  it('aborts an upstream call once every client riding on it has left', async () => {
    await withSimAndProxy({ dimensions: 4, cost: { perCallMs: 2_000, perItemMs: 0, slots: 1, merge: false } }, {}, async (sim, proxy) => {
      const { controller, gone } = abandonable(proxy.url, 'nobody will read this');
      await sleep(100);
      expect(proxy.inflight).toBe(1);
      controller.abort();
      await gone;
      await sleep(100);
      // The call was aborted long before the upstream's 2 s were up.
      expect(proxy.inflight).toBe(0);
    });
  });
});

describe('slow clients', () => {
  it('cuts off a client that stalls in the middle of its body, and keeps serving the others', async () => {
    await withSimAndProxy({ dimensions: 4 }, { clientTimeoutMs: 300 }, async (sim, proxy) => {
      const { connect } = await import('node:net');
      const socket = connect(proxy.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('POST /embed HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inputs":');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect((await post(proxy.url, '/embed', { inputs: 'meanwhile' })).status).toBe(200);
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    });
  });
});
