/**
 * Starts a proxy: reads the upstream's limits, builds the batching core, the upstream client,
 * the pass-through and the server, and wires them together. The CLI and the library API both
 * come through here.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import { Batcher } from './core/batcher.js';
import { ByteBudget } from './core/byte-budget.js';
import { systemClock, type Clock } from './core/clock.js';
import { createDispatchPolicy } from './core/policy/create-policy.js';
import type { PolicySnapshot } from './core/policy/dispatch-policy.js';
import type { ProxyBatcher } from './http/batch-handler.js';
import { HeapPressure } from './http/heap-pressure.js';
import { createPassthrough } from './http/passthrough.js';
import { createProxyHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { ProxyMetrics } from './metrics.js';
import { DEFAULTS, SettingsError, withDefaults, type SettingsInput } from './options.js';
import { forwardedHeaderNames } from './routes/batch-key.js';
import { ruleTable } from './routes/registry.js';
import { rootTaskOf, type RootTask } from './routes/root-routes.js';
import { isPlainObject } from './routes/rule.js';
import { startTracing } from './telemetry/tracing.js';
import { proxyFailure } from './upstream/call-failure.js';
import { describeError, type UpstreamClient } from './upstream/client.js';
import { createResolve, dnsServerProblem } from './upstream/discovery.js';
import { createExecutor } from './upstream/executor.js';
import { ReplicaSet, type Replica } from './upstream/replicas.js';

/**
 * Bodies sent to an upstream alone at once (bad bodies, and errors whose text must be the
 * client's own; see replayAlone in src/http/batch-handler.ts). Enough that every client of a
 * misbehaving key gets the upstream's exact words in practice; few enough that a flood of bad
 * bodies cannot swamp the upstream past the batching core's own in-flight limit.
 */
const REPLAYS_PER_UPSTREAM = 16;

const LISTEN_BACKLOG = 4096;

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

export interface StartOptions extends SettingsInput {
  logger?: Logger;
  clock?: Clock;
}

interface UpstreamInfo {
  maxClientBatchSize: number | undefined;
  /** What TEI's root routes (POST /, /invocations) serve, from `model_type`. */
  rootTask: RootTask | undefined;
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
    return {
      maxClientBatchSize: typeof size === 'number' && Number.isInteger(size) && size > 0 ? size : undefined,
      rootTask: rootTaskOf(info),
    };
  } catch (error) {
    log.warn({ error: describeError(error) }, 'upstream /info could not be read');
    return undefined;
  }
}

export async function startProxy(options: StartOptions): Promise<RunningProxy> {
  const settings = withDefaults(options);
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
  if (settings.dnsRefreshMs !== undefined && !(settings.dnsRefreshMs > 0 && Number.isFinite(settings.dnsRefreshMs))) {
    throw new SettingsError(`dnsRefreshMs: expected a number of milliseconds above 0, got ${settings.dnsRefreshMs}`);
  }
  const dnsProblem = settings.dnsServer === undefined ? undefined : dnsServerProblem(settings.dnsServer);
  if (dnsProblem !== undefined) throw new SettingsError(`--dns-server: ${dnsProblem}`);
  if (settings.dnsServer !== undefined && settings.dnsRefreshMs === undefined) {
    throw new SettingsError('--dns-server is used by DNS discovery only: give --dns-refresh-ms too');
  }

  let ca: string[] | undefined;
  if (settings.upstreamCa !== undefined) {
    try {
      // Added to Node's own roots, not instead of them: one proxy may reach public and private hosts.
      ca = [...rootCertificates, readFileSync(settings.upstreamCa, 'utf8')];
    } catch (error) {
      throw new SettingsError(`--upstream-ca: cannot read "${settings.upstreamCa}": ${describeError(error)}`);
    }
  }

  // Replicas join and leave with DNS discovery: the core keeps maxInflight calls in flight and a
  // staging slot for each (at least one replica's worth, so calls made while none is known fail
  // through the executor's retries rather than wait forever).
  let onReplicasChanged: (count: number) => void = () => undefined;
  let onReplicaJoined: (replica: Replica) => void = () => undefined;
  const replicas = new ReplicaSet({
    urls: upstreamUrls,
    connections: (settings.maxInflight ?? DEFAULTS.maxLearnedInflight) + 2,
    timeoutMs: settings.upstreamTimeoutMs,
    ca,
    healthIntervalMs: 2000,
    log,
    discovery: settings.dnsRefreshMs === undefined ? undefined : { refreshMs: settings.dnsRefreshMs, resolve: createResolve(settings.dnsServer) },
    onChange: (count) => onReplicasChanged(count),
    onJoin: (replica) => onReplicaJoined(replica),
  });
  await replicas.start();
  const replicaCount = (): number => Math.max(1, replicas.replicas.length);
  // Replicas serve one model; the smallest limit any of them states binds them all.
  const infos = await Promise.all(replicas.replicas.map((replica) => readUpstreamInfo(replica.client, log)));
  const limits = infos.map((info) => info?.maxClientBatchSize).filter((size): size is number => size !== undefined);
  const upstreamLimit = limits.length > 0 ? Math.min(...limits) : undefined;
  // Replicas serve one model: root routes are batched only when every replica says what they serve.
  const rootTasks = new Set(infos.map((info) => info?.rootTask));
  const rootTask = rootTasks.size === 1 ? [...rootTasks][0] : undefined;
  const rules = ruleTable(settings.routes, rootTask);
  const forwardHeaders = forwardedHeaderNames(settings.forwardHeader);
  let maxBatchSize = settings.maxBatchSize;
  if (maxBatchSize === undefined) {
    maxBatchSize = upstreamLimit ?? DEFAULTS.fallbackMaxBatchSize;
  } else if (upstreamLimit !== undefined && maxBatchSize > upstreamLimit) {
    await replicas.close();
    throw new SettingsError(
      `--max-batch-size ${maxBatchSize} is above what the upstream accepts (max_client_batch_size ${upstreamLimit} in its /info)`,
    );
  }

  if (!(Number.isSafeInteger(settings.maxMemoryBytes) && settings.maxMemoryBytes >= settings.maxBodyBytes)) {
    await replicas.close();
    throw new SettingsError(
      `--max-memory-bytes ${settings.maxMemoryBytes} must be a whole number of bytes at least --max-body-bytes (${settings.maxBodyBytes}), or no body that size could ever come in`,
    );
  }
  const memoryBudget = new ByteBudget(settings.maxMemoryBytes);

  // Off unless the OTEL_* environment asks for traces; then the SDK is loaded here, lazily.
  const tracing = await startTracing(log);

  const clock = options.clock ?? systemClock;
  // Every value given pins it; all four given is a static setting (how a benchmark measures one).
  const pins = {
    maxInflight: settings.maxInflight,
    maxBatchSize: settings.maxBatchSize,
    bucketByLength: settings.bucketByLength,
    maxWaitMs: options.maxWaitMs,
  };
  const policy = createDispatchPolicy({
    replicas: replicaCount(),
    maxBatchSize,
    pins,
    defaultHoldMs: DEFAULTS.maxWaitMs,
    initialInflight: DEFAULTS.maxInflight,
    maxLearnedInflight: DEFAULTS.maxLearnedInflight,
    now: () => clock.now(),
    onDecision: (change) => log.info({ policy: change }, `dispatch policy: ${change.decision} ${String(change.from)} -> ${String(change.to)}`),
    timers: clock,
  });

  // The metrics' gauges read the batcher, which is built with the metrics: assigned once, below.
  // eslint-disable-next-line prefer-const
  let batcher: ProxyBatcher | undefined;
  const metrics = new ProxyMetrics({
    queuedItems: () => batcher?.queuedItems ?? 0,
    inflight: () => batcher?.inflight ?? 0,
    memoryHeldBytes: () => memoryBudget.held,
    replicas: () => replicas.statuses(),
    policy: () => policy.snapshot(),
  });
  batcher = new Batcher({
    limits: {
      maxBatchSize,
      maxBatchBytes: settings.maxBatchBytes,
      maxWaitMs: settings.maxWaitMs,
      maxInflight: (settings.maxInflight ?? DEFAULTS.maxInflight) * replicaCount(),
      stagingSlots: replicaCount(),
      maxQueue: settings.maxQueue,
      queueTimeoutMs: settings.queueTimeoutMs,
    },
    policy,
    executor: createExecutor(replicas, settings.upstreamTimeoutMs, undefined, undefined, memoryBudget, tracing),
    internalFailure: (message) => proxyFailure(502, 'Backend', message),
    clock,
    observer: {
      callStarted: (items) => metrics.batchSize.observe(items),
      callFinished: (_items, durationMs, ok) => metrics.upstreamDuration.observe({ outcome: ok ? 'ok' : 'error' }, durationMs / 1000),
    },
  });
  const activeBatcher = batcher;
  const replays = { active: 0, limit: REPLAYS_PER_UPSTREAM * replicaCount() };
  // A replica found later cannot lower the batch size in force: say so loudly, since its calls
  // of full batches will be refused.
  onReplicaJoined = (replica) =>
    void readUpstreamInfo(replica.client, log).then((info) => {
      const size = info?.maxClientBatchSize;
      if (size !== undefined && size < maxBatchSize) {
        log.warn(
          { upstream: replica.url.href, address: replica.address?.address, maxClientBatchSize: size, maxBatchSize },
          'a replica that joined accepts smaller batches than the proxy sends: set --max-batch-size to the smallest',
        );
      }
    });
  onReplicasChanged = () => {
    activeBatcher.setReplicas(replicaCount());
    replays.limit = REPLAYS_PER_UPSTREAM * replicaCount();
  };

  const passthrough = createPassthrough(
    () => replicas.pickForPassthrough(),
    settings.upstreamTimeoutMs,
    log,
    (status) => metrics.requests.inc({ route: 'passthrough', status: String(status) }),
  );
  const server = createProxyHttpServer({
    rules,
    batching: {
      batcher: activeBatcher,
      replay: (path, body, headers, traceHeaders) => {
        const replica = replicas.pick();
        if (replica === undefined) return Promise.reject(new Error('no replica of the upstream is known'));
        return replica.client.request('POST', path, { body, headers, traceHeaders });
      },
      forwardHeaders,
      metrics,
      log,
      maxBodyBytes: settings.maxBodyBytes,
      maxBatchBytes: settings.maxBatchBytes,
      queueTimeoutMs: settings.queueTimeoutMs,
      bucketFactor: (route) => policy.bucketFactor(route),
      replays,
      memory: { budget: memoryBudget, heap: new HeapPressure(log), writeTimeoutMs: settings.clientTimeoutMs },
      tracing,
    },
    own: { replicas, metrics, policy: () => ({ upstreams: upstreamUrls.map((url) => url.href), ...policy.snapshot() }) },
    passthrough,
    log,
    clientTimeoutMs: settings.clientTimeoutMs,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue (the kernel caps it at net.core.somaxconn): a burst of clients
    // connecting at once is accepted and answered (429 if need be) instead of waiting out SYN
    // retries, which would take them past their own timeouts (Node's default is 511).
    server.listen(settings.port, settings.host, LISTEN_BACKLOG, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await replicas.close();
    passthrough.close();
    await tracing?.shutdown();
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
      ...(settings.dnsRefreshMs === undefined
        ? {}
        : { replicas: replicas.replicas.map((replica) => replica.address?.address ?? replica.url.href), dnsRefreshMs: settings.dnsRefreshMs }),
      maxBatchSize,
      maxBatchSizeSource: settings.maxBatchSize !== undefined ? 'flag' : upstreamLimit !== undefined ? 'upstream /info' : 'fallback',
      maxWaitMs: settings.maxWaitMs,
      maxInflight: settings.maxInflight ?? 'adaptive',
      bucketByLength: settings.bucketByLength ?? 'adaptive',
      queueTimeoutMs: settings.queueTimeoutMs,
      maxMemoryBytes: settings.maxMemoryBytes,
      routes: [...rules.keys()],
      forwardHeaders,
    },
    'autobatch listening',
  );
  if (settings.maxBatchSize === undefined && upstreamLimit === undefined) {
    // OpenAI, vLLM, Ollama, infinity and LiteLLM have no TEI /info: the fallback may be far below what they take.
    log.warn(
      { maxBatchSize },
      `the upstream has no TEI /info (max_client_batch_size): each call carries at most ${maxBatchSize} inputs; ` +
        'raise it with --max-batch-size (AUTOBATCH_MAX_BATCH_SIZE) to what the upstream accepts (OpenAI: 2048 inputs per request)',
    );
  }

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
        await tracing?.shutdown();
      })();
      return closing;
    },
  };
}
