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
  /** Extra batched routes (`--route`). */
  routes: CustomRouteSpec[];
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
  upstreamTimeoutMs: 60_000,
  queueTimeoutMs: 30_000,
  shutdownTimeoutMs: 30_000,
  clientTimeoutMs: 60_000,
} as const;

/** A setting the upstream or the user made impossible; the CLI exits with status 2 on it. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}
