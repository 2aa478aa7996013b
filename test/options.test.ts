/**
 * Defaults are applied in one step (withDefaults in src/options.ts), for the CLI and the library
 * alike: what is given is kept, what is missing takes DEFAULTS, and the deprecated `timeoutMs`
 * still sets the queue deadline unless `queueTimeoutMs` is given too.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, withDefaults } from '../src/options.js';

describe('withDefaults', () => {
  it('fills every missing setting from DEFAULTS and leaves the upstream-derived ones unset', () => {
    expect(withDefaults({ upstream: 'http://127.0.0.1:8080' })).toEqual({
      upstream: 'http://127.0.0.1:8080',
      host: DEFAULTS.host,
      port: DEFAULTS.port,
      maxWaitMs: DEFAULTS.maxWaitMs,
      maxBatchSize: undefined,
      maxBatchBytes: DEFAULTS.maxBatchBytes,
      // Unset: learned by the dispatch policy (src/core/policy/).
      maxInflight: undefined,
      maxQueue: DEFAULTS.maxQueue,
      maxBodyBytes: DEFAULTS.maxBodyBytes,
      upstreamTimeoutMs: DEFAULTS.upstreamTimeoutMs,
      queueTimeoutMs: DEFAULTS.queueTimeoutMs,
      clientTimeoutMs: DEFAULTS.clientTimeoutMs,
      shutdownTimeoutMs: DEFAULTS.shutdownTimeoutMs,
      bucketByLength: undefined,
      routes: [],
      maxMemoryBytes: DEFAULTS.maxMemoryBytes,
      forwardHeader: [],
      upstreamCa: undefined,
      dnsRefreshMs: undefined,
      dnsServer: undefined,
    });
  });

  it('keeps every given value, zeros included', () => {
    const given = {
      upstream: ['http://a:1', 'http://b:2'],
      host: '127.0.0.1',
      port: 0,
      maxWaitMs: 0,
      maxBatchSize: 8,
      maxBatchBytes: 1000,
      maxInflight: 4,
      maxQueue: 5,
      maxBodyBytes: 2000,
      upstreamTimeoutMs: 1,
      queueTimeoutMs: 2,
      clientTimeoutMs: 3,
      shutdownTimeoutMs: 4,
      bucketByLength: 2,
      routes: [{ path: '/v2/encode', field: 'texts' }],
      maxMemoryBytes: 1_000_000,
      forwardHeader: ['x-api-key'],
      upstreamCa: '/etc/ca.pem',
      dnsRefreshMs: 5000,
      dnsServer: '127.0.0.1:53',
    };
    expect(withDefaults(given)).toEqual(given);
  });

  it('takes the deprecated timeoutMs as the queue deadline, and queueTimeoutMs over it', () => {
    expect(withDefaults({ upstream: 'http://u', timeoutMs: 7 }).queueTimeoutMs).toBe(7);
    expect(withDefaults({ upstream: 'http://u', timeoutMs: 7, queueTimeoutMs: 9 }).queueTimeoutMs).toBe(9);
    expect(withDefaults({ upstream: 'http://u', timeoutMs: 7 })).not.toHaveProperty('timeoutMs');
  });
});
