/**
 * A sick replica (one that answers, but with server errors) is ejected like a dead one when
 * another replica answers, and probed back through /health; a lone upstream is never ejected.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy } from '../../src/proxy.js';
import { SERVER_ERRORS_TO_EJECT } from '../../src/upstream/replicas.js';
import { post, send } from '../support/http.js';

interface Upstream {
  url: string;
  /** While set, /embed answers this status in TEI's error shape (and /health too if healthFails). */
  sick: number | undefined;
  healthFails: boolean;
  embedCalls: number;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = { 500: 'Backend', 503: 'Unhealthy', 424: 'Backend' };

async function startUpstream(): Promise<Upstream> {
  const upstream: Upstream = { url: '', sick: undefined, healthFails: false, embedCalls: 0, close: async () => undefined };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.url === '/health') return json(upstream.sick !== undefined && upstream.healthFails ? 503 : 200, {});
      if (request.url === '/info') return json(200, { max_client_batch_size: 8 });
      upstream.embedCalls++;
      if (upstream.sick !== undefined) return json(upstream.sick, { error: 'sick', error_type: ERROR_TYPES[upstream.sick] ?? 'Backend' });
      const inputs = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs: string | string[] }).inputs;
      return json(
        200,
        (Array.isArray(inputs) ? inputs : [inputs]).map(() => [1]),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  upstream.close = () => new Promise((resolve) => server.close(() => resolve()));
  return upstream;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function upstreams(count: number): Promise<Upstream[]> {
  const started = await Promise.all(Array.from({ length: count }, startUpstream));
  cleanup.push(() => Promise.all(started.map((upstream) => upstream.close())).then(() => undefined));
  return started;
}

async function proxyFor(list: Upstream[]) {
  const lines: { msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  const proxy = await startProxy({
    upstream: list.map((upstream) => upstream.url),
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'info' }, stream),
  });
  cleanup.push(() => proxy.close());
  return { proxy, lines };
}

/** One request after another, so each call carries one input and which replica it goes to is plain. */
async function oneByOne(url: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await post(url, '/embed', { inputs: `t${i}` })).status);
  return statuses;
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('sick replicas', () => {
  it.each([503, 424, 500])(
    'ejects a replica answering %i to calls in a row while another answers, and probes it back through /health',
    async (status) => {
      const [sick, well] = (await upstreams(2)) as [Upstream, Upstream];
      const { proxy, lines } = await proxyFor([sick, well]);
      sick.sick = status;
      // Idle replicas tie on outstanding work and the first listed wins, so the sick one is tried first.
      const statuses = await oneByOne(proxy.url, 20);
      // A 503 says the replica is unhealthy: its calls are sent again to the other at once, so no
      // client sees it. A 500 or 424 may come from the inputs: those clients get it as written.
      const seen = status === 503 ? 200 : status;
      expect(statuses.slice(0, SERVER_ERRORS_TO_EJECT)).toEqual(new Array(SERVER_ERRORS_TO_EJECT).fill(seen));
      expect(statuses.slice(SERVER_ERRORS_TO_EJECT)).toEqual(new Array(20 - SERVER_ERRORS_TO_EJECT).fill(200));
      expect(sick.embedCalls).toBe(SERVER_ERRORS_TO_EJECT);
      expect(well.embedCalls).toBe(status === 503 ? 20 : 20 - SERVER_ERRORS_TO_EJECT);
      expect(lines.filter((line) => line.msg === 'upstream ejected: server errors in a row')).toHaveLength(1);

      const ready = await send(proxy.url, '/autobatch/ready');
      expect(ready.json()).toMatchObject({
        status: 'ready',
        upstreams: [
          { url: `${sick.url}/`, healthy: false, reason: expect.stringContaining('ejected after server errors') },
          { url: `${well.url}/`, healthy: true },
        ],
      });
      expect((await send(proxy.url, '/autobatch/metrics')).text).toContain(
        `autobatch_upstream_replica_healthy{upstream="${sick.url}/",address=""} 0`,
      );

      // Well again: the health checks let it back in after its ejection time, and it takes calls.
      sick.sick = undefined;
      await until(() => lines.some((line) => line.msg === 'upstream back'), 'the replica is back');
      const before = sick.embedCalls;
      expect(await oneByOne(proxy.url, 4)).toEqual([200, 200, 200, 200]);
      expect(sick.embedCalls).toBeGreaterThan(before);
    },
  );

  it('keeps a replica whose /health fails out until it passes, however long its ejection time', async () => {
    const [sick, well] = (await upstreams(2)) as [Upstream, Upstream];
    const { proxy } = await proxyFor([sick, well]);
    sick.sick = 503;
    sick.healthFails = true;
    await oneByOne(proxy.url, SERVER_ERRORS_TO_EJECT + 2);
    // Two health intervals (the first ejection lasts one): still out, since /health fails.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const calls = sick.embedCalls;
    expect(await oneByOne(proxy.url, 6)).toEqual(new Array(6).fill(200));
    expect(sick.embedCalls).toBe(calls);
    const ready = (await send(proxy.url, '/autobatch/ready')).json() as { upstreams: { healthy: boolean; reason?: string }[] };
    expect(ready.upstreams[0]).toEqual({ url: `${sick.url}/`, healthy: false, reason: '/health answered 503' });
  });

  it('never ejects a lone upstream: its errors go to the clients as they were written', async () => {
    const [lone] = (await upstreams(1)) as [Upstream];
    const { proxy, lines } = await proxyFor([lone]);
    lone.sick = 503;
    const replies = [];
    for (let i = 0; i < SERVER_ERRORS_TO_EJECT * 3; i++) replies.push(await post(proxy.url, '/embed', { inputs: `t${i}` }));
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 503));
    expect(replies[0]!.json()).toEqual({ error: 'sick', error_type: 'Unhealthy' });
    expect(lines.some((line) => line.msg.startsWith('upstream ejected'))).toBe(false);
    lone.sick = undefined;
    expect((await post(proxy.url, '/embed', { inputs: 'x' })).status).toBe(200);
  });

  it.each([500, 503])('does not eject the last replica that answers when every replica answers %i', async (status) => {
    const list = await upstreams(2);
    const { proxy, lines } = await proxyFor(list);
    for (const upstream of list) upstream.sick = status;
    const statuses = await oneByOne(proxy.url, SERVER_ERRORS_TO_EJECT * 4);
    expect(statuses).toEqual(statuses.map(() => status));
    expect(lines.filter((line) => line.msg === 'upstream ejected: server errors in a row')).toHaveLength(1);
    for (const upstream of list) upstream.sick = undefined;
    expect(await oneByOne(proxy.url, 3)).toEqual([200, 200, 200]);
  });
});
