/**
 * Bodies the proxy cannot batch are sent to the upstream alone, outside the batching core's
 * in-flight limit; their own limit keeps a flood of bad bodies from opening unbounded upstream
 * calls. Past it (and with the upstream unreachable) the client gets the proxy's own error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Batcher } from '../../src/core/batcher.js';
import { systemClock } from '../../src/core/clock.js';
import { ByteBudget } from '../../src/core/byte-budget.js';
import { HeapPressure } from '../../src/http/heap-pressure.js';
import { handleBatched, type BatchHandlerContext } from '../../src/http/batch-handler.js';
import { createLogger } from '../../src/logger.js';
import { ProxyMetrics } from '../../src/metrics.js';
import { ruleTable } from '../../src/routes/registry.js';
import type { UpstreamResponse } from '../../src/upstream/client.js';
import { proxyFailure } from '../../src/upstream/call-failure.js';
import { send } from '../support/http.js';

const PLAIN = 'text/plain; charset=utf-8';

function upstreamWords(body: string): UpstreamResponse {
  return { status: 422, contentType: PLAIN, retryAfter: undefined, body: Buffer.from(`upstream says: ${body}`) };
}

describe('replays of unbatchable bodies', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function start(replay: BatchHandlerContext['replay'], limit: number): Promise<{ url: string; context: BatchHandlerContext }> {
    const context: BatchHandlerContext = {
      batcher: new Batcher({
        limits: { maxBatchSize: 8, maxBatchBytes: 1e6, maxWaitMs: 0, maxInflight: 2, maxQueue: 100, queueTimeoutMs: 1000 },
        clock: systemClock,
        internalFailure: (message) => proxyFailure(502, 'Backend', message),
        executor: () => Promise.resolve({ ok: false, failure: proxyFailure(502, 'Backend', 'not used here'), blame: 'call' }),
      }),
      replay,
      forwardHeaders: ['authorization'],
      metrics: new ProxyMetrics({ queuedItems: () => 0, inflight: () => 0 }),
      log: createLogger('silent', 'json'),
      maxBodyBytes: 1e6,
      maxBatchBytes: 1e6,
      queueTimeoutMs: 1000,
      bucketFactor: () => undefined,
      replays: { active: 0, limit },
      memory: { budget: new ByteBudget(1e8), heap: new HeapPressure(createLogger('silent', 'json')), writeTimeoutMs: 1000 },
    };
    const rule = ruleTable([]).get('/embed')!;
    server = http.createServer((request, response) => void handleBatched(rule, request, response, context));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, context };
  }

  /** autobatch_sent_alone_total by result. */
  async function sentAloneCounts(context: BatchHandlerContext): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const { labels, value } of (await context.metrics.sentAlone.get()).values) counts[String(labels.result)] = value;
    return counts;
  }

  const bad = (url: string, raw: string) => send(url, '/embed', { raw, headers: { 'content-type': 'application/json' } });

  it("sends at most `limit` at once; past it the client gets the proxy's own error at once", async () => {
    const held: { body: string; answer(): void }[] = [];
    const { url, context } = await start(
      (_path, body) =>
        new Promise((resolve) => {
          held.push({ body: body.toString(), answer: () => resolve(upstreamWords(body.toString())) });
        }),
      2,
    );
    const first = bad(url, '{"inputs":1}');
    const second = bad(url, '{"inputs":2}');
    while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    // The third finds both replay slots taken: the proxy's own words, without waiting.
    const third = await bad(url, '{"inputs":3}');
    expect(third.status).toBe(422);
    expect(third.json()).toMatchObject({ error_type: 'Validation', error: expect.stringContaining('Failed to deserialize') });
    expect(held).toHaveLength(2);
    for (const call of held) call.answer();
    for (const [reply, raw] of [
      [await first, '{"inputs":1}'],
      [await second, '{"inputs":2}'],
    ] as const) {
      expect({ status: reply.status, type: reply.headers['content-type'], text: reply.text }).toEqual({
        status: 422,
        type: PLAIN,
        text: `upstream says: ${raw}`,
      });
    }
    // Slots are given back: the next bad body is replayed again.
    const later = bad(url, '{"inputs":4}');
    while (held.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    held[2]!.answer();
    expect((await later).text).toBe('upstream says: {"inputs":4}');
    expect(context.replays.active).toBe(0);
    expect(await sentAloneCounts(context)).toEqual({ answered: 3, over_limit: 1 });
  });

  it("gives the proxy's own error when the upstream cannot be reached, and frees the slot", async () => {
    const { url, context } = await start(() => Promise.reject(new Error('connect ECONNREFUSED')), 1);
    for (const raw of ['{"inputs":', '{"inputs":"a","inputs":"b"}']) {
      const reply = await bad(url, raw);
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      expect(reply.json()).toMatchObject({ error_type: 'Validation' });
    }
    expect(context.replays.active).toBe(0);
    expect(await sentAloneCounts(context)).toEqual({ unreachable: 2 });
  });
});
