/**
 * DNS discovery of replicas without a cluster: a DNS server in the test answers changing A
 * records of loopback addresses (127.0.0.2, 127.0.0.3 ... all reach this machine), where TEI
 * simulators listen on one port, as the pods behind a headless Service do.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy, type StartOptions } from '../../src/proxy.js';
import { startTeiSim, type TeiSim } from '../../sim/index.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { post, send } from '../support/http.js';

const cost = { perCallMs: 3, perItemMs: 0.05, slots: 1, merge: false };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type LogLine = { msg: string; [key: string]: unknown };

/** A log that keeps its lines, to see what the proxy said. */
function capturedLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** TEI simulators on 127.0.0.2, 127.0.0.3 ... all on one port (tried again if that port is taken on one of them). */
async function simsOnOnePort(count: number): Promise<TeiSim[]> {
  for (let attempt = 0; ; attempt++) {
    const first = await startTeiSim({ dimensions: 8, cost, host: '127.0.0.2' });
    const rest = await Promise.allSettled(
      Array.from({ length: count - 1 }, (_, i) => startTeiSim({ dimensions: 8, cost, host: `127.0.0.${i + 3}`, port: first.port })),
    );
    const started = rest.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    if (started.length === count - 1) return [first, ...started];
    await Promise.all([first, ...started].map((sim) => sim.close()));
    if (attempt === 5) throw new Error('no port free on every loopback address');
  }
}

/** Sends requests from `clients` clients, each one after the other's answer, until stop() is called. */
function steadyLoad(proxyUrl: string, clients: number): { stop(): Promise<number[]> } {
  let running = true;
  const statuses: number[] = [];
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let i = 0; running; i++) statuses.push((await post(proxyUrl, '/embed', { inputs: `client ${client} request ${i}` })).status);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

let cleanup: (() => Promise<void>)[] = [];

/** A proxy that finds `upstream`'s replicas through the test's DNS server; closed after the test. */
async function discoveringProxy(
  dns: TestDnsServer,
  upstream: string,
  options: Omit<StartOptions, 'upstream'> & { dnsRefreshMs: number },
): Promise<RunningProxy> {
  const proxy = await startProxy({ upstream, dnsServer: dns.server, host: '127.0.0.1', port: 0, ...options });
  cleanup.push(() => proxy.close());
  return proxy;
}
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function setUp(records: string[], simCount = 3): Promise<{ dns: TestDnsServer; sims: TeiSim[]; proxy: RunningProxy; lines: LogLine[] }> {
  const sims = await simsOnOnePort(simCount);
  cleanup.push(() => Promise.all(sims.map((sim) => sim.close())).then(() => undefined));
  const dns = await startDnsServer({ 'tei.test': records });
  cleanup.push(() => dns.close());
  const { logger, lines } = capturedLogger();
  const proxy = await discoveringProxy(dns, `http://tei.test:${sims[0]!.port}`, { dnsRefreshMs: 100, logger, maxBatchSize: 8 });
  return { dns, sims, proxy, lines };
}

describe('DNS discovery of replicas', () => {
  it('spreads calls over every address the name resolves to, and shows them as resolved', async () => {
    const { sims, proxy } = await setUp(['127.0.0.2', '127.0.0.3']);
    const [a, b, c] = sims as [TeiSim, TeiSim, TeiSim];
    const bodies = Array.from({ length: 200 }, (_, i) => ({ inputs: `text ${i}` }));
    const expected = await Promise.all(bodies.map((body) => post(a.url, '/embed', body)));
    a.resetStats();
    const replies = await Promise.all(bodies.map((body) => post(proxy.url, '/embed', body)));
    replies.forEach((reply, i) => expect(reply.text).toBe(expected[i]!.text));
    expect(a.stats.calls).toBeGreaterThan(0);
    expect(b.stats.calls).toBeGreaterThan(0);
    expect(c.stats.calls).toBe(0);

    const ready = await send(proxy.url, '/autobatch/ready');
    expect(ready.status).toBe(200);
    const url = `http://tei.test:${a.port}/`;
    expect(ready.json()).toEqual({
      status: 'ready',
      upstreams: [
        { url, address: '127.0.0.2', healthy: true },
        { url, address: '127.0.0.3', healthy: true },
      ],
    });
    const metrics = (await send(proxy.url, '/autobatch/metrics')).text;
    expect(metrics).toContain(`autobatch_upstream_replica_healthy{upstream="${url}",address="127.0.0.2"} 1`);
    expect(metrics).toContain(`autobatch_upstream_replica_healthy{upstream="${url}",address="127.0.0.3"} 1`);
    expect(metrics).toMatch(/autobatch_upstream_replica_outstanding_inputs\{upstream="[^"]+",address="127.0.0.3"\} 0/);
  });

  it('follows the records under load: a vanished address stops getting calls, a new one starts, no client sees an error', async () => {
    const { dns, sims, proxy, lines } = await setUp(['127.0.0.2', '127.0.0.3']);
    const [a, b, c] = sims as [TeiSim, TeiSim, TeiSim];
    const load = steadyLoad(proxy.url, 24);
    try {
      await until(() => a.stats.calls > 5 && b.stats.calls > 5, 'both first replicas are used');
      dns.records.set('tei.test', ['127.0.0.3', '127.0.0.4']);
      await until(() => c.stats.calls > 5, 'the new replica is used');
      // Calls sent to 127.0.0.2 before it left are answered; after that it gets none.
      await until(() => lines.some((line) => line.msg === 'upstream replica left (DNS)'), 'the replica left');
      await sleep(100);
      a.resetStats();
      const callsBefore = b.stats.calls + c.stats.calls;
      await until(() => b.stats.calls + c.stats.calls > callsBefore + 20, 'more calls are made');
      expect(a.stats.calls).toBe(0);
    } finally {
      const statuses = await load.stop();
      expect(statuses.length).toBeGreaterThan(100);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
    }
    expect(lines.filter((line) => line.msg === 'upstream replica joined (DNS)').map((line) => line.address)).toEqual([
      '127.0.0.2',
      '127.0.0.3',
      '127.0.0.4',
    ]);
    const ready = (await send(proxy.url, '/autobatch/ready')).json() as { upstreams: { address: string }[] };
    expect(ready.upstreams.map((upstream) => upstream.address)).toEqual(['127.0.0.3', '127.0.0.4']);
  });

  it('keeps the last good set when a lookup fails or finds nothing, and says so', async () => {
    const { dns, sims, proxy, lines } = await setUp(['127.0.0.2', '127.0.0.3'], 2);
    const [a, b] = sims as [TeiSim, TeiSim];
    dns.failing = true;
    await until(() => lines.filter((line) => line.msg === 'DNS lookup failed: keeping the replicas found before').length >= 2, 'failures are logged');
    dns.failing = false;
    dns.records.set('tei.test', []);
    const logged = lines.length;
    await until(
      () => lines.slice(logged).some((line) => line.msg === 'DNS lookup failed: keeping the replicas found before'),
      'the empty answer is logged',
    );
    expect(lines.find((line) => line.msg.startsWith('DNS lookup failed'))).toMatchObject({ upstream: `http://tei.test:${a.port}/`, kept: 2 });
    a.resetStats();
    b.resetStats();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => post(proxy.url, '/embed', { inputs: `t${i}` })));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expect(a.stats.calls).toBeGreaterThan(0);
    expect(b.stats.calls).toBeGreaterThan(0);
  });

  it('re-resolves at once when a replica fails, rather than waiting for the interval', async () => {
    const sims = await simsOnOnePort(2);
    cleanup.push(() => Promise.all(sims.map((sim) => sim.close())).then(() => undefined));
    const [a, b] = sims as [TeiSim, TeiSim];
    const dns = await startDnsServer({ 'tei.test': ['127.0.0.2', '127.0.0.3'] });
    cleanup.push(() => dns.close());
    const proxy = await discoveringProxy(dns, `http://tei.test:${a.port}`, { dnsRefreshMs: 3_600_000, logger: pino({ level: 'silent' }) });
    const asked = dns.queries.get('tei.test') ?? 0;
    // The pod at 127.0.0.2 is gone and its record with it.
    dns.records.set('tei.test', ['127.0.0.3']);
    await a.close();
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => post(proxy.url, '/embed', { inputs: `t${i}` })));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    await until(() => (dns.queries.get('tei.test') ?? 0) > asked, 'the name is asked again', 1500);
    await sleep(100);
    const ready = (await send(proxy.url, '/autobatch/ready')).json() as { upstreams: { address: string }[] };
    expect(ready.upstreams.map((upstream) => upstream.address)).toEqual(['127.0.0.3']);
    expect(b.stats.calls).toBeGreaterThan(0);
  });

  it('sends the name, not the address, as Host on batched, probed and passed-through requests', async () => {
    const hosts: string[] = [];
    const server: Server = createServer((request, response) => {
      hosts.push(`${request.method} ${request.url} ${request.headers.host}`);
      response.writeHead(200, { 'content-type': 'application/json' });
      if (request.url === '/embed') {
        request.resume();
        request.on('end', () => response.end('[[1.0]]'));
      } else {
        response.end(request.url === '/info' ? '{"max_client_batch_size":4}' : '{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.5', resolve));
    cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const dns = await startDnsServer({ 'named.test': ['127.0.0.5'] });
    cleanup.push(() => dns.close());
    const proxy = await discoveringProxy(dns, `http://named.test:${port}`, { dnsRefreshMs: 1000, logger: pino({ level: 'silent' }) });
    expect(proxy.maxBatchSize).toBe(4);
    expect((await post(proxy.url, '/embed', { inputs: 'x' })).status).toBe(200);
    expect((await send(proxy.url, '/some/other/path')).status).toBe(200);
    expect(hosts).toEqual([`GET /info named.test:${port}`, `POST /embed named.test:${port}`, `GET /some/other/path named.test:${port}`]);
  });

  it('starts before the name resolves, answers 502 meanwhile, and uses the replicas once they appear', async () => {
    const [a] = (await simsOnOnePort(1)) as [TeiSim];
    cleanup.push(() => a.close());
    const dns = await startDnsServer({});
    cleanup.push(() => dns.close());
    const { logger, lines } = capturedLogger();
    const proxy = await discoveringProxy(dns, `http://tei.test:${a.port}`, { dnsRefreshMs: 100, logger });
    expect(lines.find((line) => line.msg === 'DNS lookup failed: keeping the replicas found before')).toMatchObject({ kept: 0 });
    expect((await send(proxy.url, '/autobatch/ready')).status).toBe(503);
    const early = await post(proxy.url, '/embed', { inputs: 'too early' });
    expect(early.status).toBe(502);
    expect(early.json()).toEqual({ error: 'upstream unreachable after 0 tries: no replica of the upstream is known', error_type: 'Backend' });
    expect((await send(proxy.url, '/info')).status).toBe(502);
    dns.records.set('tei.test', ['127.0.0.2']);
    await until(() => lines.some((line) => line.msg === 'upstream replica joined (DNS)'), 'the replica joins');
    expect((await post(proxy.url, '/embed', { inputs: 'in time' })).status).toBe(200);
    expect((await send(proxy.url, '/info')).status).toBe(200);
    expect((await send(proxy.url, '/autobatch/ready')).status).toBe(200);
  });

  it('warns when a replica that joins accepts smaller batches than the proxy sends', async () => {
    const first = await startTeiSim({ dimensions: 8, cost, host: '127.0.0.2', maxClientBatchSize: 16 });
    cleanup.push(() => first.close());
    const small = await startTeiSim({ dimensions: 8, cost, host: '127.0.0.3', port: first.port, maxClientBatchSize: 4 });
    cleanup.push(() => small.close());
    const dns = await startDnsServer({ 'tei.test': ['127.0.0.2'] });
    cleanup.push(() => dns.close());
    const { logger, lines } = capturedLogger();
    const proxy = await discoveringProxy(dns, `http://tei.test:${first.port}`, { dnsRefreshMs: 100, logger });
    expect(proxy.maxBatchSize).toBe(16);
    dns.records.set('tei.test', ['127.0.0.2', '127.0.0.3']);
    await until(() => lines.some((line) => line.msg.startsWith('a replica that joined accepts smaller batches')), 'the warning');
    expect(lines.find((line) => line.msg.startsWith('a replica that joined'))).toMatchObject({
      address: '127.0.0.3',
      maxClientBatchSize: 4,
      maxBatchSize: 16,
    });
  });

  it('refuses --dns-server without --dns-refresh-ms, and a server that is not an address', async () => {
    await expect(startProxy({ upstream: 'http://tei.test:80', dnsServer: '127.0.0.1:53', logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /--dns-refresh-ms/,
    );
    await expect(
      startProxy({ upstream: 'http://tei.test:80', dnsRefreshMs: 100, dnsServer: 'dns.example:53', logger: pino({ level: 'silent' }) }),
    ).rejects.toThrow(/--dns-server/);
  });
});
