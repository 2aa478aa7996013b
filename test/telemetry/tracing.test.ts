/**
 * OpenTelemetry tracing end to end: a proxy traced through the standard OTEL_* variables, a local
 * OTLP/HTTP receiver getting its spans, and an upstream recording the traceparent of each call.
 * Three client requests merged into one call must show up as three request spans (each in its
 * client's trace when the client sent one) and one call span that links to all three, whose
 * context is what the upstream received.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { startTracing, tracingChoice } from '../../src/telemetry/tracing.js';
import { post, send } from '../support/http.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';

const logger = createLogger('silent', 'json');

interface SeenCall {
  method: string;
  url: string;
  inputs: unknown;
  traceparent: string | undefined;
}

/** A TEI-like upstream that records every request's traceparent; /embed calls can be held. */
async function startUpstream() {
  const calls: SeenCall[] = [];
  let held: { arrived: () => void; released: Promise<void> } | undefined;
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const traceparent = request.headers.traceparent as string | undefined;
      const text = Buffer.concat(chunks).toString('utf8');
      let inputs: unknown;
      try {
        inputs = text === '' ? undefined : (JSON.parse(text) as { inputs: unknown }).inputs;
      } catch {
        calls.push({ method: request.method ?? '', url: request.url ?? '', inputs: undefined, traceparent });
        // TEI's JSON extractor answers a body it cannot read in plain text.
        response.writeHead(422, { 'content-type': 'text/plain' }).end('Failed to parse the request body as JSON');
        return;
      }
      calls.push({ method: request.method ?? '', url: request.url ?? '', inputs, traceparent });
      if (request.url === '/info') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ max_client_batch_size: 32 }));
        return;
      }
      const list = typeof inputs === 'string' ? [inputs] : (inputs as string[]);
      const hold = held;
      held = undefined;
      hold?.arrived();
      void (hold?.released ?? Promise.resolve()).then(() => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list.map((input) => [input.length])));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    holdNextEmbed() {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
      held = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return { arrived: arrivedPromise, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const TRACE_B = '0af7651916cd43dd8448eb211c80319c';
const PARENT_B = 'b7ad6b7169203331';
const TRACE_C = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_C = '00f067aa0ba902b7';

/** The OTEL_* variables a test sets, put back afterwards (the exporter reads them when built). */
function setEnv(values: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

describe('which OTEL_* settings turn tracing on', () => {
  it('is off when no OTEL_* variable is set, so the SDK is never loaded', async () => {
    expect(tracingChoice({})).toEqual({ enabled: false });
    expect(tracingChoice({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ', PATH: '/bin' })).toEqual({ enabled: false });
    const restore = setEnv({});
    const otel = Object.keys(process.env).filter((name) => name.startsWith('OTEL_'));
    const saved = Object.fromEntries(otel.map((name) => [name, process.env[name]]));
    for (const name of otel) delete process.env[name];
    try {
      await expect(startTracing(logger)).resolves.toBeUndefined();
    } finally {
      Object.assign(process.env, saved);
      restore();
    }
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, ['otlp']],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, ['otlp']],
    [{ OTEL_SERVICE_NAME: 'embedder-proxy' }, ['otlp']],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }, ['otlp']],
    [{ OTEL_TRACES_EXPORTER: 'console' }, ['console']],
    [{ OTEL_TRACES_EXPORTER: 'otlp, console,otlp' }, ['otlp', 'console']],
  ])('is on for %j', (env, exporters) => {
    expect(tracingChoice(env)).toEqual({ enabled: true, exporters, warnings: [] });
  });

  it.each([
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' },
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' },
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' },
    { OTEL_TRACES_EXPORTER: 'zipkin' },
  ])('is off for %j', (env) => {
    expect(tracingChoice(env)).toEqual({ enabled: false });
  });

  it('warns about what it cannot do', () => {
    const choice = tracingChoice({ OTEL_TRACES_EXPORTER: 'otlp,jaeger', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(choice.enabled && choice.warnings).toEqual([expect.stringContaining('"jaeger" is not supported'), expect.stringContaining('not grpc')]);
    expect(tracingChoice({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toEqual({
      enabled: true,
      exporters: ['otlp'],
      warnings: [],
    });
  });
});

describe('tracing off', () => {
  it('sends merged calls upstream without trace context, and passes a client traceparent through as before', async () => {
    const upstream = await startUpstream();
    const restore = setEnv({ OTEL_SDK_DISABLED: 'true', OTEL_SERVICE_NAME: 'ignored' });
    const proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, logger });
    try {
      const traceparent = `00-${TRACE_B}-${PARENT_B}-01`;
      expect((await post(proxy.url, '/embed', { inputs: 'hello' }, { traceparent })).status).toBe(200);
      expect((await send(proxy.url, '/info', { headers: { traceparent } })).status).toBe(200);
      const embed = upstream.calls.filter((call) => call.url === '/embed');
      expect(embed).toHaveLength(1);
      expect(embed[0]!.traceparent).toBeUndefined();
      expect(upstream.calls.at(-1)).toMatchObject({ url: '/info', traceparent });
    } finally {
      await proxy.close();
      restore();
      await upstream.close();
    }
  });
});

describe('tracing on, collector down', () => {
  it('answers clients as usual and stops cleanly, the spans lost', async () => {
    const upstream = await startUpstream();
    const restore = setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_BSP_SCHEDULE_DELAY: '20' });
    try {
      const proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, logger });
      const reply = await post(proxy.url, '/embed', { inputs: ['a', 'b'] });
      expect(reply.status).toBe(200);
      expect(reply.json()).toEqual([[1], [1]]);
      // The upstream still gets the call's context: tracing is on, only the export fails.
      expect(upstream.calls.find((call) => call.url === '/embed')?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      await expect(proxy.close()).resolves.toBeUndefined();
    } finally {
      restore();
      await upstream.close();
    }
  });
});

describe('tracing on (OTLP/HTTP to a local receiver)', () => {
  let receiver: OtlpReceiver;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: RunningProxy | undefined;
  let restore: () => void;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startUpstream();
    restore = setEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'autobatch-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '20',
    });
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    receiver.spans.length = 0;
    upstream.calls.length = 0;
  });
  afterAll(async () => {
    restore();
    await upstream.close();
    await receiver.close();
  });

  const spanById = (id: string): ReceivedSpan | undefined => receiver.spans.find((span) => span.spanId === id);

  it('gives each request a span in its client trace and the merged call one span that links to them all', async () => {
    proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, logger, maxInflight: 1, maxWaitMs: 0 });
    // A first call held at the upstream keeps the only in-flight slot: the next three queue and merge.
    const hold = upstream.holdNextEmbed();
    const first = post(proxy.url, '/embed', { inputs: 'first' });
    await hold.arrived;
    const answers = [
      post(proxy.url, '/embed', { inputs: 'bee' }, { traceparent: `00-${TRACE_B}-${PARENT_B}-01` }),
      post(proxy.url, '/embed', { inputs: ['sea', 'sky'] }, { traceparent: `00-${TRACE_C}-${PARENT_C}-01` }),
      post(proxy.url, '/embed', { inputs: 'dee' }),
    ];
    while (proxy.queuedItems < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    hold.release();
    const replies = await Promise.all([first, ...answers]);
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
    expect(replies.map((reply) => reply.headers['x-autobatch-batch-size'])).toEqual(['1', '4', '4', '4']);
    await proxy.close();
    proxy = undefined;
    expect(receiver.errors).toEqual([]);

    const requestSpans = receiver.spans.filter((span) => span.kind === 2);
    const callSpans = receiver.spans.filter((span) => span.kind === 3);
    expect(requestSpans).toHaveLength(4);
    expect(callSpans).toHaveLength(2);
    for (const span of receiver.spans) expect(span.serviceName).toBe('autobatch-under-test');

    // Each request span continues its client's trace, or starts one.
    const bee = requestSpans.find((span) => span.traceId === TRACE_B)!;
    const sea = requestSpans.find((span) => span.traceId === TRACE_C)!;
    expect(bee.parentSpanId).toBe(PARENT_B);
    expect(sea.parentSpanId).toBe(PARENT_C);
    const rootless = requestSpans.filter((span) => span.parentSpanId === undefined);
    expect(rootless).toHaveLength(2);
    expect(new Set(requestSpans.map((span) => span.traceId)).size).toBe(4);
    expect(sea.name).toBe('POST /embed');
    expect(sea.attributes).toMatchObject({
      'http.route': '/embed',
      'http.response.status_code': 200,
      'autobatch.inputs': 2,
      'autobatch.batch_size': 4,
      'autobatch.calls': 1,
    });
    expect(sea.attributes['autobatch.queue_ms']).toBeGreaterThan(0);

    // The merged call: a trace of its own, linked to exactly the three requests it carried.
    const merged = callSpans.find((span) => span.attributes['autobatch.batch_size'] === 4)!;
    expect(merged.parentSpanId).toBeUndefined();
    expect(requestSpans.map((span) => span.traceId)).not.toContain(merged.traceId);
    expect(merged.attributes).toMatchObject({ 'autobatch.requests': 3, 'http.response.status_code': 200, 'server.address': '127.0.0.1' });
    const carried = requestSpans.filter((span) => span.spanId !== rootless.find((r) => r.attributes['autobatch.batch_size'] === 1)?.spanId);
    expect(carried).toHaveLength(3);
    expect(merged.links.map((link) => `${link.traceId}/${link.spanId}`).sort()).toEqual(
      carried.map((span) => `${span.traceId}/${span.spanId}`).sort(),
    );
    // ...and each request links back to the call that carried it.
    for (const span of carried) expect(span.links).toEqual([{ traceId: merged.traceId, spanId: merged.spanId }]);

    // The upstream got each call's own context, so its spans hang under the call.
    const embedCalls = upstream.calls.filter((call) => call.url === '/embed');
    const mergedCall = embedCalls.find((call) => Array.isArray(call.inputs) && call.inputs.length === 4)!;
    expect(mergedCall.traceparent).toBe(`00-${merged.traceId}-${merged.spanId}-01`);
    const firstCall = embedCalls.find((call) => call.inputs === 'first' || (Array.isArray(call.inputs) && call.inputs[0] === 'first'))!;
    const firstSpan = callSpans.find((span) => span !== merged)!;
    expect(firstCall.traceparent).toBe(`00-${firstSpan.traceId}-${firstSpan.spanId}-01`);
    expect(spanById(firstSpan.links[0]!.spanId)?.attributes['autobatch.batch_size']).toBe(1);
  });

  it('says why the proxy refused a request, and marks a failed call as an error', async () => {
    proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, logger, maxInflight: 1, maxWaitMs: 0, maxQueue: 1 });
    const hold = upstream.holdNextEmbed();
    const first = post(proxy.url, '/embed', { inputs: 'first' });
    await hold.arrived;
    const queued = post(proxy.url, '/embed', { inputs: 'second' });
    while (proxy.queuedItems < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const refused = await post(proxy.url, '/embed', { inputs: 'third' }, { traceparent: `00-${TRACE_B}-${PARENT_B}-01` });
    expect(refused.status).toBe(429);
    hold.release();
    expect((await first).status).toBe(200);
    expect((await queued).status).toBe(200);
    await proxy.close();
    proxy = undefined;

    const span = receiver.spans.find((span) => span.traceId === TRACE_B)!;
    expect(span.attributes).toMatchObject({ 'http.response.status_code': 429, 'autobatch.inputs': 1, 'autobatch.rejected': 'queue-full' });
    expect(span.attributes['autobatch.batch_size']).toBeUndefined();
    // A 4xx is the client's to handle, not a server error.
    expect(span.statusCode).toBe(0);
    // The refused request rode no call.
    expect(span.links).toEqual([]);
  });

  it('marks a call the upstream could not take as an error, on both spans', async () => {
    // Nothing listens on port 9: the call fails after its retries, and the client gets a 502.
    const closed = 'http://127.0.0.1:9';
    proxy = await startProxy({ upstream: closed, host: '127.0.0.1', port: 0, logger, maxBatchSize: 4 });
    const reply = await post(proxy.url, '/embed', { inputs: 'x' }, { traceparent: `00-${TRACE_C}-${PARENT_C}-01` });
    expect(reply.status).toBe(502);
    await proxy.close();
    proxy = undefined;

    const requestSpan = receiver.spans.find((span) => span.kind === 2 && span.traceId === TRACE_C)!;
    const callSpan = receiver.spans.find((span) => span.kind === 3)!;
    expect(requestSpan.attributes['http.response.status_code']).toBe(502);
    expect(requestSpan.statusCode).toBe(2);
    expect(callSpan.statusCode).toBe(2);
    expect(callSpan.attributes).toMatchObject({ 'error.type': '502', 'autobatch.blame': 'call', 'server.port': 9 });
    expect(callSpan.attributes['http.request.resend_count']).toBeGreaterThan(0);
    expect(callSpan.links).toEqual([{ traceId: TRACE_C, spanId: requestSpan.spanId }]);
  });

  it("keeps a pass-through request's traceparent, and sends a body replayed alone under its request span", async () => {
    proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, logger });
    const passthroughParent = `00-${TRACE_B}-${PARENT_B}-01`;
    expect((await send(proxy.url, '/info', { headers: { traceparent: passthroughParent } })).status).toBe(200);
    expect(upstream.calls.at(-1)).toMatchObject({ url: '/info', traceparent: passthroughParent });

    // Not JSON: the proxy sends the client's own body alone, and the upstream's refusal comes back.
    const refused = await send(proxy.url, '/embed', {
      raw: '{"inputs": nope',
      headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_C}-${PARENT_C}-01` },
    });
    expect(refused.status).toBe(422);
    const replayed = upstream.calls.at(-1)!;
    expect(replayed.url).toBe('/embed');
    await proxy.close();
    proxy = undefined;

    const requestSpan = receiver.spans.find((span) => span.kind === 2 && span.traceId === TRACE_C && span.parentSpanId === PARENT_C)!;
    expect(requestSpan.attributes['http.response.status_code']).toBe(422);
    expect(requestSpan.statusCode).toBe(0);
    expect(replayed.traceparent).toBe(`00-${TRACE_C}-${requestSpan.spanId}-01`);
    // Pass-through requests get no span of their own: the upstream's span is the client's child.
    expect(receiver.spans.filter((span) => span.attributes['url.path'] === '/info')).toEqual([]);
  });
});
