/** The proxy's settings and their defaults: one table shared by the CLI, its --help and the library. */
import type { CustomRouteSpec } from './routes/custom.js';

export interface ProxySettings {
  /** The upstream's base URL; several for replicas of one model. */
  upstream: string | readonly string[];
  host: string;
  port: number;
  /** Longest a request waits for batch-mates, from its own arrival. */
  maxWaitMs: number;
  /** Most inputs in one upstream call; undefined: the upstream's max_client_batch_size (32 if unknown). */
  maxBatchSize: number | undefined;
  /** Most bytes in one upstream call body. */
  maxBatchBytes: number;
  /** Most upstream calls in flight at once, per upstream replica; undefined: learned (docs/dispatch.md). */
  maxInflight: number | undefined;
  /** Most inputs queued in the proxy; beyond it, 429. */
  maxQueue: number;
  /** Largest client body accepted. */
  maxBodyBytes: number;
  /**
   * Most bytes held for clients at once (bodies, answers being read and written); beyond it new
   * requests get 429. See docs/memory.md.
   */
  maxMemoryBytes: number;
  /** Longest an upstream call may take. */
  upstreamTimeoutMs: number;
  /** Longest a client may take to send its request (headers and body); then 408. */
  clientTimeoutMs: number;
  /** Longest a request may wait in the queue without being sent; then 504. */
  queueTimeoutMs: number;
  /** On SIGTERM/SIGINT, longest to wait for queued and in-flight requests before exiting. */
  shutdownTimeoutMs: number;
  /**
   * Inputs share a call only with inputs whose length is within this factor (for upstreams that
   * pad a batch to its longest input); 'off': any lengths share a call; undefined: learned (on,
   * with the cheapest factor, only when the upstream is measured to pad).
   */
  bucketByLength: number | 'off' | undefined;
  /**
   * Resolve each upstream's host name to all its addresses, one replica each, again this often
   * (DNS discovery, e.g. a Kubernetes headless Service); undefined: the URLs as given.
   */
  dnsRefreshMs: number | undefined;
  /** The DNS server (host:port) discovery asks; undefined: the system's resolver. */
  dnsServer: string | undefined;
  /** Extra batched routes (`--route`). */
  routes: CustomRouteSpec[];
  /**
   * Request headers sent on calls and part of the batch key, besides the default credentials
   * (Authorization, OpenAI-Organization, OpenAI-Project, api-key): `--forward-header`.
   */
  forwardHeader: string[];
  /** A PEM file of certificate authorities trusted for https upstreams, besides the usual ones. */
  upstreamCa: string | undefined;
}

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 3000,
  maxWaitMs: 5,
  /** Used only when the upstream's /info cannot be read. */
  fallbackMaxBatchSize: 32,
  // TEI refuses bodies over 2,000,000 bytes (--payload-limit); stay clear of it.
  maxBatchBytes: 1_900_000,
  /**
   * Calls in flight per replica where the adaptive policy starts, and its floor (one running call,
   * one staged full batch): the value before it was learned, when this was a static default.
   */
  maxInflight: 2,
  /** Ceiling of the learned in-flight limit, per replica. */
  maxLearnedInflight: 16,
  maxQueue: 10_000,
  maxBodyBytes: 2_000_000,
  // Keeps RSS under 768 MB whatever clients send: issue 12's flood (1,500 clients of 1.5 MB) peaked
  // at 626 MB with it, most of it V8's uncollected garbage; answers may add up to the budget again
  // (docs/memory.md).
  maxMemoryBytes: 100_000_000,
  upstreamTimeoutMs: 60_000,
  queueTimeoutMs: 30_000,
  shutdownTimeoutMs: 30_000,
  clientTimeoutMs: 60_000,
} as const;

/** What a caller may give: any setting but the upstream may be left out and takes its default. */
export interface SettingsInput extends Partial<Omit<ProxySettings, 'upstream'>> {
  upstream: string | readonly string[];
  /** @deprecated the old name of `queueTimeoutMs` (`--timeout-ms`); `queueTimeoutMs` wins when both are given. */
  timeoutMs?: number;
}

/**
 * Every setting, each given value kept and every other one its default, in one step: the CLI
 * (whose flags already carry these defaults) and the library both reach the proxy through here,
 * so a default cannot differ between them. `maxBatchSize`, `maxInflight` and `bucketByLength` stay
 * undefined when not given: their absence means "read the upstream's limit" and "learned by the
 * dispatch policy" (src/core/policy/).
 */
export function withDefaults(given: SettingsInput): ProxySettings {
  return {
    upstream: given.upstream,
    host: given.host ?? DEFAULTS.host,
    port: given.port ?? DEFAULTS.port,
    maxWaitMs: given.maxWaitMs ?? DEFAULTS.maxWaitMs,
    maxBatchSize: given.maxBatchSize,
    maxBatchBytes: given.maxBatchBytes ?? DEFAULTS.maxBatchBytes,
    maxInflight: given.maxInflight,
    maxQueue: given.maxQueue ?? DEFAULTS.maxQueue,
    maxBodyBytes: given.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    maxMemoryBytes: given.maxMemoryBytes ?? DEFAULTS.maxMemoryBytes,
    upstreamTimeoutMs: given.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs,
    queueTimeoutMs: given.queueTimeoutMs ?? given.timeoutMs ?? DEFAULTS.queueTimeoutMs,
    clientTimeoutMs: given.clientTimeoutMs ?? DEFAULTS.clientTimeoutMs,
    shutdownTimeoutMs: given.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
    bucketByLength: given.bucketByLength,
    dnsRefreshMs: given.dnsRefreshMs,
    dnsServer: given.dnsServer,
    routes: given.routes ?? [],
    forwardHeader: given.forwardHeader ?? [],
    upstreamCa: given.upstreamCa,
  };
}

/** A setting the upstream or the user made impossible; the CLI exits with status 2 on it. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}
