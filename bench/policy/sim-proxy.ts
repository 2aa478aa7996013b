/**
 * The proxy as the model runs it: the real batching core (src/core) on simulated time, fed the
 * way the HTTP batch handler feeds it (same batch key, length bucket and byte sizes for an
 * /embed request of one input), in front of a modelled upstream with a network round trip.
 *
 * A setting is either the shipped defaults (what `autobatch --upstream …` does with no tuning
 * flags) or a static one with every dispatch flag given, which is how the issue defines a point
 * of the grid. Building both through this one function keeps the comparison like for like.
 */
import { Batcher } from '../../src/core/batcher.js';
import { lengthBucket } from '../../src/core/length-bucket.js';
import type { DispatchPolicy, PolicySnapshot } from '../../src/core/policy/dispatch-policy.js';
import { createDispatchPolicy } from '../../src/core/policy/create-policy.js';
import { DEFAULTS } from '../../src/options.js';
import type { SimClock } from './sim-clock.js';
import { wordCount, type SimUpstream } from './upstream-models.js';

export interface StaticSetting {
  readonly maxInflight: number;
  readonly maxBatchSize: number;
  /** --bucket-by-length factor; undefined: off. */
  readonly bucketByLength: number | undefined;
  readonly maxWaitMs: number;
}

export type DispatchSetting = { readonly kind: 'defaults' } | ({ readonly kind: 'static' } & StaticSetting);

export const DEFAULT_SETTING: DispatchSetting = { kind: 'defaults' };

export function staticSetting(
  maxInflight: number,
  maxBatchSize: number,
  bucketByLength: number | undefined,
  maxWaitMs: number = DEFAULTS.maxWaitMs,
): DispatchSetting {
  return { kind: 'static', maxInflight, maxBatchSize, bucketByLength, maxWaitMs };
}

/** The flags that pin a setting, as a user types them. */
export function settingFlags(setting: DispatchSetting): string {
  if (setting.kind === 'defaults') return 'defaults (no tuning flags)';
  const buckets = setting.bucketByLength === undefined ? 'off' : String(setting.bucketByLength);
  return `--max-inflight ${setting.maxInflight} --max-batch-size ${setting.maxBatchSize} --bucket-by-length ${buckets} --max-wait-ms ${setting.maxWaitMs}`;
}

/** A short label for tables: inflight/batch/buckets. */
export function settingLabel(setting: DispatchSetting): string {
  if (setting.kind === 'defaults') return 'defaults';
  return `${setting.maxInflight}/${setting.maxBatchSize}/${setting.bucketByLength ?? 'off'}`;
}

export interface SimProxy {
  /** Sends one /embed input through the proxy; resolves when its answer leaves the proxy. */
  submit(text: string): Promise<boolean>;
  /** What the policy decided, when it can say (the adaptive policy); undefined otherwise. */
  decisions(): PolicySnapshot | undefined;
}

const ENVELOPE_BYTES = Buffer.byteLength('{"inputs":[]}');
const ROUTE = '/embed';
const KEY = `${ROUTE}\u0000{}\u0000`;

/**
 * The policy the proxy runs for these flags, from the factory src/proxy.ts uses: static when
 * every dispatch flag is given, adaptive with nothing pinned for the defaults (one upstream
 * whose /info gives max_client_batch_size 32).
 */
function policyFor(setting: DispatchSetting, upstream: SimUpstream, clock: SimClock): DispatchPolicy {
  const pins =
    setting.kind === 'static'
      ? {
          maxInflight: setting.maxInflight,
          maxBatchSize: Math.min(setting.maxBatchSize, upstream.model.maxClientBatchSize),
          bucketByLength: setting.bucketByLength ?? ('off' as const),
          maxWaitMs: setting.maxWaitMs,
        }
      : {};
  return createDispatchPolicy({
    replicas: 1,
    maxBatchSize: upstream.model.maxClientBatchSize,
    pins,
    defaultHoldMs: DEFAULTS.maxWaitMs,
    initialInflight: DEFAULTS.maxInflight,
    maxLearnedInflight: DEFAULTS.maxLearnedInflight,
    now: () => clock.now(),
  });
}

/**
 * The proxy's own CPU, one event loop: every request costs `requestMs` before the batcher sees it
 * (reading and parsing the body, splitting) and `replyMs` before its answer leaves (building the
 * response), one after another. Zero by default (the deterministic targets): the network round
 * trip stands in for it. With it, requests of a burst reach the batcher one by one, spread over
 * the burst's CPU time, as they do on a real machine (measured: ~0.2-0.3 ms per request on the
 * shared 2-core machine), which is what makes pipelining more calls pay there.
 */
class SimCpu {
  private busyUntil = 0;

  constructor(private readonly clock: SimClock) {}

  run(ms: number): Promise<void> {
    const now = this.clock.now();
    this.busyUntil = Math.max(now, this.busyUntil) + ms;
    const done = this.busyUntil - now;
    return new Promise((resolve) => this.clock.setTimer(resolve, done));
  }
}

/** What the proxy costs besides its batching: one network leg's delay, and its CPU per request. */
export interface ProxyCosts {
  /** Delay of one proxy-upstream leg (half a round trip, plus jitter if modelled). */
  readonly leg: () => number;
  /** CPU per request, two thirds on the way in and one third on the way out; 0: none. */
  readonly cpuMs?: number;
}

export function buildProxy(setting: DispatchSetting, clock: SimClock, upstream: SimUpstream, costs: ProxyCosts): SimProxy {
  const policy = policyFor(setting, upstream, clock);
  const cpu = new SimCpu(clock);
  const requestMs = ((costs.cpuMs ?? 0) * 2) / 3;
  const replyMs = (costs.cpuMs ?? 0) / 3;
  const batcher = new Batcher<null, string, null, string>({
    limits: {
      maxBatchSize: upstream.model.maxClientBatchSize,
      maxBatchBytes: DEFAULTS.maxBatchBytes,
      maxWaitMs: DEFAULTS.maxWaitMs,
      maxInflight: DEFAULTS.maxInflight,
      maxQueue: DEFAULTS.maxQueue,
      queueTimeoutMs: DEFAULTS.queueTimeoutMs,
    },
    policy,
    clock,
    internalFailure: (message) => message,
    executor: ({ items }) =>
      new Promise((resolve) => {
        // Half the proxy-upstream round trip there, the backend, half back.
        const words = items.map(wordCount);
        clock.setTimer(() => {
          void upstream.run(words).then(() => {
            clock.setTimer(() => resolve({ ok: true, answers: items.map(() => null) }), costs.leg());
          });
        }, costs.leg());
      }),
  });
  return {
    async submit(text) {
      // Not awaited when free: an extra microtask would reorder the deterministic runs' events.
      if (requestMs > 0) await cpu.run(requestMs);
      const itemBytes = [Buffer.byteLength(JSON.stringify(text)) + 1];
      // As src/http/batch-handler.ts keys a request: route, parameters, credentials, then the band.
      const factor = policy.bucketFactor(ROUTE);
      const key = factor === undefined ? KEY : `${KEY}\u0000len${lengthBucket(itemBytes[0]! - 1, factor)}`;
      const outcome = await batcher.submit({ key, route: ROUTE, group: null, items: [text], itemBytes, overheadBytes: ENVELOPE_BYTES });
      if (replyMs > 0) await cpu.run(replyMs);
      return outcome.status === 'ok';
    },
    decisions: () => (setting.kind === 'static' ? undefined : policy.snapshot()),
  };
}

/** One line of what a policy decided (GET /autobatch/policy's JSON, shortened for a table). */
export function summarizeDecisions(snapshot: PolicySnapshot): string {
  const tag = (source: string): string => (source === 'pinned' ? '' : source === 'learned' ? '' : ` (${source})`);
  const parts = [`in flight ${snapshot.inflightLimit.value}${tag(snapshot.inflightLimit.source)}`];
  for (const r of snapshot.routes) {
    const pads = r.pads.value === null ? 'pads ?' : r.pads.value ? 'pads' : 'no padding';
    parts.push(
      `batch ${r.batchSize.value}${tag(r.batchSize.source)}, buckets ${r.bucketFactor.value ?? 'off'}${tag(r.bucketFactor.source)}, hold ${r.holdMs.value} ms, ${pads}`,
    );
  }
  return parts.join('; ');
}
