/**
 * Tracing with the OpenTelemetry SDK: loaded only by startTracing (./tracing.ts), and only when the
 * OTEL_* environment asks for traces, so a proxy without tracing never loads any of it.
 *
 * How a merged call is modelled (OpenTelemetry's own model for batching): each client request has
 * a server span in the client's trace; each upstream call has a client span that starts a trace of
 * its own and LINKS to the span of every request it carries. A call belongs to several traces at
 * once, so it cannot be the child of any one of them; the links make it reachable from each, and
 * each request span links back to the calls that carried it. The call's context goes upstream in
 * `traceparent`, so TEI's own spans hang under the call.
 *
 * The provider is this proxy's own, not registered globally: several proxies in one process (the
 * library API, tests) each export their own spans, and an application that embeds autobatch keeps
 * its own global OpenTelemetry setup. Contexts are passed explicitly, never taken from the
 * "active" context, which inside the batching core would be whichever request happened to pump it.
 */
import {
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  diag,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { VERSION } from '../version.js';
import type { CallSpan, RequestSpan, SpanExporterName, Tracing } from './tracing.js';

const propagator = new W3CTraceContextPropagator();

/** Longest a stopping proxy waits for its last spans to reach the collector. */
const SHUTDOWN_FLUSH_MS = 2000;

function headersOf(span: Span): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
  return headers;
}

/** Server spans are errors for 5xx only: a 4xx is the client's mistake, answered correctly. */
function endWithStatus(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * A client request's span; also the job's tag in the core. The core hands tags back untyped, so
 * a call recognises the spans among them by class (nothing else is ever a tag).
 */
class OtelRequestSpan implements RequestSpan {
  constructor(readonly span: Span) {}

  get tag(): unknown {
    return this;
  }

  recordOutcome(inputs: number, outcome: Parameters<RequestSpan['recordOutcome']>[1]): void {
    const attributes: Attributes = { 'autobatch.inputs': inputs };
    if (outcome.status === 'rejected') {
      attributes['autobatch.rejected'] = outcome.reason;
    } else {
      attributes['autobatch.queue_ms'] = outcome.stats.queueMs;
      attributes['autobatch.batch_size'] = outcome.stats.batchSize;
      attributes['autobatch.calls'] = outcome.stats.calls;
    }
    this.span.setAttributes(attributes);
  }

  propagationHeaders(): Readonly<Record<string, string>> {
    return headersOf(this.span);
  }
}

class OtelCallSpan implements CallSpan {
  readonly headers: Readonly<Record<string, string>>;
  private tries = 0;

  constructor(private readonly span: Span) {
    this.headers = headersOf(span);
  }

  sentTo(url: URL): void {
    this.tries++;
    this.span.setAttributes({
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'http.request.resend_count': this.tries - 1,
    });
  }

  end(outcome: Parameters<CallSpan['end']>[0]): void {
    const span = this.span;
    if ('thrown' in outcome) {
      span.recordException(outcome.thrown instanceof Error ? outcome.thrown : String(outcome.thrown));
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the call could not be made' });
    } else if (outcome.ok) {
      span.setAttribute('http.response.status_code', 200);
    } else {
      const failure = outcome.failure;
      span.setAttributes({ 'autobatch.blame': outcome.blame, 'error.type': String(failure.status) });
      if (failure.kind === 'upstream') {
        span.setAttribute('http.response.status_code', failure.status);
        span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        // The proxy's own verdict (unreachable, timed out, answer that does not split): no upstream status.
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      }
    }
    span.end();
  }
}

/** OpenTelemetry's own warnings (an exporter that cannot reach its collector, say) go to the proxy's log. */
function routeDiagnostics(log: Logger): void {
  diag.setLogger(
    {
      error: (message, ...args) => log.warn({ args }, `OpenTelemetry: ${message}`),
      warn: (message, ...args) => log.warn({ args }, `OpenTelemetry: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

export function createOtelTracing(exporterNames: readonly SpanExporterName[], log: Logger): Tracing {
  routeDiagnostics(log);
  // Ours first, then what the environment says (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) wins.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'autobatch', 'service.version': VERSION }))
    .merge(detectResources({ detectors: [envDetector] }));
  // Endpoint, headers, timeout and compression come from OTEL_EXPORTER_OTLP_*; sampler and
  // limits from OTEL_TRACES_SAMPLER(_ARG) and OTEL_SPAN_*; batching from OTEL_BSP_*.
  const exporters: SpanExporter[] = exporterNames.map((name) => (name === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter()));
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: exporters.map((exporter) => new BatchSpanProcessor(exporter)),
  });
  const tracer = provider.getTracer('autobatch', VERSION);

  return {
    startRequest(route, request, response) {
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        `POST ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': 'POST', 'http.route': route, 'url.path': request.url ?? route },
        },
        parent,
      );
      // 'close' comes after the answer is written, or when the client went away first (499, as
      // the proxy's metrics count it).
      response.once('close', () => endWithStatus(span, response.headersSent ? response.statusCode : 499));
      return new OtelRequestSpan(span);
    },

    startCall(route, items, tags) {
      const riders: OtelRequestSpan[] = [];
      for (const tag of tags) if (tag instanceof OtelRequestSpan) riders.push(tag);
      const span = tracer.startSpan(
        `POST ${route}`,
        {
          kind: SpanKind.CLIENT,
          root: true,
          links: riders.map((rider) => ({ context: rider.span.spanContext() })),
          attributes: {
            'http.request.method': 'POST',
            'http.route': route,
            'autobatch.batch_size': items,
            'autobatch.requests': riders.length,
          },
        },
        ROOT_CONTEXT,
      );
      const callContext = span.spanContext();
      for (const rider of riders) rider.span.addLink({ context: callContext });
      return new OtelCallSpan(span);
    },

    // Spans that cannot be delivered now are lost, never a reason for the proxy to stop badly or
    // late: the exporter retries a collector that is down for up to its 10 s timeout.
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<'cut'>((resolve) => {
        timer = setTimeout(() => resolve('cut'), SHUTDOWN_FLUSH_MS);
        timer.unref();
      });
      const flushed = provider.shutdown().then(
        () => 'sent' as const,
        (error: unknown) => {
          log.warn({ err: error }, 'OpenTelemetry: the last spans could not be sent');
          return 'failed' as const;
        },
      );
      const result = await Promise.race([flushed, cut]);
      clearTimeout(timer);
      if (result === 'cut') log.warn({ waitedMs: SHUTDOWN_FLUSH_MS }, 'OpenTelemetry: stopped without sending the last spans');
    },
  };
}
