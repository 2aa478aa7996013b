/**
 * OpenTelemetry tracing, as the HTTP and upstream layers see it: whether it is on, and the few
 * calls they make when it is. It is configured only by the standard OTEL_* environment variables
 * (as TEI, the collector and every OpenTelemetry SDK are), and is off when none of them is set.
 *
 * This file is the part that always loads, so it imports nothing from OpenTelemetry: the SDK
 * (about 1 MB of JavaScript) is loaded with a dynamic import only when tracing is on. When it is
 * off, `startTracing` resolves to undefined and a request costs one `tracing?.` check.
 *
 * The batching core never sees any of this: a client request's span travels through it as the
 * job's opaque `tag`, and comes back with every call that carries the job (CallRequest.tags).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CallOutcome, JobOutcome } from '../core/batcher.js';
import type { CallFailure } from '../upstream/call-failure.js';

export interface Tracing {
  /**
   * Starts the span of one client request on a batched route, continuing the client's W3C
   * `traceparent` when it sends one. The span ends by itself when the response is done.
   */
  startRequest(route: string, request: IncomingMessage, response: ServerResponse): RequestSpan;
  /**
   * Starts the span of one upstream call. It links to the span of every client request it
   * carries (`tags`: the jobs' tags, as the core hands them over), and each of those spans links
   * back to it, so either trace leads to the other.
   */
  startCall(route: string, items: number, tags: readonly unknown[]): CallSpan;
  /** Sends the spans still buffered, and stops; never rejects (a collector that is down is logged). */
  shutdown(): Promise<void>;
}

export interface RequestSpan {
  /** Handed to the batching core with the job (JobRequest.tag). */
  readonly tag: unknown;
  /** What the core did with the job: inputs, time queued, batch size and calls, or why it was refused. */
  recordOutcome(inputs: number, outcome: JobOutcome<unknown, unknown>): void;
  /** Headers that carry this span upstream, for a body sent there alone (a replay). */
  propagationHeaders(): Readonly<Record<string, string>>;
}

export interface CallSpan {
  /** `traceparent` (and `tracestate`) for the upstream, so its own spans hang under this call. */
  readonly headers: Readonly<Record<string, string>>;
  /** One try of the call, on this replica (retries on another replica or later come here again). */
  sentTo(url: URL): void;
  end(outcome: CallOutcome<unknown, CallFailure> | { thrown: unknown }): void;
}

export type SpanExporterName = 'otlp' | 'console';

export type TracingChoice = { enabled: false } | { enabled: true; exporters: readonly SpanExporterName[]; warnings: readonly string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** Any of these, set, turns tracing on (OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true turn it off). */
const SWITCHES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_EXPORTER',
] as const;

/** The exporter package installed sends OTLP over HTTP as JSON (the only one that still runs on Node 20 here). */
const SENT_PROTOCOL = 'http/json';

function setting(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Reads the OTEL_* variables the way the OpenTelemetry SDKs do; pure, so tests need no process env. */
export function tracingChoice(env: Env): TracingChoice {
  if (setting(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { enabled: false };
  if (!SWITCHES.some((name) => setting(env, name) !== undefined)) return { enabled: false };
  const warnings: string[] = [];
  let exporters: SpanExporterName[] = ['otlp'];
  const named = setting(env, 'OTEL_TRACES_EXPORTER');
  if (named !== undefined) {
    exporters = [];
    for (const name of named.split(',').map((part) => part.trim().toLowerCase())) {
      if (name === 'none') return { enabled: false };
      if (name === 'otlp' || name === 'console') {
        if (!exporters.includes(name)) exporters.push(name);
      } else if (name !== '') {
        warnings.push(`OTEL_TRACES_EXPORTER: "${name}" is not supported (otlp, console or none); ignored`);
      }
    }
    if (exporters.length === 0) return { enabled: false };
  }
  const protocol = setting(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? setting(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (exporters.includes('otlp') && protocol !== undefined && protocol !== SENT_PROTOCOL) {
    warnings.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL: autobatch sends ${SENT_PROTOCOL}, not ${protocol} (an OTLP/HTTP receiver such as the collector's on port 4318 takes both)`,
    );
  }
  return { enabled: true, exporters, warnings };
}

/**
 * Tracing as the environment asks for it, or undefined when it is off. The SDK is loaded here,
 * and only when on. A failure to set it up costs the traces, never the proxy: it is logged and
 * the proxy runs untraced.
 */
export async function startTracing(log: Logger): Promise<Tracing | undefined> {
  // The SDK reads its settings (endpoint, sampler, limits) from process.env too: one source.
  const choice = tracingChoice(process.env);
  if (!choice.enabled) return undefined;
  for (const warning of choice.warnings) log.warn(warning);
  try {
    const { createOtelTracing } = await import('./otel-tracing.js');
    const tracing = createOtelTracing(choice.exporters, log);
    log.info({ exporters: choice.exporters }, 'OpenTelemetry tracing on');
    return tracing;
  } catch (error) {
    log.warn({ err: error }, 'OpenTelemetry tracing could not be set up; running without it');
    return undefined;
  }
}
