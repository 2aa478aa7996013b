/**
 * The memory budget over real HTTP (issue 12): a request that does not fit is refused with TEI's
 * 429 before its body is read (from Content-Length) or as soon as it outgrows the budget (a
 * chunked body), on a connection that stays usable; an answer too big for the budget fails its
 * call instead of the process; a client that never reads its answer is cut off so its answer
 * stops counting; with the heap near its limit, new work gets 503. Raw sockets where the order
 * of bytes on the wire is the point.
 */
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Batcher } from '../../src/core/batcher.js';
import { ByteBudget } from '../../src/core/byte-budget.js';
import { systemClock } from '../../src/core/clock.js';
import { handleBatched, type BatchHandlerContext } from '../../src/http/batch-handler.js';
import { HeapPressure } from '../../src/http/heap-pressure.js';
import { createLogger } from '../../src/logger.js';
import { ProxyMetrics } from '../../src/metrics.js';
import { startProxy, type RunningProxy, type StartOptions } from '../../src/proxy.js';
import { ruleTable } from '../../src/routes/registry.js';
import type { InputText, ItemAnswer } from '../../src/routes/rule.js';
import type { CallFailure } from '../../src/upstream/call-failure.js';
import type { CallGroup } from '../../src/upstream/executor.js';
import { proxyFailure } from '../../src/upstream/call-failure.js';
import { startTeiSim, type TeiSim, type TeiSimOptions } from '../../sim/index.js';
import { send } from '../support/http.js';

const logger = createLogger('silent', 'json');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A client on one raw connection: writes whatever it is told and reads responses in order. */
class RawClient {
  private readonly socket: Socket;
  private buffered = Buffer.alloc(0);
  private readonly waiting: (() => void)[] = [];
  closed = false;

  constructor(url: string) {
    const { port } = new URL(url);
    this.socket = connect(Number(port), '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting.splice(0).forEach((wake) => wake());
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiting.splice(0).forEach((wake) => wake());
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  /** The next whole response (a body with Content-Length, or chunked). */
  async response(): Promise<RawResponse> {
    for (;;) {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end >= 0) {
        const lines = this.buffered.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const whole = headers['transfer-encoding'] === 'chunked' ? dechunk(this.buffered, end + 4) : contentOf(this.buffered, end + 4, headers);
        if (whole !== undefined) {
          this.buffered = this.buffered.subarray(whole.next);
          return { status: Number(lines[0]!.split(' ')[1]), headers, body: whole.body };
        }
      }
      if (this.closed) throw new Error('connection closed before a whole response');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** From now on nothing more is read from the connection: the kernel's buffers fill, then the proxy's. */
  stopReading(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function contentOf(data: Buffer, at: number, headers: Record<string, string>): { body: string; next: number } | undefined {
  const length = Number(headers['content-length'] ?? 0);
  return data.length >= at + length ? { body: data.subarray(at, at + length).toString(), next: at + length } : undefined;
}

function dechunk(data: Buffer, at: number): { body: string; next: number } | undefined {
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    if (size === 0) return { body: Buffer.concat(parts).toString(), next: lineEnd + 4 };
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

function post(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ host: 'proxy', 'content-type': 'application/json', ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** A body of exactly `bytes` bytes holding one input. */
function bodyOf(bytes: number): Buffer {
  const prefix = '{"inputs":"';
  return Buffer.from(`${prefix}${'x'.repeat(bytes - prefix.length - 2)}"}`);
}

async function heldBytes(proxy: RunningProxy): Promise<number> {
  const metrics = await send(proxy.url, '/autobatch/metrics');
  return Number(/^autobatch_memory_held_bytes (\d+)/m.exec(metrics.text)?.[1]);
}

async function until(what: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

const OVERLOADED = '{"error":"Model is overloaded","error_type":"Overloaded"}';

describe('memory budget over HTTP', () => {
  const started: { sim: TeiSim; proxy: RunningProxy; clients: RawClient[] }[] = [];
  afterEach(async () => {
    for (const { sim, proxy, clients } of started.splice(0)) {
      clients.forEach((client) => client.destroy());
      await proxy.close();
      await sim.close();
    }
  });

  async function start(proxyOptions: Partial<StartOptions>, simOptions: TeiSimOptions = {}) {
    const sim = await startTeiSim({ dimensions: 8, ...simOptions });
    const proxy = await startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger, maxWaitMs: 0, ...proxyOptions });
    const entry = { sim, proxy, clients: [] as RawClient[] };
    started.push(entry);
    const client = (): RawClient => {
      const raw = new RawClient(proxy.url);
      entry.clients.push(raw);
      return raw;
    };
    return { sim, proxy, client };
  }

  it('refuses from Content-Length before reading the body, and the connection then serves the next request', async () => {
    const { proxy, client } = await start({ maxBodyBytes: 100_000, maxMemoryBytes: 100_000 });
    // The first client's declared 80,000 bytes are counted as soon as its headers are in.
    const holder = client();
    const held = bodyOf(80_000);
    await holder.write(post('/embed', { 'content-length': held.length }));
    await holder.write(held.subarray(0, 10));
    await until(async () => (await heldBytes(proxy)) === 80_000);

    // 50,000 more do not fit: refused with none of its body sent.
    const refused = client();
    const big = bodyOf(50_000);
    await refused.write(post('/embed', { 'content-length': big.length }));
    const answer = await refused.response();
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.body).toBe(OVERLOADED);
    expect(answer.headers.connection).not.toBe('close');

    // The body it sends anyway is drained, and the same connection serves the next request.
    await refused.write(big);
    const small = Buffer.from('{"inputs":"after the refusal"}');
    await refused.write(post('/embed', { 'content-length': small.length }));
    await refused.write(small);
    expect((await refused.response()).status).toBe(200);

    await holder.write(held.subarray(10));
    expect((await holder.response()).status).toBe(200);
    await until(async () => (await heldBytes(proxy)) === 0);
  });

  it('counts a chunked body while it is read, refuses it once it outgrows the budget and closes the connection cleanly', async () => {
    const { proxy, client } = await start({ maxBodyBytes: 100_000, maxMemoryBytes: 100_000 });
    const holder = client();
    const held = bodyOf(80_000);
    await holder.write(post('/embed', { 'content-length': held.length }));
    await until(async () => (await heldBytes(proxy)) === 80_000);

    const chunked = client();
    const body = bodyOf(40_000);
    const chunk = (bytes: Buffer): string => `${bytes.length.toString(16)}\r\n${bytes.toString('latin1')}\r\n`;
    await chunked.write(post('/embed', { 'transfer-encoding': 'chunked' }));
    await chunked.write(chunk(body.subarray(0, 15_000)));
    await chunked.write(chunk(body.subarray(15_000, 30_000)));
    // 30,000 bytes in, past the 20,000 left: refused before the body ends. How much more is to
    // come is unknown, so the proxy does not read it: the connection is closed after the answer.
    const answer = await chunked.response();
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toBe(OVERLOADED);
    await until(async () => chunked.closed);

    await holder.write(held);
    expect((await holder.response()).status).toBe(200);
    await until(async () => (await heldBytes(proxy)) === 0);
  });

  it('does not read a big refused body: the answer comes whole, then the connection is closed', async () => {
    const { proxy, client } = await start({ maxBodyBytes: 1_000_000, maxMemoryBytes: 1_000_000 });
    const holder = client();
    const held = bodyOf(900_000);
    await holder.write(post('/embed', { 'content-length': held.length }));
    await until(async () => (await heldBytes(proxy)) === 900_000);
    const refused = client();
    await refused.write(post('/embed', { 'content-length': 500_000 }));
    await refused.write(bodyOf(500_000).subarray(0, 100_000)).catch(() => undefined);
    const answer = await refused.response();
    expect(answer.status).toBe(429);
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toBe(OVERLOADED);
    await until(async () => refused.closed);
    await holder.write(held);
    expect((await holder.response()).status).toBe(200);
  });

  // /embed_all answers one vector per token: 4 inputs of 512 tokens at 1,024 dimensions are ~23 MB.
  const words = Array.from({ length: 600 }, (_, i) => `w${i}`).join(' ');
  const hugeAnswerBody = JSON.stringify({ inputs: [words, words, words, words] });

  it('fails a call whose answer outgrows the budget (503 Overloaded) and keeps serving; a budget that fits it answers it whole', async () => {
    const small = await start({ maxBodyBytes: 2_000_000, maxMemoryBytes: 2_000_000 }, { dimensions: 1024 });
    const refused = await send(small.proxy.url, '/embed_all', { raw: hugeAnswerBody, headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error_type: 'Overloaded', error: expect.stringContaining('short of memory') });
    expect((await send(small.proxy.url, '/embed', { body: { inputs: 'still serving' } })).status).toBe(200);
    await until(async () => (await heldBytes(small.proxy)) === 0);

    const roomy = await start({ maxMemoryBytes: 100_000_000 }, { dimensions: 1024 });
    const answered = await send(roomy.proxy.url, '/embed_all', { raw: hugeAnswerBody, headers: { 'content-type': 'application/json' } });
    const direct = await send(roomy.sim.url, '/embed_all', { raw: hugeAnswerBody, headers: { 'content-type': 'application/json' } });
    expect(answered.status).toBe(200);
    expect(answered.text.length).toBeGreaterThan(20_000_000);
    expect(answered.text === direct.text).toBe(true);
    await until(async () => (await heldBytes(roomy.proxy)) === 0);
  });

  it('cuts off a client that never reads its answer, so the answer stops counting, while others are served', async () => {
    const { proxy, client } = await start({ maxMemoryBytes: 100_000_000, clientTimeoutMs: 1000 }, { dimensions: 1024 });
    const stuck = client();
    stuck.stopReading();
    await stuck.write(post('/embed_all', { 'content-length': Buffer.byteLength(hugeAnswerBody) }));
    await stuck.write(hugeAnswerBody);
    // It never reads: its ~23 MB answer stays in the proxy (the kernel takes a few MB)...
    await until(async () => (await heldBytes(proxy)) > 10_000_000);
    expect((await send(proxy.url, '/embed', { body: { inputs: 'another client' } })).status).toBe(200);
    // ...until the write timeout closes its connection.
    await until(async () => (await heldBytes(proxy)) === 0);
  });
});

describe('heap pressure', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('refuses new work with 503 while the heap is near its limit, and takes it again once it falls', async () => {
    let used = 90;
    const warnings: string[] = [];
    const log = createLogger('silent', 'json');
    const record = (_: unknown, message: string): void => void warnings.push(message);
    log.warn = record as unknown as typeof log.warn;
    log.info = record as unknown as typeof log.info;
    const context: BatchHandlerContext = {
      batcher: new Batcher<CallGroup, InputText, ItemAnswer, CallFailure>({
        limits: { maxBatchSize: 8, maxBatchBytes: 1e6, maxWaitMs: 0, maxInflight: 2, maxQueue: 100, queueTimeoutMs: 1000 },
        clock: systemClock,
        internalFailure: (message) => proxyFailure(502, 'Backend', message),
        executor: ({ items }) => Promise.resolve({ ok: true, answers: items.map(() => ({ bytes: Buffer.from('[1]') })) }),
      }),
      replay: () => Promise.reject(new Error('not used here')),
      metrics: new ProxyMetrics({ queuedItems: () => 0, inflight: () => 0 }),
      log,
      maxBodyBytes: 1e6,
      maxBatchBytes: 1e6,
      queueTimeoutMs: 1000,
      bucketFactor: () => undefined,
      forwardHeaders: ['authorization'],
      replays: { active: 0, limit: 1 },
      memory: { budget: new ByteBudget(1e8), heap: new HeapPressure(log, () => ({ usedBytes: used, limitBytes: 100 })), writeTimeoutMs: 1000 },
    };
    const rule = ruleTable([]).get('/embed')!;
    server = http.createServer((request, response) => void handleBatched(rule, request, response, context));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const refused = await send(url, '/embed', { body: { inputs: 'a' } });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ error_type: 'Overloaded' });
    // Between the marks it keeps refusing (no flapping on every collection).
    used = 80;
    expect((await send(url, '/embed', { body: { inputs: 'a' } })).status).toBe(503);
    used = 70;
    const answered = await send(url, '/embed', { body: { inputs: 'a' } });
    expect(answered.status).toBe(200);
    expect(answered.text).toBe('[[1]]');
    // One line when shedding starts and one when it stops, not one per refusal.
    expect(warnings).toHaveLength(2);
    const refusals = (await context.metrics.memoryRefused.get()).values;
    expect(refusals).toEqual([
      { labels: { reason: 'budget' }, value: 0 },
      { labels: { reason: 'heap' }, value: 2 },
    ]);
  });
});
