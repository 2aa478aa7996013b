/**
 * One side of a bench run against a real local server: every way a request can end becomes an
 * outcome (never a rejection, never a hang), including a request still queued in the pool when
 * its deadline passes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BenchTarget } from '../../src/loadgen/bench-target.js';
import { ERROR_NETWORK, ERROR_TIMEOUT, ERROR_WRONG_ANSWER } from '../../src/loadgen/request-outcome.js';
import { routeShapeFor } from '../../src/loadgen/route-shapes.js';

type Answer = (request: http.IncomingMessage, response: http.ServerResponse) => void;

const servers: http.Server[] = [];
const targets: BenchTarget[] = [];

afterEach(async () => {
  await Promise.all(targets.splice(0).map((target) => target.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A server answering every request with `answer`, and a target of `connections` in front of it. */
async function targetFor(answer: Answer, options: { connections?: number; timeoutMs?: number } = {}): Promise<BenchTarget> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => answer(request, response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const target = new BenchTarget({
    role: 'target',
    url: `http://127.0.0.1:${port}`,
    route: '/embed',
    connections: options.connections ?? 4,
    timeoutMs: options.timeoutMs ?? 5000,
    shape: routeShapeFor('/embed'),
    headers: {},
  });
  targets.push(target);
  return target;
}

const request = (inputCount: number): { body: Buffer; inputCount: number } => ({
  body: Buffer.from(JSON.stringify({ inputs: Array.from({ length: inputCount }, (_, i) => `text ${i}`) })),
  inputCount,
});

const json =
  (status: number, value: unknown, headers: Record<string, string> = {}): Answer =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(value));
  };

describe('a bench target', () => {
  it('counts a correct answer, with the batch sizes the proxy reported', async () => {
    const target = await targetFor(
      json(
        200,
        [
          [0.1, 0.2],
          [0.3, 0.4],
        ],
        { 'x-autobatch-batch-size': '32,5' },
      ),
    );
    expect(await target.send(request(2))).toEqual({ ok: true, batchSizes: [32, 5] });
    expect(target.vectorWidth).toBe(2);
  });

  it('reads an answer that comes in several chunks whole', async () => {
    const vector = Array.from({ length: 4000 }, (_, i) => i / 4000);
    const target = await targetFor((_request, response) => {
      const text = JSON.stringify([vector]);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(text.slice(0, 1000));
      setTimeout(() => response.end(text.slice(1000)), 20);
    });
    expect(await target.send(request(1))).toEqual({ ok: true, batchSizes: undefined });
    expect(target.vectorWidth).toBe(4000);
  });

  it('says what is wrong with a wrong answer, and gives a status other than 200 with its text', async () => {
    expect(await (await targetFor(json(200, [[0.1]]))).send(request(2))).toEqual({
      ok: false,
      error: ERROR_WRONG_ANSWER,
      detail: 'answer has 1 elements for 2 inputs',
    });
    const notJson = await targetFor((_request, response) => response.end('nope'));
    expect(await notJson.send(request(1))).toMatchObject({ ok: false, error: ERROR_WRONG_ANSWER, detail: 'answer is not JSON: nope' });
    const overloaded = await targetFor(json(429, { error: 'Model is overloaded', error_type: 'Overloaded' }));
    expect(await overloaded.send(request(1))).toEqual({
      ok: false,
      error: '429',
      detail: '{"error":"Model is overloaded","error_type":"Overloaded"}',
    });
  });

  it('gives a dropped connection as a network error', async () => {
    const target = await targetFor((_request, response) => response.socket?.destroy());
    expect(await target.send(request(1))).toMatchObject({ ok: false, error: ERROR_NETWORK });
  });

  it('gives a timeout at the deadline, for a request sent and for one still queued behind it', async () => {
    const target = await targetFor(() => undefined, { connections: 1, timeoutMs: 200 });
    const startedAt = performance.now();
    const outcomes = await Promise.all([target.send(request(1)), target.send(request(1))]);
    expect(outcomes).toEqual([
      { ok: false, error: ERROR_TIMEOUT, detail: 'no complete answer within 200 ms' },
      { ok: false, error: ERROR_TIMEOUT, detail: 'no complete answer within 200 ms' },
    ]);
    // Both at their own deadline, not one after the other.
    expect(performance.now() - startedAt).toBeLessThan(1500);
  });

  it('uses its connection again after a timeout', async () => {
    let first = true;
    const target = await targetFor(
      (request, response) => {
        if (first) {
          first = false;
          return;
        }
        json(200, [[1]])(request, response);
      },
      { connections: 1, timeoutMs: 200 },
    );
    expect(await target.send(request(1))).toMatchObject({ error: ERROR_TIMEOUT });
    expect(await target.send(request(1))).toEqual({ ok: true, batchSizes: undefined });
  });
});
