/**
 * Starts a proxy: reads the upstream's limits, builds the batching core, the upstream client,
 * the pass-through and the server, and wires them together. The CLI and the library API both
 * come through here.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Batcher } from './core/batcher.js';
import { systemClock, type Clock } from './core/clock.js';
import { createDispatchPolicy } from './core/policy/create-policy.js';
import type { PolicySnapshot } from './core/policy/dispatch-policy.js';
import type { ProxyBatcher } from './http/batch-handler.js';
import { createPassthrough } from './http/passthrough.js';
import { createProxyHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { ProxyMetrics } from './metrics.js';
import { DEFAULTS, SettingsError, type ProxySettings } from './options.js';
import { ruleTable } from './routes/registry.js';
import { isPlainObject } from './routes/rule.js';
import { proxyFailure } from './upstream/call-failure.js';
import { describeError, type UpstreamClient } from './upstream/client.js';
import { createExecutor } from './upstream/executor.js';
import { ReplicaSet } from './upstream/replicas.js';

/**
 * Bodies sent to an upstream alone at once (bad bodies, and errors whose text must be the
 * client's own; see replayAlone in src/http/batch-handler.ts). Enough that every client of a
 * misbehaving key gets the upstream's exact words in practice; few enough that a flood of bad
 * bodies cannot swamp the upstream past the batching core's own in-flight limit.
 */
const REPLAYS_PER_UPSTREAM = 16;

export interface RunningProxy {
  /** Where the proxy listens, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  /** The batch size in force (given, or read from the upstream). */
  maxBatchSize: number;
  /** Inputs queued and calls in flight right now. */
  readonly queuedItems: number;
  readonly inflight: number;
  /** What the dispatch policy has learned and decided (as GET /autobatch/policy shows it). */
  policy(): PolicySnapshot;
  /** Stops accepting, sends what is queued, waits for calls in flight, and closes. */
  close(): Promise<void>;
}

export interface StartOptions extends Partial<Omit<ProxySettings, 'upstream'>> {
  upstream: string | readonly string[];
  /** @deprecated the old name of `queueTimeoutMs` (`--timeout-ms`); `queueTimeoutMs` wins when both are given. */
  timeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
}

interface UpstreamInfo {
  maxClientBatchSize: number | undefined;
}

async function readUpstreamInfo(client: UpstreamClient, log: Logger): Promise<UpstreamInfo | undefined> {
  try {
    const response = await client.request('GET', '/info', { timeoutMs: 5000 });
    if (response.status !== 200) {
      log.warn({ status: response.status }, 'upstream /info did not answer 200');
      return undefined;
    }
    const info: unknown = JSON.parse(response.body.toString('utf8'));
    const size = isPlainObject(info) ? info.max_client_batch_size : undefined;
    return { maxClientBatchSize: typeof size === 'number' && Number.isInteger(size) && size > 0 ? size : undefined };
  } catch (error) {
    log.warn({ error: describeError(error) }, 'upstream /info could not be read');
    return undefined;
  }
}

export async function startProxy(options: StartOptions): Promise<RunningProxy> {
  const settings: ProxySettings = {
    upstream: options.upstream,
    host: options.host ?? DEFAULTS.host,
    port: options.port ?? DEFAULTS.port,
    maxWaitMs: options.maxWaitMs ?? DEFAULTS.maxWaitMs,
    maxBatchSize: options.maxBatchSize,
    maxBatchBytes: options.maxBatchBytes ?? DEFAULTS.maxBatchBytes,
    maxInflight: options.maxInflight,
    maxQueue: options.maxQueue ?? DEFAULTS.maxQueue,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs,
    queueTimeoutMs: options.queueTimeoutMs ?? options.timeoutMs ?? DEFAULTS.queueTimeoutMs,
    clientTimeoutMs: options.clientTimeoutMs ?? DEFAULTS.clientTimeoutMs,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
    bucketByLength: options.bucketByLength,
    routes: options.routes ?? [],
  };
  if (
    settings.bucketByLength !== undefined &&
    settings.bucketByLength !== 'off' &&
    !(settings.bucketByLength > 1 && Number.isFinite(settings.bucketByLength))
  ) {
    throw new SettingsError(`bucketByLength: expected a factor above 1, got ${settings.bucketByLength}`);
  }
  const log = options.logger ?? createLogger('info', 'json');
  const upstreamUrls = (typeof settings.upstream === 'string' ? [settings.upstream] : settings.upstream).map((text) => {
    try {
      return new URL(text);
    } catch {
      throw new SettingsError(`--upstream: "${text}" is not a URL`);
    }
  });
  if (upstreamUrls.length === 0) throw new SettingsError('--upstream: at least one upstream URL is needed');

  const replicas = new ReplicaSet({
    urls: upstreamUrls,
    connections: (settings.maxInflight ?? DEFAULTS.maxLearnedInflight) + 2,
    timeoutMs: settings.upstreamTimeoutMs,
    healthIntervalMs: 2000,
    log,
  });
  // Replicas serve one model; the smallest limit any of them states binds them all.
  const infos = await Promise.all(replicas.replicas.map((replica) => readUpstreamInfo(replica.client, log)));
  const limits = infos.map((info) => info?.maxClientBatchSize).filter((size): size is number => size !== undefined);
  const upstreamLimit = limits.length > 0 ? Math.min(...limits) : undefined;
  let maxBatchSize = settings.maxBatchSize;
  if (maxBatchSize === undefined) {
    maxBatchSize = upstreamLimit ?? DEFAULTS.fallbackMaxBatchSize;
  } else if (upstreamLimit !== undefined && maxBatchSize > upstreamLimit) {
    await replicas.close();
    throw new SettingsError(
      `--max-batch-size ${maxBatchSize} is above what the upstream accepts (max_client_batch_size ${upstreamLimit} in its /info)`,
    );
  }

  const clock = options.clock ?? systemClock;
  const replicaCount = upstreamUrls.length;
  // Every value given pins it; all four given is a static setting (how a benchmark measures one).
  const pins = {
    maxInflight: settings.maxInflight,
    maxBatchSize: settings.maxBatchSize,
    bucketByLength: settings.bucketByLength,
    maxWaitMs: options.maxWaitMs,
  };
  const policy = createDispatchPolicy({
    replicas: replicaCount,
    maxBatchSize,
    pins,
    defaultHoldMs: DEFAULTS.maxWaitMs,
    initialInflight: DEFAULTS.maxInflight,
    maxLearnedInflight: DEFAULTS.maxLearnedInflight,
    now: () => clock.now(),
    onDecision: (change) => log.info({ policy: change }, `dispatch policy: ${change.decision} ${String(change.from)} -> ${String(change.to)}`),
  });

  let batcher: ProxyBatcher | undefined;
  const metrics = new ProxyMetrics({
    queuedItems: () => batcher?.queuedItems ?? 0,
    inflight: () => batcher?.inflight ?? 0,
    policy: () => policy.snapshot(),
  });
  batcher = new Batcher({
    limits: {
      maxBatchSize,
      maxBatchBytes: settings.maxBatchBytes,
      maxWaitMs: settings.maxWaitMs,
      maxInflight: (settings.maxInflight ?? DEFAULTS.maxInflight) * replicaCount,
      stagingSlots: replicaCount,
      maxQueue: settings.maxQueue,
      queueTimeoutMs: settings.queueTimeoutMs,
    },
    policy,
    executor: createExecutor(replicas, settings.upstreamTimeoutMs),
    internalFailure: (message) => proxyFailure(502, 'Backend', message),
    clock,
    observer: {
      callStarted: (items) => metrics.batchSize.observe(items),
      callFinished: (_items, durationMs, ok) =>
        metrics.upstreamDuration.observe({ outcome: ok ? 'ok' : 'error' }, durationMs / 1000),
    },
  });
  const activeBatcher = batcher;

  const passthrough = createPassthrough(() => replicas.pickForPassthrough().url, settings.upstreamTimeoutMs, log, (status) =>
    metrics.requests.inc({ route: 'passthrough', status: String(status) }),
  );
  const server = createProxyHttpServer({
    rules: ruleTable(settings.routes),
    batching: {
      batcher: activeBatcher,
      replay: (path, body, authorization) => replicas.pick()!.client.request('POST', path, { body, authorization }),
      metrics,
      log,
      maxBodyBytes: settings.maxBodyBytes,
      maxBatchBytes: settings.maxBatchBytes,
      queueTimeoutMs: settings.queueTimeoutMs,
      bucketFactor: (route) => policy.bucketFactor(route),
      replays: { active: 0, limit: REPLAYS_PER_UPSTREAM * upstreamUrls.length },
    },
    own: { replicas, metrics, policy: () => ({ upstreams: upstreamUrls.map((url) => url.href), ...policy.snapshot() }) },
    passthrough,
    log,
    clientTimeoutMs: settings.clientTimeoutMs,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await replicas.close();
    passthrough.close();
    const code = (error as { code?: string }).code;
    throw new SettingsError(`cannot listen on ${settings.host}:${settings.port}: ${code ?? describeError(error)}`);
  });
  const address = server.address() as AddressInfo;
  const shownHost = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  log.info(
    {
      url,
      upstreams: upstreamUrls.map((url) => url.href),
      maxBatchSize,
      maxBatchSizeSource: settings.maxBatchSize !== undefined ? 'flag' : upstreamLimit !== undefined ? 'upstream /info' : 'fallback',
      maxWaitMs: settings.maxWaitMs,
      maxInflight: settings.maxInflight ?? 'adaptive',
      bucketByLength: settings.bucketByLength ?? 'adaptive',
      queueTimeoutMs: settings.queueTimeoutMs,
      routes: [...ruleTable(settings.routes).keys()],
    },
    'autobatch listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    maxBatchSize,
    get queuedItems() {
      return activeBatcher.queuedItems;
    },
    get inflight() {
      return activeBatcher.inflight;
    },
    policy: () => policy.snapshot(),
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await activeBatcher.close();
        // Answered keep-alive connections turn idle only now; a client still sending a request
        // on one gets a short grace before the connection is cut.
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), 1000);
        await serverClosed;
        clearTimeout(grace);
        passthrough.close();
        await replicas.close();
      })();
      return closing;
    },
  };
}
